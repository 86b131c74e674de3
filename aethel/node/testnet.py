"""A local (or multi-machine) testnet: N validator homes, their processes, their status.

``aethel testnet init`` writes, under ``--dir DIR``::

    testnet.json    the nodes (id, home, peer and API addresses) and the load accounts' count
    accounts.json   the secret seeds of the funded load accounts (test money only)
    node-0/ ...     one home directory per validator (aethel/node/home.py)

Every validator listens on its own address (``--host``: one per node, or one for all; ``--listen``
to bind another address, such as 0.0.0.0 on a machine reached by its public one), so the same
directory, copied node by node, runs a testnet across machines. ``aethel testnet up`` starts one
``aethel node run`` process per home on this machine (each in its own session, its log in its
home), and :func:`stop_testnet` sends each SIGTERM (SIGKILL after a grace period). Process ids are
kept in ``pids.json`` with the command line they were started with, so ``down`` never signals a
process that is not one of this testnet's nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from aethel.consensus.validators import Validator, ValidatorSet
from aethel.economics import MIN_STAKE
from aethel.encoding import KeyPair, canonical_json, parse_canonical_json, to_hex
from aethel.errors import AethelError, UsageError
from aethel.node.home import (
    PROTOCOL_VERSIONS,
    NodeConfig,
    NodeKeys,
    bls_key_of,
    make_chain_spec,
    write_home,
)

TESTNET_FILE = "testnet.json"
ACCOUNTS_FILE = "accounts.json"
PIDS_FILE = "pids.json"
DEFAULT_DIR = "testnet"
#: Balance of every load account at genesis.
ACCOUNT_BALANCE = 10**12
#: The region table of a testnet's version-2 validator set when none is given (V2.10): one
#: region, the loopback, so every validator's nominal latency to every other is 0 ms.
LOOPBACK_REGIONS: tuple[tuple[str, ...], tuple[tuple[int, ...], ...]] = (("loopback",), ((0,),))


@dataclass(frozen=True, slots=True)
class Regions:
    """The regions a version-2 testnet declares (V2.10): names, the nominal one-way latency
    table between them (ms), and each node's region (one per node, in node order)."""

    names: tuple[str, ...]
    latency_ms: tuple[tuple[int, ...], ...]
    of_node: tuple[str, ...]


#: The nominal one-way latency (ms) within one region of ``--regions``.
WITHIN_REGION_MS = 1
#: The default nominal one-way latency (ms) between two regions of ``--regions``.
BETWEEN_REGIONS_MS = 50


def round_robin_regions(
    names: list[str], validators: int, between_ms: int = BETWEEN_REGIONS_MS
) -> Regions:
    """Return the regions of ``aethel testnet init --regions``: validator i (node order) is in
    ``names[i mod len(names)]``; the set's table declares WITHIN_REGION_MS within a region and
    ``between_ms`` between any two (V2.10: the table decides who collects, never safety)."""
    if not names or any(not name or name != name.strip() for name in names):
        raise UsageError("--regions takes one or more non-empty region names")
    if type(between_ms) is not int or between_ms < 0:
        raise UsageError("--region-latency is an integer >= 0 (ms)")
    distinct = tuple(dict.fromkeys(names))
    latency = tuple(
        tuple(WITHIN_REGION_MS if a == b else between_ms for b in distinct) for a in distinct
    )
    return Regions(distinct, latency, tuple(names[i % len(names)] for i in range(validators)))


@dataclass(frozen=True, slots=True)
class NodeEntry:
    """One node of a testnet, as testnet.json records it."""

    id: str
    home: Path
    peer: str
    api: str

    @property
    def url(self) -> str:
        host, _, port = self.api.rpartition(":")
        if host in ("0.0.0.0", "::", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"


@dataclass(frozen=True, slots=True)
class Testnet:
    """An initialised testnet directory."""

    path: Path
    nodes: tuple[NodeEntry, ...]

    @property
    def ids(self) -> list[str]:
        return [node.id for node in self.nodes]

    def node(self, node_id: str) -> NodeEntry:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise UsageError(f"no node {node_id} in {self.path}")

    def accounts(self) -> list[KeyPair]:
        """The funded load accounts' keys."""
        value = parse_canonical_json((self.path / ACCOUNTS_FILE).read_bytes())
        if not isinstance(value, list):
            raise UsageError(f"{self.path / ACCOUNTS_FILE} is a list of seeds")
        return [KeyPair.from_seed(bytes.fromhex(str(seed))) for seed in value]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return ``count`` ports the OS says are free now (bound and released at once)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def init_testnet(
    directory: str | Path,
    validators: int,
    *,
    hosts: list[str] | None = None,
    listen: str | None = None,
    base_port: int | None = None,
    accounts: int = 64,
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    stakes: list[int] | None = None,
    protocol_v2_height: int | None = None,
    regions: Regions | None = None,
    protocol_versions: dict[str, tuple[int, ...]] | None = None,
) -> Testnet:
    """Write a testnet of ``validators`` homes under ``directory`` (see the module docstring).

    ``hosts``: the address each node is reached at (one per node, or one for all; default
    127.0.0.1). ``listen``: the host each node binds (default: its own host). ``base_port``:
    node i uses ports base + 2i (peers) and base + 2i + 1 (API); default: free ports now.
    ``seed``: draw keys from a seeded RNG (reproducible test keys); default: os.urandom.
    ``stakes``: one per validator (default: 10 x MIN_STAKE each).
    ``protocol_v2_height``: the chain runs protocol version 2 from this height (V2.1; None:
    version 1 at every height); every validator then gets a BLS key (its seed in key.json) and
    the genesis set lists each one's BLS key, proof of possession and region (V2.4, V2.6,
    V2.10; ``regions``: default one loopback region). ``protocol_versions``: node id -> the
    versions that node runs (default: all; ``(1,)`` makes a node that stops before version 2).
    """
    if type(validators) is not int or not 1 <= validators <= 256:
        raise UsageError("a testnet has 1 to 256 validators")
    root = Path(directory)
    if (root / TESTNET_FILE).exists():
        raise UsageError(f"{root} already holds a testnet")
    hosts = hosts or ["127.0.0.1"]
    if len(hosts) not in (1, validators):
        raise UsageError(f"give one host for all nodes or one per node ({validators})")
    node_hosts = hosts * validators if len(hosts) == 1 else hosts
    rng = random.Random(f"aethel-testnet/{seed}") if seed is not None else None

    def new_key() -> KeyPair:
        return KeyPair.generate(rng) if rng is not None else KeyPair.from_seed(os.urandom(32))

    if base_port is None:
        ports = free_ports(2 * validators)
    else:
        ports = [base_port + i for i in range(2 * validators)]
    ids = [f"v{i:03d}" for i in range(validators)]
    keys = [NodeKeys(new_key(), new_key()) for _ in ids]
    stakes = stakes or [10 * MIN_STAKE] * validators
    if len(stakes) != validators:
        raise UsageError(f"{len(stakes)} stakes for {validators} validators")
    epoch_seed = rng.randbytes(32) if rng is not None else os.urandom(32)
    if protocol_v2_height is None:
        members = [
            Validator(i, k.validator.public_key, stake)
            for i, k, stake in zip(ids, keys, stakes, strict=True)
        ]
        validator_set = ValidatorSet.create(0, epoch_seed, members)
    else:
        keys = [
            NodeKeys(k.validator, k.judge, rng.randbytes(32) if rng else os.urandom(32))
            for k in keys
        ]
        validator_set = _version_two_set(ids, keys, stakes, epoch_seed, protocol_v2_height, regions)
    load_keys = [new_key() for _ in range(accounts)]
    balances = {to_hex(key.public_key): ACCOUNT_BALANCE for key in load_keys}
    chain = make_chain_spec(validator_set, balances, params, protocol_v2_height)
    versions = protocol_versions or {}
    unknown = sorted(set(versions) - set(ids))
    if unknown:
        raise UsageError(f"protocol_versions names unknown nodes {unknown}")
    peer_addresses = {
        node_id: _host_port(host, ports[2 * i])
        for i, (node_id, host) in enumerate(zip(ids, node_hosts, strict=True))
    }
    entries = []
    for i, (node_id, node_keys, host) in enumerate(zip(ids, keys, node_hosts, strict=True)):
        bind = listen or host
        config = NodeConfig(
            id=node_id,
            peer_listen=_host_port(bind, ports[2 * i]),
            api_listen=_host_port(bind, ports[2 * i + 1]),
            peers={p: a for p, a in peer_addresses.items() if p != node_id},
            protocol_versions=versions.get(node_id, PROTOCOL_VERSIONS),
        )
        home = root / f"node-{i}"
        write_home(home, chain, config, node_keys)
        entries.append(
            {
                "id": node_id,
                "home": home.name,
                "peer": peer_addresses[node_id],
                "api": _host_port(host, ports[2 * i + 1]),
            }
        )
    (root / ACCOUNTS_FILE).write_bytes(canonical_json([key.seed.hex() for key in load_keys]))
    os.chmod(root / ACCOUNTS_FILE, 0o600)
    (root / TESTNET_FILE).write_bytes(
        canonical_json(
            {"chain_id": chain.chain_id.hex(), "nodes": entries, "validators": validators}
        )
    )
    return load_testnet(root)


def _version_two_set(
    ids: list[str],
    keys: list[NodeKeys],
    stakes: list[int],
    epoch_seed: bytes,
    first_height: int,
    regions: Regions | None,
) -> ValidatorSet:
    """Return the genesis's version-2 set: each member's BLS key and proof of possession from
    its BLS seed, and its region (V2.1, V2.4, V2.6, V2.10)."""
    if regions is None:
        names, latency = LOOPBACK_REGIONS
        regions = Regions(names, latency, (names[0],) * len(ids))
    if len(regions.of_node) != len(ids):
        raise UsageError(f"{len(regions.of_node)} regions for {len(ids)} validators")
    members = []
    for node_id, node_keys, stake, region in zip(ids, keys, stakes, regions.of_node, strict=True):
        assert node_keys.bls_seed is not None
        secret = bls_key_of(node_keys.bls_seed)
        members.append(
            Validator(
                node_id,
                node_keys.validator.public_key,
                stake,
                secret.public_key().data,
                secret.prove_possession().data,
                region,
            )
        )
    try:
        return ValidatorSet.create(
            0,
            epoch_seed,
            members,
            first_height=first_height,
            regions=regions.names,
            latency_ms=regions.latency_ms,
        )
    except AethelError as exc:
        raise UsageError(f"cannot build the version-2 validator set: {exc}") from None


def load_testnet(directory: str | Path) -> Testnet:
    """Read an initialised testnet directory."""
    root = Path(directory)
    try:
        value = json.loads((root / TESTNET_FILE).read_text(encoding="utf-8"))
    except OSError:
        raise UsageError(f"{root} holds no testnet (run `aethel testnet init` or `up`)") from None
    nodes = tuple(
        NodeEntry(item["id"], root / item["home"], item["peer"], item["api"])
        for item in value["nodes"]
    )
    return Testnet(root, nodes)


# ---------------------------------------------------------------------- processes


def node_command(home: Path) -> list[str]:
    """The command line of one node process."""
    return [sys.executable, "-m", "aethel.node", "run", "--home", str(home)]


def read_pids(testnet: Testnet) -> dict[str, dict[str, Any]]:
    try:
        value = json.loads((testnet.path / PIDS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(value)


def _write_pids(testnet: Testnet, pids: dict[str, dict[str, Any]]) -> None:
    (testnet.path / PIDS_FILE).write_text(json.dumps(pids, indent=1, sort_keys=True))


def is_our_process(entry: dict[str, Any]) -> bool:
    """True if the pid recorded runs the command recorded (not a reused pid)."""
    try:
        process = psutil.Process(int(entry["pid"]))
        return (
            bool(process.is_running())
            and process.cmdline() == entry["cmd"]
            and process.status() != psutil.STATUS_ZOMBIE
        )
    except (psutil.Error, KeyError, ValueError):
        return False


def start_node(testnet: Testnet, node_id: str) -> int:
    """Start one node's process (its own session, log in its home); return its pid."""
    node = testnet.node(node_id)
    pids = read_pids(testnet)
    if node_id in pids and is_our_process(pids[node_id]):
        raise UsageError(f"{node_id} is already running (pid {pids[node_id]['pid']})")
    command = node_command(node.home.resolve())
    with open(node.home / "node.log", "ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=node.home,
        )
    pids[node_id] = {"pid": process.pid, "cmd": command}
    _write_pids(testnet, pids)
    return process.pid


def start_testnet(testnet: Testnet) -> dict[str, int]:
    """Start every node that is not running; return {id: pid}."""
    started = {}
    pids = read_pids(testnet)
    for node in testnet.nodes:
        entry = pids.get(node.id)
        if entry is not None and is_our_process(entry):
            continue
        started[node.id] = start_node(testnet, node.id)
    return started


def signal_node(testnet: Testnet, node_id: str, signum: int) -> bool:
    """Send ``signum`` to a node's process if it is running; True if it was."""
    entry = read_pids(testnet).get(node_id)
    if entry is None or not is_our_process(entry):
        return False
    os.kill(int(entry["pid"]), signum)
    return True


def wait_exit(testnet: Testnet, node_id: str, timeout: float) -> bool:
    """Wait until a node's process is gone (reaped or a zombie); True if it is."""
    entry = read_pids(testnet).get(node_id)
    if entry is None:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_our_process(entry):
            _reap(int(entry["pid"]))
            return True
        _reap(int(entry["pid"]))
        time.sleep(0.05)
    return not is_our_process(entry)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_node(testnet: Testnet, node_id: str, *, grace: float = 15.0) -> str:
    """SIGTERM a node, SIGKILL it if it has not exited after ``grace`` s; say what happened."""
    if not signal_node(testnet, node_id, signal.SIGTERM):
        return "not running"
    if wait_exit(testnet, node_id, grace):
        return "stopped"
    signal_node(testnet, node_id, signal.SIGKILL)
    wait_exit(testnet, node_id, 5.0)
    return "killed"


def kill_node(testnet: Testnet, node_id: str) -> bool:
    """SIGKILL a node (a crash); True if it was running."""
    killed = signal_node(testnet, node_id, signal.SIGKILL)
    if killed:
        wait_exit(testnet, node_id, 5.0)
    return killed


def stop_testnet(testnet: Testnet, *, grace: float = 15.0) -> dict[str, str]:
    """Stop every node: SIGTERM all at once, SIGKILL those still up after ``grace`` s."""
    running = [n.id for n in testnet.nodes if signal_node(testnet, n.id, signal.SIGTERM)]
    outcome = {n.id: "not running" for n in testnet.nodes if n.id not in running}
    deadline = time.monotonic() + grace
    for node_id in running:
        if wait_exit(testnet, node_id, max(0.0, deadline - time.monotonic())):
            outcome[node_id] = "stopped"
        else:
            signal_node(testnet, node_id, signal.SIGKILL)
            wait_exit(testnet, node_id, 5.0)
            outcome[node_id] = "killed"
    return outcome


# ---------------------------------------------------------------------- status


async def fetch_json(
    session: aiohttp.ClientSession, url: str, timeout: float = 2.0
) -> dict[str, Any] | None:
    """GET ``url`` as JSON; None if the node does not answer (down, starting)."""
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as answer:
            if answer.status != 200:
                return None
            value = await answer.json()
            return value if isinstance(value, dict) else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


async def gather_status(testnet: Testnet) -> dict[str, dict[str, Any] | None]:
    """Every node's ``/status`` (None for a node that does not answer)."""
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(
            *(fetch_json(session, f"{node.url}/status") for node in testnet.nodes)
        )
    return dict(zip(testnet.ids, answers, strict=True))


def status_rows(statuses: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    """One row per node for the live view: height, view, peers, mempool, finality."""
    rows = []
    for node_id, status in statuses.items():
        if status is None:
            rows.append({"id": node_id, "up": False})
            continue
        rows.append(
            {
                "id": node_id,
                "up": True,
                "height": status["height"],
                "view": status["replica"]["view"],
                "leader": status["replica"]["leader"],
                "peers": len(status["peers"]),
                "mempool": status["mempool"]["transactions"],
                "finality_ms": status["finality_ms"],
                "syncing": status["syncing"],
                "stopped_at": status.get("consensus", {}).get("stopped_at"),
            }
        )
    return rows


__all__ = [
    "DEFAULT_DIR",
    "LOOPBACK_REGIONS",
    "NodeEntry",
    "Regions",
    "Testnet",
    "gather_status",
    "init_testnet",
    "kill_node",
    "load_testnet",
    "start_node",
    "start_testnet",
    "status_rows",
    "stop_node",
    "stop_testnet",
]
