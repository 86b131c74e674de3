"""The ``aethel node`` and ``aethel testnet`` commands.

* ``aethel node init --home DIR --genesis FILE --id ID [--key-file F] --peer-listen A --api-listen A
  --peer ID=HOST:PORT ... [--protocol-versions 1]``: a home for one validator of an existing
  genesis (the testnet commands write complete homes; this one joins a node to a genesis made
  elsewhere; the genesis fixes the height protocol version 2 starts at, V2.1);
* ``aethel node run --home DIR``: run the validator until SIGTERM;
* ``aethel testnet init|up|load|status|down|kill|start`` (see :mod:`aethel.node.testnet`);
  ``init`` and ``up`` take ``--protocol-v2-height H`` (version 2 from height H, V2.1; absent:
  version 1 at every height), ``--v1-only ID`` (that node runs version 1 only and stops at
  H - 1, V2.2) and ``--regions A,B,...`` (the regions of the version-2 set, given to the
  validators round-robin in node order, with ``--region-latency MS`` between two regions; they
  decide who collects, V2.10).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from aethel.encoding import KeyPair
from aethel.errors import AethelError, UsageError
from aethel.node import testnet as nets
from aethel.node.home import (
    GENESIS_FILE,
    PROTOCOL_VERSIONS,
    NodeConfig,
    NodeKeys,
    parse_address,
    read_genesis,
    write_home,
)

console = Console(stderr=True)
node_app = typer.Typer(help="Run one validator.", no_args_is_help=True, add_completion=False)
testnet_app = typer.Typer(
    help="A testnet of validator processes (loopback or several machines).",
    no_args_is_help=True,
    add_completion=False,
)

DirOption = Annotated[Path, typer.Option("--dir", help="testnet directory")]
V2HeightOption = Annotated[
    int | None,
    typer.Option(
        "--protocol-v2-height",
        min=1,
        help="run protocol version 2 from this height (V2.1: BLS keys, aggregate certificates, "
        "the collector); default: version 1 at every height",
    ),
]
V1OnlyOption = Annotated[
    list[str],
    typer.Option(
        "--v1-only",
        help="validator id (repeat) that runs protocol version 1 only: it stops at the height "
        "before --protocol-v2-height (V2.2)",
    ),
]


RegionsOption = Annotated[
    list[str],
    typer.Option(
        "--regions",
        help="with --protocol-v2-height: the regions of the version-2 set, comma-separated or "
        "repeated, given to the validators round-robin in node order (v000 the first, v001 the "
        "second...; as many names as validators places each one); the set declares 1 ms "
        "within a region and --region-latency between two, and the collector of each view-0 "
        "height is chosen from them (V2.10); default: one region, the leader collects",
    ),
]
RegionLatencyOption = Annotated[
    int,
    typer.Option(
        "--region-latency",
        min=0,
        help="with --regions: the nominal one-way latency between two regions (ms)",
    ),
]


def _regions(
    names: list[str], latency: int, validators: int, protocol_v2_height: int | None
) -> nets.Regions | None:
    """Return the regions of --regions (None when absent); refuse them without version 2."""
    flat = [name for item in names for name in item.split(",")]
    if not flat:
        return None
    if protocol_v2_height is None:
        raise UsageError("--regions needs --protocol-v2-height (regions exist in version 2 only)")
    return nets.round_robin_regions(flat, validators, latency)


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2)


# ---------------------------------------------------------------------- aethel node


@node_app.command("init")
def node_init(
    home: Annotated[Path, typer.Option("--home", help="home directory to create")],
    genesis: Annotated[Path, typer.Option("--genesis", help="the chain's genesis.json")],
    node_id: Annotated[str, typer.Option("--id", help="this node's validator id")],
    peer_listen: Annotated[str, typer.Option(help="HOST:PORT of the peer port")],
    api_listen: Annotated[str, typer.Option(help="HOST:PORT of the client API")],
    peer: Annotated[list[str], typer.Option(help="ID=HOST:PORT of another validator")] = [],  # noqa: B006
    key_file: Annotated[
        Path | None,
        typer.Option(
            help="JSON {validator_seed, judge_seed, bls_seed?} (hex; bls_seed: the BLS key of "
            "a chain that runs protocol version 2); default: new random keys"
        ),
    ] = None,
    protocol_versions: Annotated[
        list[int],
        typer.Option(
            help="protocol versions this node runs (repeat; default 1 and 2); 1 alone: stop "
            "at the height before the genesis's protocol_v2_height"
        ),
    ] = [],  # noqa: B006
) -> None:
    """Create a home for one validator of an existing genesis."""
    try:
        chain = read_genesis(genesis)
        peers = {}
        for item in peer:
            name, _, address = item.partition("=")
            parse_address(address)
            peers[name] = address
        if key_file is not None:
            seeds = json.loads(key_file.read_text(encoding="utf-8"))
            bls_seed = seeds.get("bls_seed")
            keys = NodeKeys(
                KeyPair.from_seed(bytes.fromhex(seeds["validator_seed"])),
                KeyPair.from_seed(bytes.fromhex(seeds["judge_seed"])),
                None if bls_seed is None else bytes.fromhex(bls_seed),
            )
        else:
            keys = NodeKeys(
                KeyPair.from_seed(os.urandom(32)),
                KeyPair.from_seed(os.urandom(32)),
                None if chain.activation is None else os.urandom(32),
            )
        versions = tuple(sorted(set(protocol_versions))) or PROTOCOL_VERSIONS
        config = NodeConfig(node_id, peer_listen, api_listen, peers, versions)
        written = write_home(home, chain, config, keys)
    except (AethelError, OSError, ValueError, KeyError, TypeError) as exc:
        raise _fail(exc) from None
    console.print(f"initialised {written.path} for {node_id} (chain {chain.chain_id.hex()[:16]})")


@node_app.command("run")
def node_run(
    home: Annotated[Path, typer.Option("--home", help="the node's home directory")],
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Run the validator until SIGTERM (or SIGINT); prints `ready {...}` once listening."""
    from aethel.node.process import run_node

    if not (home / GENESIS_FILE).exists():
        raise _fail(UsageError(f"{home} is not initialised (aethel node init / testnet init)"))
    try:
        code = run_node(home, log_level=log_level)
    except AethelError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


# ---------------------------------------------------------------------- aethel testnet


@testnet_app.command("init")
def testnet_init(
    validators: Annotated[int, typer.Option("--validators", "-n", help="validator count")] = 4,
    directory: DirOption = Path(nets.DEFAULT_DIR),
    host: Annotated[
        list[str], typer.Option(help="address a node is reached at: one for all, or one per node")
    ] = [],  # noqa: B006
    listen: Annotated[str | None, typer.Option(help="host to bind (e.g. 0.0.0.0)")] = None,
    base_port: Annotated[int | None, typer.Option(help="ports base+2i, base+2i+1")] = None,
    accounts: Annotated[int, typer.Option(help="funded load accounts")] = 64,
    seed: Annotated[int | None, typer.Option(help="draw keys from this seed (tests)")] = None,
    protocol_v2_height: V2HeightOption = None,
    v1_only: V1OnlyOption = [],  # noqa: B006
    regions: RegionsOption = [],  # noqa: B006
    region_latency: RegionLatencyOption = nets.BETWEEN_REGIONS_MS,
) -> None:
    """Write the homes of a testnet (copy node-i to machine i to span machines)."""
    hosts = [h for item in host for h in item.split(",") if h]
    try:
        net = nets.init_testnet(
            directory,
            validators,
            hosts=hosts or None,
            listen=listen,
            base_port=base_port,
            accounts=accounts,
            seed=seed,
            protocol_v2_height=protocol_v2_height,
            regions=_regions(regions, region_latency, validators, protocol_v2_height),
            protocol_versions={node_id: (1,) for node_id in v1_only},
        )
    except AethelError as exc:
        raise _fail(exc) from None
    for node in net.nodes:
        console.print(f"{node.id}: home {node.home}, peers at {node.peer}, API at {node.api}")


def _table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for column in ("node", "height", "view", "leader", "peers", "mempool", "finality ms", "state"):
        table.add_column(
            column, justify="left" if column in ("node", "leader", "state") else "right"
        )
    for row in rows:
        if not row["up"]:
            table.add_row(row["id"], "-", "-", "-", "-", "-", "-", "[red]down[/red]")
            continue
        finality = row["finality_ms"]
        table.add_row(
            row["id"],
            str(row["height"]),
            str(row["view"]),
            row["leader"],
            str(row["peers"]),
            str(row["mempool"]),
            "-" if finality is None else f"{finality:.1f}",
            "syncing"
            if row["syncing"]
            else "ok"
            if row["stopped_at"] is None
            else f"stopped (v1 only) at {row['stopped_at']}",
        )
    return table


def _status(net: nets.Testnet) -> list[dict[str, Any]]:
    return nets.status_rows(asyncio.run(nets.gather_status(net)))


@testnet_app.command("up")
def testnet_up(
    validators: Annotated[int, typer.Option("--validators", "-n", help="validator count")] = 4,
    directory: DirOption = Path(nets.DEFAULT_DIR),
    timeout: Annotated[float, typer.Option(help="seconds to wait for the first commits")] = 60.0,
    watch: Annotated[bool, typer.Option(help="keep the live view until Ctrl-C")] = False,
    protocol_v2_height: V2HeightOption = None,
    v1_only: V1OnlyOption = [],  # noqa: B006
    regions: RegionsOption = [],  # noqa: B006
    region_latency: RegionLatencyOption = nets.BETWEEN_REGIONS_MS,
) -> None:
    """Start a testnet on this machine (initialising it first if needed); wait until it commits.

    --protocol-v2-height, --v1-only and --regions apply when the directory holds no testnet yet
    (an existing testnet keeps its genesis)."""
    try:
        if not (directory / nets.TESTNET_FILE).exists():
            nets.init_testnet(
                directory,
                validators,
                protocol_v2_height=protocol_v2_height,
                regions=_regions(regions, region_latency, validators, protocol_v2_height),
                protocol_versions={node_id: (1,) for node_id in v1_only},
            )
        elif protocol_v2_height is not None or v1_only or regions:
            raise UsageError(
                f"{directory} already holds a testnet: its genesis fixes the protocol versions "
                "(`aethel testnet down` and remove it, or choose another --dir)"
            )
        net = nets.load_testnet(directory)
        started = nets.start_testnet(net)
    except AethelError as exc:
        raise _fail(exc) from None
    console.print(f"started {len(started)} node processes in {directory}")
    deadline = time.monotonic() + timeout
    committed = False
    with Live(console=console, refresh_per_second=4) as live:
        while True:
            rows = _status(net)
            live.update(_table(rows, f"testnet {directory}"))
            # A node that runs version 1 only stops before version 2 (V2.2), maybe before 2.
            committed = all(
                r["up"] and (r["height"] >= 2 or r["stopped_at"] is not None) for r in rows
            )
            if (committed and not watch) or (not watch and time.monotonic() > deadline):
                break
            try:
                time.sleep(0.5)
            except KeyboardInterrupt:
                break
    if not committed:
        console.print("[red]the testnet did not commit in time[/red]; logs: node-*/node.log")
        raise typer.Exit(1)
    console.print(
        "committing; `aethel testnet status`, `aethel testnet load`, `aethel testnet down`"
    )


@testnet_app.command("status")
def testnet_status(
    directory: DirOption = Path(nets.DEFAULT_DIR),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    watch: Annotated[bool, typer.Option(help="refresh until Ctrl-C")] = False,
) -> None:
    """Show every node's height, view, peers, mempool and finality."""
    try:
        net = nets.load_testnet(directory)
    except AethelError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(_status(net), indent=1))
        return
    if not watch:
        Console().print(_table(_status(net), f"testnet {directory}"))
        return
    with Live(console=console, refresh_per_second=4) as live:
        try:
            while True:
                live.update(_table(_status(net), f"testnet {directory}"))
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


@testnet_app.command("load")
def testnet_load(
    rate: Annotated[float, typer.Option(help="transfers per second")] = 10.0,
    duration: Annotated[float, typer.Option(help="seconds of sending")] = 10.0,
    directory: DirOption = Path(nets.DEFAULT_DIR),
    drain: Annotated[float, typer.Option(help="seconds to wait for the last commits")] = 20.0,
    accounts: Annotated[int | None, typer.Option(help="use the first K accounts")] = None,
    seed: Annotated[int, typer.Option(help="seed of the transfers")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Send signed transfers with their proofs; report each one's latency to commit."""
    from aethel.node.load import run_load

    try:
        net = nets.load_testnet(directory)
        report = asyncio.run(
            run_load(net, rate, duration, drain=drain, accounts=accounts, seed=seed)
        )
    except AethelError as exc:
        raise _fail(exc) from None
    result = report.to_json()
    if as_json:
        print(json.dumps(result, indent=1))
    else:
        latency = result["latency_ms"]
        Console().print(
            f"submitted {result['submitted']}, acknowledged {result['acknowledged']}, "
            f"committed {result['committed']} ({result['committed_per_s']}/s), "
            f"acknowledged but not committed {result['acknowledged_not_committed']}\n"
            f"latency ms: p50 {latency['p50']}, p90 {latency['p90']}, p99 {latency['p99']}, "
            f"max {latency['max']}; refused {result['refused'] or 'none'}"
        )
    if report.lost:
        raise typer.Exit(1)


@testnet_app.command("chaos")
def testnet_chaos(
    kills: Annotated[int, typer.Option(help="SIGKILLs of random nodes (the leader included)")] = 50,
    seed: Annotated[int, typer.Option(help="seed of the schedule")] = 0,
    rate: Annotated[float, typer.Option(help="transfers per second throughout")] = 20.0,
    wipe: Annotated[bool, typer.Option(help="finish by wiping one node (state sync)")] = True,
    directory: DirOption = Path(nets.DEFAULT_DIR),
    report_file: Annotated[Path | None, typer.Option("--report", help="write JSON here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Kill random nodes under load and check recovery, agreement, books, no accusation."""
    from aethel.node.chaos import run_chaos

    try:
        net = nets.load_testnet(directory)
        report = asyncio.run(
            run_chaos(
                net,
                kills=kills,
                seed=seed,
                rate=rate,
                wipe=wipe,
                progress=None if as_json else console.print,
            )
        )
    except AethelError as exc:
        raise _fail(exc) from None
    result = report.to_json()
    if report_file is not None:
        report_file.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if as_json:
        print(json.dumps(result, indent=1))
    else:
        summary = {k: v for k, v in result.items() if k not in ("schedule", "audit", "load")}
        Console().print(summary)
        Console().print({"load": result["load"], "audit": result["audit"]})
    if not report.ok:
        raise typer.Exit(1)


@testnet_app.command("down")
def testnet_down(directory: DirOption = Path(nets.DEFAULT_DIR)) -> None:
    """Stop every node (SIGTERM, then SIGKILL after 15 s)."""
    try:
        outcome = nets.stop_testnet(nets.load_testnet(directory))
    except AethelError as exc:
        raise _fail(exc) from None
    for node_id, what in sorted(outcome.items()):
        console.print(f"{node_id}: {what}")


@testnet_app.command("kill")
def testnet_kill(
    node_id: Annotated[str, typer.Argument(help="validator id")],
    directory: DirOption = Path(nets.DEFAULT_DIR),
) -> None:
    """SIGKILL one node (a crash; `start` brings it back)."""
    try:
        killed = nets.kill_node(nets.load_testnet(directory), node_id)
    except AethelError as exc:
        raise _fail(exc) from None
    console.print(f"{node_id}: {'killed' if killed else 'not running'}")


@testnet_app.command("start")
def testnet_start(
    node_id: Annotated[str, typer.Argument(help="validator id")],
    directory: DirOption = Path(nets.DEFAULT_DIR),
) -> None:
    """Start one node of the testnet."""
    try:
        pid = nets.start_node(nets.load_testnet(directory), node_id)
    except AethelError as exc:
        raise _fail(exc) from None
    console.print(f"{node_id}: pid {pid}")


__all__ = ["node_app", "testnet_app"]
