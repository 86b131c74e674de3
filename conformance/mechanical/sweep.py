"""The simulator's seed sweep as a campaign: many seeds of ``aethel simulate`` on dask.

``aethel-conformance sweep --seeds 0:2000`` runs, for each seed, the scenario the simulator
property of ``tests/sim`` draws (spec P6-P8, P13, P14, R2.2-R2.5, R3.4, R5.2): 7 validators, a
Byzantine kind holding 2/7 of the stake, up to three network faults, broadcast or collector mode,
all chosen from the seed alone. A seed fails when a safety checker fails, or when liveness is
owed and fewer than 3 heights commit. Each failure prints the ``aethel simulate`` command that
replays it.

Like a mutation campaign it runs one task per seed on a ``distributed.LocalCluster`` (or
``--scheduler tcp://HOST:PORT``, or ``serial``), appends each result to ``results.jsonl`` in its
directory as it ends (an interrupted sweep resumes), prints progress, and writes a report under
``reports/selftest/``. A seed's result (its trace hash too) depends only on the seed and the
code: the sweep gives the same lines wherever it runs.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from aethel.sim.byzantine import KINDS
from aethel.sim.simulator import SimConfig, run_simulation
from conformance.mechanical.campaign import Progress, dask_client, git_commit, keep_as_done
from conformance.mechanical.execute import PACKAGE_ROOT

console = Console(stderr=True, soft_wrap=True, highlight=False)

#: Checkers that must pass whenever Byzantine stake < W/3 (as in tests/sim).
SAFETY = (
    "agreement",
    "validity",
    "integrity",
    "certificates",
    "conservation",
    "supply_books",
    "rewards",
    "slashing",
    "forensics",
)
FAULTS = (
    "loss:0.1@0s-4s",
    "dup:0.2@0s-4s",
    "reorder:0.3@0s-4s",
    "spike:0.1:400ms@0s-4s",
    "partition:1s-4s:0.5",
    "oneway:1s-4s:0.3",
    "crash:1@500ms-3s",
    "crash:2@700ms-3500ms:fresh",
    "late:3@2s",
)
VALIDATORS = 7
HEIGHTS = 3


@dataclass(frozen=True, slots=True)
class Scenario:
    """What one seed runs."""

    seed: int
    mode: str
    kind: str
    faults: tuple[str, ...]

    def command(self) -> str:
        """The ``aethel simulate`` command line that replays this scenario."""
        faults = "".join(f" --fault {f}" for f in self.faults)
        return (
            f"aethel simulate --validators {VALIDATORS} --mode {self.mode} --heights {HEIGHTS} "
            f"--per-block 2 --seed {self.seed} --byzantine {self.kind}:{2 / 7!r}{faults}"
        )


def scenario(seed: int) -> Scenario:
    """Return the scenario of ``seed`` (drawn with ``random.Random(seed)``)."""
    kinds = sorted(k for k in KINDS if k not in ("twins", "fork"))
    rng = random.Random(seed)
    mode = rng.choice(["broadcast", "collector"])
    kind = rng.choice(kinds)
    faults = tuple(sorted(rng.sample(FAULTS, rng.randint(0, 3))))
    return Scenario(seed, mode, kind, faults)


def run_seed(seed: int) -> dict[str, Any]:
    """Simulate one seed; return its result line (runs on a worker)."""
    chosen = scenario(seed)
    config = SimConfig(
        validators=VALIDATORS,
        mode=chosen.mode,  # type: ignore[arg-type]
        heights=HEIGHTS,
        seed=seed,
        byzantine=((chosen.kind, 2 / 7),),
        faults=chosen.faults,
        per_block=2,
    )
    started = time.monotonic()
    result = run_simulation(config)
    failures = {
        name: result.checkers[name]["detail"] for name in SAFETY if not result.checkers[name]["ok"]
    }
    liveness = result.checkers["liveness"]
    owed = not str(liveness["detail"]).startswith("not required")
    if not liveness["ok"]:
        failures["liveness"] = liveness["detail"]
    if owed and result.heights_committed < HEIGHTS:
        failures["heights"] = f"{result.heights_committed} of {HEIGHTS} heights committed"
    return {
        "seed": seed,
        "mode": chosen.mode,
        "kind": chosen.kind,
        "faults": list(chosen.faults),
        "ok": not failures,
        "failures": failures,
        "trace_hash": result.trace_hash,
        "heights_committed": result.heights_committed,
        "duration_s": round(time.monotonic() - started, 3),
        "replay": chosen.command(),
    }


def _read(results: Path) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found[row["seed"]] = row
    return found


def run_sweep(
    seeds: list[int],
    directory: Path,
    *,
    scheduler: str,
    workers: int,
    log: Callable[[str], None],
) -> dict[int, dict[str, Any]]:
    """Run every seed not yet in ``directory/results.jsonl``; return all results by seed."""
    directory.mkdir(parents=True, exist_ok=True)
    results_file = directory / "results.jsonl"
    done = _read(results_file)
    todo = [s for s in seeds if s not in done]
    progress = Progress(len(seeds), len(seeds) - len(todo), log, noun="seeds")
    log(f"{len(seeds)} seeds, {len(seeds) - len(todo)} already run, {len(todo)} to run")

    def keep(row: dict[str, Any]) -> None:
        with results_file.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(row, sort_keys=True) + "\n")
        progress.add({"verdict": "ok" if row["ok"] else "FAILED"})
        if not row["ok"]:
            log(f"seed {row['seed']} FAILED {row['failures']}; replay: {row['replay']}")

    if scheduler == "serial":
        for seed in todo:
            keep(run_seed(seed))
    else:
        with dask_client(scheduler, workers) as client:
            futures = [client.submit(run_seed, s, key=f"seed-{s}", pure=False) for s in todo]
            keep_as_done(futures, keep, progress.tick)
    progress.tick(force=True)
    return _read(results_file)


def _parse_seeds(text: str) -> list[int]:
    start, _, count = text.partition(":")
    try:
        return list(range(int(start), int(start) + int(count)))
    except ValueError:
        raise typer.BadParameter("--seeds takes START:COUNT, e.g. 0:2000") from None


def sweep_command(
    seeds: Annotated[str, typer.Option(help="START:COUNT, e.g. 0:2000")] = "0:200",
    scheduler: Annotated[
        str, typer.Option(help="'local' (a dask LocalCluster), tcp://HOST:PORT or 'serial'")
    ] = "local",
    workers: Annotated[int, typer.Option(help="worker processes of the LocalCluster")] = 2,
    sweep_dir: Annotated[
        Path, typer.Option(help="where results are kept (resumed if present)")
    ] = Path("reports/latest/sim-sweep"),
    report_dir: Annotated[Path, typer.Option(help="where the report is written")] = Path(
        "reports/selftest"
    ),
) -> None:
    """Sweep simulator seeds (the tests/sim safety property) on dask; exit 1 on a failure."""
    chosen = _parse_seeds(seeds)
    started = time.monotonic()
    try:
        every = run_sweep(
            chosen,
            sweep_dir,
            scheduler=scheduler,
            workers=workers,
            log=lambda t: console.print(t, markup=False),
        )
    except KeyboardInterrupt:
        console.print(f"interrupted: results so far are in {sweep_dir}; run again to resume")
        raise typer.Exit(130) from None
    rows = [every[s] for s in chosen]
    failed = [r for r in rows if not r["ok"]]
    commit, dirty = git_commit(PACKAGE_ROOT)
    lines = [
        f"# Simulator seed sweep {seeds}",
        "",
        f"- commit `{commit}`{' (with uncommitted changes)' if dirty else ''}; "
        f"{len(rows)} seeds, {len(failed)} failed; wall {time.monotonic() - started:.0f} s for "
        f"this invocation, {sum(r['duration_s'] for r in rows) / max(len(rows), 1):.2f} s per "
        "seed on one worker",
        f"- scenario per seed: {VALIDATORS} validators, one Byzantine kind at 2/7 of the stake, "
        f"0-3 faults, {HEIGHTS} heights (as the tests/sim property)",
        "",
    ]
    lines += [f"- seed {r['seed']}: {r['failures']}; replay `{r['replay']}`" for r in failed]
    report_dir.mkdir(parents=True, exist_ok=True)
    label = seeds.replace(":", "-")
    (report_dir / f"sim-sweep-{label}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    typer.echo("\n".join(lines))
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """``python -m conformance.mechanical.sweep``: the sweep without the aethel-conformance CLI."""
    typer.run(sweep_command)


if __name__ == "__main__":
    main()
