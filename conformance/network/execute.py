"""One network run (a seed): run the nodes, check the history, write the report and replay file.

Both the ``network`` command (:mod:`conformance.network.cli`) and a campaign's workers
(:mod:`conformance.network.campaign`) run seeds through :func:`execute`; it is its own module so
that neither of them imports the other back (issue 18: no import cycles).
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

from conformance.network.checkers import Verdict, check_run
from conformance.network.replay import write_replay
from conformance.network.report import write_run_report
from conformance.network.run import RunConfig, run_network
from conformance.report.outcome import outcome_of


def execute(config: RunConfig, out_dir: Path) -> tuple[list[Verdict], int, Path]:
    """Run ``config`` with its nodes under ``out_dir/nodes``; write its report and replay file.

    Returns the verdicts, the exit code and the replay file."""
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    record = asyncio.run(run_network(config, out_dir / "nodes"))
    verdicts = check_run(record)
    out_dir.mkdir(parents=True, exist_ok=True)
    replay = (out_dir / "replay.json").resolve()
    write_replay(replay, record, verdicts)
    report = write_run_report(record, verdicts, out_dir, replay=replay, started=started)
    return verdicts, outcome_of(report).code, replay
