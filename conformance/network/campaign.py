"""Campaigns: many seeds of ``network`` spread over a dask.distributed cluster.

Each seed is one task: the worker that runs it starts that seed's nodes, proxy and workload on
its own machine, checks the history and writes the seed's report under
``REPORT_DIR/seed-S/`` (a path every worker must reach: the same machine, or a shared
directory). ``--scheduler local`` starts a LocalCluster of ``--workers`` processes (one thread
each: a run is already a crowd of processes); ``tcp://HOST:PORT`` uses a running scheduler;
``serial`` runs the seeds one after another here. The campaign's summary (``campaign.md``,
``campaign.json``) lists every seed's verdict and, for each failing seed, its failing checkers,
their rules and the replay file that reruns it. A passing seed's node directories are deleted
(its report and history stay), unless its recovery after the last heal took more than
:data:`SLOW_RECOVERY_SHARE` of its liveness bound: such a seed passed, but the node logs of a
slow recovery are what shows a catch-up gap the bound tolerates (seed 2010 of the 7-validator
campaign, reports/network/README.md), so they are kept and the summary lists the seed.

The summary also says what ran and where (:mod:`conformance.network.provenance`): the git commit
of the checkout and whether ``aethel/`` or ``conformance/`` differed from it (with the changed
paths), the machine (CPU model, cores, memory), the start and end times and the load average at
the start and at the end; each seed's result holds the load average when it started and ended
on its worker.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from conformance.network.execute import execute
from conformance.network.provenance import campaign_start, load_average, now_utc
from conformance.network.run import RunConfig

#: A passing seed whose recovery took more than this share of its liveness bound keeps its
#: node directories (logs) and is listed as slow.
SLOW_RECOVERY_SHARE = 0.5


def is_slow(liveness: dict[str, Any] | None) -> bool:
    """True if a passing liveness verdict's recovery took more than the slow share of its bound."""
    if not liveness or liveness.get("status") != "pass":
        return False
    recovery, bound = liveness.get("recovery_s"), liveness.get("bound_s")
    if not isinstance(recovery, int | float) or not isinstance(bound, int | float) or bound <= 0:
        return False
    return recovery > SLOW_RECOVERY_SHARE * bound


def run_seed(config: RunConfig, out_dir: str) -> dict[str, Any]:
    """One seed (a dask task): run, check, report; return its summary."""
    directory = Path(out_dir)
    began = time.monotonic()
    load = load_average()
    try:
        verdicts, code, replay = execute(config, directory)
    except Exception as exc:  # the harness itself failed: report it, keep the campaign going
        return {
            "seed": config.seed,
            "code": 2,
            "failed": [],
            "error": f"{type(exc).__name__}: {exc}",
            "wall_s": round(time.monotonic() - began, 1),
            "load": {"start": load, "end": load_average()},
            "report": str(directory),
        }
    failed = [v for v in verdicts if v.failed]
    verdict = next((v for v in verdicts if v.checker == "liveness"), None)
    # The bound the liveness checker judged by, and what the nodes took (NODE.md).
    liveness = (
        None
        if verdict is None
        else {
            "status": verdict.status,
            "bound_s": verdict.measurements.get("bound_s"),
            "recovery_s": verdict.measurements.get("recovery_s"),
            "bound": next((d for d in verdict.details if d.startswith("bound: ")), None),
        }
    )
    slow = is_slow(liveness)
    if not failed and not slow:
        shutil.rmtree(directory / "nodes", ignore_errors=True)
    return {
        "seed": config.seed,
        "code": code,
        "liveness": liveness,
        "slow": slow,
        "failed": [
            {"checker": v.checker, "rules": list(v.rules), "message": v.message} for v in failed
        ],
        "statuses": {v.checker: v.status for v in verdicts},
        "replay": str(replay),
        "wall_s": round(time.monotonic() - began, 1),
        "load": {"start": load, "end": load_average()},
        "report": str(directory),
    }


def _distributed() -> Any:
    """dask.distributed, dynamically typed (it has no annotations)."""
    import distributed

    return distributed


def _client(scheduler: str, workers: int) -> Any:
    distributed = _distributed()
    if scheduler == "local":
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return distributed.Client(cluster)
    return distributed.Client(scheduler)


def run_campaign(
    config: RunConfig,
    seeds: int,
    report_dir: Path,
    *,
    scheduler: str = "local",
    workers: int = 1,
) -> int:
    """Run seeds ``config.seed`` .. ``config.seed + seeds - 1``; write the summary; exit code."""
    report_dir = report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    configs = [replace(config, seed=config.seed + i) for i in range(seeds)]
    began = time.monotonic()
    context = campaign_start()
    context["scheduler"] = scheduler if scheduler in ("local", "serial") else "remote"
    context["workers"] = workers if scheduler == "local" else None
    results: list[dict[str, Any]] = []
    if scheduler == "serial":
        for item in configs:
            results.append(run_seed(item, str(report_dir / f"seed-{item.seed}")))
            _write_summary(report_dir, config, results, time.monotonic() - began, context)
    else:
        as_completed = _distributed().as_completed
        client = _client(scheduler, workers)
        try:
            futures = [
                client.submit(run_seed, item, str(report_dir / f"seed-{item.seed}"), pure=False)
                for item in configs
            ]
            for future in as_completed(futures):
                results.append(future.result())
                _write_summary(report_dir, config, results, time.monotonic() - began, context)
        finally:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    context["finished"] = now_utc()
    context["load_end"] = load_average()
    _write_summary(report_dir, config, results, time.monotonic() - began, context)
    codes = [r["code"] for r in results]
    return 2 if 2 in codes else 1 if any(c == 1 for c in codes) else max(codes, default=0)


def _write_summary(
    report_dir: Path,
    config: RunConfig,
    results: list[dict[str, Any]],
    wall: float,
    context: dict[str, Any],
) -> None:
    """Write campaign.json and campaign.md; ``context`` is :func:`campaign_start`'s record, with
    ``finished`` and ``load_end`` once the last seed is in (an unfinished campaign's files have
    ``load_now`` instead)."""
    results = sorted(results, key=lambda r: r["seed"])
    failing = [r for r in results if r["code"] != 0]
    context = dict(context)
    if "load_end" not in context:
        context["load_now"] = load_average()
    summary = {
        "config": {k: v for k, v in asdict(config).items() if k not in ("schedule", "seed")},
        "first_seed": config.seed,
        "seeds_done": len(results),
        "passed": len(results) - len(failing),
        "failing": [r["seed"] for r in failing],
        "wall_s": round(wall, 1),
        **context,
        "results": results,
    }
    (report_dir / "campaign.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = [
        "# Network campaign",
        "",
        f"- node command: `{config.impl}`",
        f"- validators: {config.validators} ({config.mix} reference), clients {config.clients}",
        f"- nemeses: {', '.join(config.nemeses) or 'none'}; {config.duration:g} s per seed",
        "- liveness bound: "
        + (
            "derived per seed (conformance/network/bound.py)"
            if config.liveness_bound is None
            else f"{config.liveness_bound:g} s (--liveness-bound)"
        ),
        f"- seeds: {len(results)} done, {len(results) - len(failing)} passed, "
        f"{len(failing)} failed; wall {wall / 60:.1f} min",
        *_provenance_lines(context),
        "",
    ]
    if failing:
        lines += [
            "## Failing seeds",
            "",
            "| seed | checkers | rules | replay |",
            "|---|---|---|---|",
        ]
        for r in failing:
            checkers = ", ".join(f["checker"] for f in r["failed"]) or r.get("error", "?")
            rules = ", ".join(sorted({x for f in r["failed"] for x in f["rules"]}))
            replay = r.get("replay", "")
            lines.append(f"| {r['seed']} | {checkers} | {rules} | `{replay}` |")
        lines.append("")
        for r in failing:
            for f in r["failed"]:
                lines.append(f"- seed {r['seed']} {f['checker']}: {f['message'][:300]}")
        lines.append("")
    slow = [r for r in results if r.get("slow")]
    if slow:
        lines += [
            f"## Slow recoveries (passed, over {SLOW_RECOVERY_SHARE:.0%} of the bound; "
            "node logs kept)",
            "",
            *(
                f"- seed {r['seed']}: {r['liveness']['recovery_s']} s of "
                f"{r['liveness']['bound_s']} s, `{r['report']}/nodes`"
                for r in slow
            ),
            "",
        ]
    lines += [
        "## Every seed",
        "",
        "| seed | exit | liveness: recovery / bound (s) | wall s | load at start, end (1 min) "
        "| report |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        load = r.get("load") or {}
        loads = ", ".join(_one_minute(load.get(k)) for k in ("start", "end"))
        live = r.get("liveness") or {}
        recovery = live.get("recovery_s") if live.get("status") == "pass" else live.get("status")
        bound = f"{recovery if recovery is not None else '?'} / {live.get('bound_s', '?')}"
        lines.append(
            f"| {r['seed']} | {r['code']} | {bound} | {r['wall_s']} | {loads} | `{r['report']}` |"
        )
    (report_dir / "campaign.md").write_text("\n".join(lines) + "\n")


def _one_minute(load: Any) -> str:
    return f"{load[0]:.2f}" if isinstance(load, list) and load else "?"


def _loads(load: Any) -> str:
    return " / ".join(f"{x:.2f}" for x in load) if isinstance(load, list) and load else "unknown"


def _provenance_lines(context: dict[str, Any]) -> list[str]:
    git = context.get("git") or {}
    machine = context.get("machine") or {}
    dirty = git.get("dirty")
    if dirty is None:
        tree = "tree state unknown"
    elif dirty:
        changed = git.get("changed") or []
        tree = f"working tree differs in aethel/ or conformance/: {', '.join(changed)}"
    else:
        tree = "clean tree (aethel/, conformance/)"
    end = (
        f"load average at the end {_loads(context['load_end'])}; finished {context['finished']}"
        if "load_end" in context
        else f"not finished; load average now {_loads(context.get('load_now'))}"
    )
    return [
        f"- commit: `{git.get('commit', 'unknown')}`, {tree}",
        f"- machine: {machine.get('cores', '?')} cores, {machine.get('cpu', '?')}, "
        f"{machine.get('memory_gib', '?')} GiB; scheduler {context.get('scheduler', '?')}"
        + (f", {context['workers']} worker(s)" if context.get("workers") else ""),
        f"- started {context.get('started', '?')}; load average (1/5/15 min) at the start "
        f"{_loads(context.get('load_start'))}; {end}",
    ]


__all__ = ["SLOW_RECOVERY_SHARE", "is_slow", "run_campaign", "run_seed"]
