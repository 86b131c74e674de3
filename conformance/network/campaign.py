"""Campaigns: many seeds of ``network`` spread over a dask.distributed cluster.

Each seed is one task: the worker that runs it starts that seed's nodes, proxy and workload on
its own machine, checks the history and writes the seed's report under
``REPORT_DIR/seed-S/`` (a path every worker must reach: the same machine, or a shared
directory). ``--scheduler local`` starts a LocalCluster of ``--workers`` processes (one thread
each: a run is already a crowd of processes); ``tcp://HOST:PORT`` uses a running scheduler;
``serial`` runs the seeds one after another here. The campaign's summary (``campaign.md``,
``campaign.json``) lists every seed's verdict and, for each failing seed, its failing checkers,
their rules and the replay file that reruns it. A passing seed's node directories are deleted
(its report and history stay).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from conformance.network.execute import execute
from conformance.network.run import RunConfig


def run_seed(config: RunConfig, out_dir: str) -> dict[str, Any]:
    """One seed (a dask task): run, check, report; return its summary."""
    directory = Path(out_dir)
    began = time.monotonic()
    try:
        verdicts, code, replay = execute(config, directory)
    except Exception as exc:  # the harness itself failed: report it, keep the campaign going
        return {
            "seed": config.seed,
            "code": 2,
            "failed": [],
            "error": f"{type(exc).__name__}: {exc}",
            "wall_s": round(time.monotonic() - began, 1),
            "report": str(directory),
        }
    failed = [v for v in verdicts if v.failed]
    if not failed:
        shutil.rmtree(directory / "nodes", ignore_errors=True)
    return {
        "seed": config.seed,
        "code": code,
        "failed": [
            {"checker": v.checker, "rules": list(v.rules), "message": v.message} for v in failed
        ],
        "statuses": {v.checker: v.status for v in verdicts},
        "replay": str(replay),
        "wall_s": round(time.monotonic() - began, 1),
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
    results: list[dict[str, Any]] = []
    if scheduler == "serial":
        for item in configs:
            results.append(run_seed(item, str(report_dir / f"seed-{item.seed}")))
            _write_summary(report_dir, config, results, time.monotonic() - began)
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
                _write_summary(report_dir, config, results, time.monotonic() - began)
        finally:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    _write_summary(report_dir, config, results, time.monotonic() - began)
    codes = [r["code"] for r in results]
    return 2 if 2 in codes else 1 if any(c == 1 for c in codes) else max(codes, default=0)


def _write_summary(
    report_dir: Path, config: RunConfig, results: list[dict[str, Any]], wall: float
) -> None:
    results = sorted(results, key=lambda r: r["seed"])
    failing = [r for r in results if r["code"] != 0]
    summary = {
        "config": {k: v for k, v in asdict(config).items() if k not in ("schedule", "seed")},
        "first_seed": config.seed,
        "seeds_done": len(results),
        "passed": len(results) - len(failing),
        "failing": [r["seed"] for r in failing],
        "wall_s": round(wall, 1),
        "results": results,
    }
    (report_dir / "campaign.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = [
        "# Network campaign",
        "",
        f"- node command: `{config.impl}`",
        f"- validators: {config.validators} ({config.mix} reference), clients {config.clients}",
        f"- nemeses: {', '.join(config.nemeses) or 'none'}; {config.duration:g} s per seed",
        f"- seeds: {len(results)} done, {len(results) - len(failing)} passed, "
        f"{len(failing)} failed; wall {wall / 60:.1f} min",
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
    lines += ["## Every seed", "", "| seed | exit | wall s | report |", "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['seed']} | {r['code']} | {r['wall_s']} | `{r['report']}` |")
    (report_dir / "campaign.md").write_text("\n".join(lines) + "\n")


__all__ = ["run_campaign", "run_seed"]
