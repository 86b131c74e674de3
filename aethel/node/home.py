"""A node's home directory: genesis, configuration, keys and data (``aethel node init``).

Layout of ``--home DIR``::

    genesis.json   the chain: validator set (ids, public keys, stakes, epoch seed), account
                   balances and the protocol parameters every node must share
    node.json      this node: its validator id, the addresses it listens on, its peers
    key.json       this node's secret seeds (validator key, judge key); mode 0600 (R5.3)
    data/          state store (state.sqlite) and vote journal (votes.sqlite)
    ran            written the first time the node opened its data: if data/ is missing later,
                   the node was wiped and has lost its vote journal (it then votes only at
                   heights it cannot have voted at before, and catches up by state sync)

Every file is canonical JSON (E1). The chain id is the SHA-256 of genesis.json's canonical bytes:
peers prove they belong to the same chain in the handshake (:mod:`aethel.node.handshake`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from aethel.consensus.ledger import make_genesis
from aethel.consensus.validators import ValidatorSet, parse_validator_set
from aethel.encoding import KeyPair, canonical_json, parse_canonical_json, parse_hex, sha256
from aethel.errors import AethelError, UsageError
from aethel.state.transitions import Genesis

Mode = Literal["broadcast", "collector"]

GENESIS_FILE = "genesis.json"
NODE_FILE = "node.json"
KEY_FILE = "key.json"
DATA_DIR = "data"
RAN_FILE = "ran"

#: Protocol parameters a chain fixes in its genesis (every node must use the same).
DEFAULT_PARAMS: dict[str, Any] = {
    "mode": "collector",
    # Least time between a commit and the next proposal, and the longest an idle leader waits
    # for work before it proposes an empty block (the view timeout is 4 s: R2.6).
    "block_interval_ms": 5,
    "idle_block_ms": 1_000,
    "max_block_proofs": 200,
}


class HomeError(AethelError):
    """A home directory is missing a file or holds a malformed one."""


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """The parsed genesis.json."""

    validators: ValidatorSet
    balances: dict[str, int]
    params: dict[str, Any]
    chain_id: bytes

    @property
    def genesis(self) -> Genesis:
        """The state before height 1."""
        return make_genesis(self.balances, self.validators)

    @property
    def mode(self) -> Mode:
        return cast(Mode, self.params["mode"])

    def to_json(self) -> dict[str, Any]:
        return {
            "balances": dict(sorted(self.balances.items())),
            "params": dict(sorted(self.params.items())),
            "validators": self.validators.to_wire(),
        }


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """The parsed node.json: who this node is and where it listens and dials."""

    id: str
    peer_listen: str
    api_listen: str
    #: validator id -> "host:port" of its peer port (every other validator).
    peers: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "api_listen": self.api_listen,
            "id": self.id,
            "peer_listen": self.peer_listen,
            "peers": dict(sorted(self.peers.items())),
        }


@dataclass(frozen=True, slots=True)
class NodeKeys:
    """The secret keys of one node (never printed: R5.3)."""

    validator: KeyPair
    judge: KeyPair


def parse_address(text: object) -> tuple[str, int]:
    """Parse ``host:port`` (an IPv6 host in brackets); raise :class:`UsageError`."""
    if not isinstance(text, str) or ":" not in text:
        raise UsageError(f"an address is host:port, got {text!r}")
    host, _, port_text = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65_535:
        raise UsageError(f"an address is host:port with a port from 0 to 65535, got {text!r}")
    return host, int(port_text)


def chain_id_of(spec_json: dict[str, Any]) -> bytes:
    """Return the chain id: SHA-256 of the canonical genesis."""
    return sha256(canonical_json(spec_json))


def parse_chain_spec(value: object) -> ChainSpec:
    """Parse genesis.json's content strictly; raise :class:`HomeError`."""
    if not isinstance(value, dict) or set(value) != {"balances", "params", "validators"}:
        raise HomeError("genesis.json holds exactly balances, params and validators")
    try:
        validators = parse_validator_set(value["validators"])
    except AethelError as exc:
        raise HomeError(f"genesis.json: bad validator set: {exc}") from None
    balances = value["balances"]
    if not isinstance(balances, dict) or any(
        type(v) is not int or v < 0 for v in balances.values()
    ):
        raise HomeError("genesis.json: balances map accounts to non-negative integers")
    params = value["params"]
    if not isinstance(params, dict) or set(params) != set(DEFAULT_PARAMS):
        raise HomeError(f"genesis.json: params holds exactly {sorted(DEFAULT_PARAMS)}")
    if params["mode"] not in ("broadcast", "collector"):
        raise HomeError("genesis.json: params.mode is broadcast or collector")
    for name in ("block_interval_ms", "idle_block_ms", "max_block_proofs"):
        if type(params[name]) is not int or params[name] < 0:
            raise HomeError(f"genesis.json: params.{name} is a non-negative integer")
    return ChainSpec(validators, dict(balances), dict(params), chain_id_of(value))


def parse_node_config(value: object) -> NodeConfig:
    """Parse node.json's content strictly; raise :class:`HomeError`."""
    names = {"id", "peer_listen", "api_listen", "peers"}
    if not isinstance(value, dict) or set(value) != names:
        raise HomeError(f"node.json holds exactly {sorted(names)}")
    peers = value["peers"]
    if not isinstance(peers, dict):
        raise HomeError("node.json: peers maps validator ids to host:port")
    try:
        parse_address(value["peer_listen"])
        parse_address(value["api_listen"])
        for address in peers.values():
            parse_address(address)
    except UsageError as exc:
        raise HomeError(f"node.json: {exc}") from None
    if not isinstance(value["id"], str):
        raise HomeError("node.json: id is a validator id")
    return NodeConfig(value["id"], value["peer_listen"], value["api_listen"], dict(peers))


def _read(path: Path) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HomeError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_canonical_json(data)
    except AethelError:
        try:
            return json.loads(data)  # hand-edited files need not be canonical
        except ValueError as exc:
            raise HomeError(f"{path} is not JSON: {exc}") from None


def _write(path: Path, value: object, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if secret else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(canonical_json(value) + b"\n")
    os.replace(temporary, path)


@dataclass(frozen=True, slots=True)
class Home:
    """An initialised home directory, read back."""

    path: Path
    chain: ChainSpec
    config: NodeConfig
    keys: NodeKeys

    @property
    def data(self) -> Path:
        return self.path / DATA_DIR

    @property
    def ran_before(self) -> bool:
        return (self.path / RAN_FILE).exists()

    def mark_ran(self) -> None:
        (self.path / RAN_FILE).write_text("1\n", encoding="ascii")


def load_home(path: str | Path) -> Home:
    """Read and check a home directory; raise :class:`HomeError` naming what is wrong."""
    root = Path(path)
    chain = parse_chain_spec(_read(root / GENESIS_FILE))
    config = parse_node_config(_read(root / NODE_FILE))
    keys_json = _read(root / KEY_FILE)
    if not isinstance(keys_json, dict) or set(keys_json) != {"validator_seed", "judge_seed"}:
        raise HomeError("key.json holds exactly validator_seed and judge_seed")
    try:
        validator = KeyPair.from_seed(parse_hex(keys_json["validator_seed"], length=32))
        judge = KeyPair.from_seed(parse_hex(keys_json["judge_seed"], length=32))
    except AethelError:
        raise HomeError("key.json: seeds are 32 bytes of lowercase hex") from None
    member = chain.validators.get(config.id)
    if member is None:
        raise HomeError(f"node.json: {config.id} is not a validator of this genesis")
    if member.public_key != validator.public_key:
        raise HomeError(f"key.json: the validator key is not {config.id}'s key in the genesis")
    return Home(root, chain, config, NodeKeys(validator, judge))


def write_home(
    path: str | Path,
    chain: ChainSpec,
    config: NodeConfig,
    keys: NodeKeys,
) -> Home:
    """Write a home directory (refuses one that already holds a genesis)."""
    root = Path(path)
    if (root / GENESIS_FILE).exists():
        raise UsageError(f"{root} is already initialised")
    _write(root / GENESIS_FILE, chain.to_json())
    _write(root / NODE_FILE, config.to_json())
    _write(
        root / KEY_FILE,
        {"judge_seed": keys.judge.seed.hex(), "validator_seed": keys.validator.seed.hex()},
        secret=True,
    )
    (root / DATA_DIR).mkdir(exist_ok=True)
    return load_home(root)


def make_chain_spec(
    validators: ValidatorSet, balances: dict[str, int], params: dict[str, Any] | None = None
) -> ChainSpec:
    """Return a chain spec (checked as if read from disk)."""
    value = {
        "balances": dict(balances),
        "params": {**DEFAULT_PARAMS, **(params or {})},
        "validators": validators.to_wire(),
    }
    return parse_chain_spec(parse_canonical_json(canonical_json(value)))


__all__ = [
    "DEFAULT_PARAMS",
    "ChainSpec",
    "Home",
    "HomeError",
    "NodeConfig",
    "NodeKeys",
    "load_home",
    "make_chain_spec",
    "parse_address",
    "write_home",
]
