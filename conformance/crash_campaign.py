"""``python -m conformance.crash_campaign store|journal --impl SPEC --seed S --kills N``: one
crash campaign on its own, longer than the suite's case, with its summary printed.

Spec: R5.4 (the store campaign, :mod:`conformance.crash_store`), R2.4 (the vote-journal
campaign, :mod:`conformance.crash_journal`). What the campaigns share is in
:mod:`conformance.crash`; this entry point is its own module so that it can import both
campaigns while they import :mod:`conformance.crash` (issue 18: no import cycles). Exit codes:
0 the campaign passed, 1 it failed (the failure and its replay command are printed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from conformance.crash import CrashFailure, child_command, summary_json
from conformance.crash_journal import JournalCampaign
from conformance.crash_store import StoreCampaign


def main(argv: list[str] | None = None) -> int:
    """Run one campaign from the command line; print its summary; exit 1 if it failed."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance.crash_campaign", description=__doc__
    )
    parser.add_argument("campaign", choices=("store", "journal"))
    parser.add_argument("--impl", default="stdio-reference", help="the implementation")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill schedule")
    parser.add_argument(
        "--kills", type=int, default=100, help="how many SIGKILLs (journal: rounds of one kill)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="aethel-crash-"))
    work.mkdir(parents=True, exist_ok=True)
    command = child_command(args.impl)
    kind = StoreCampaign if args.campaign == "store" else JournalCampaign
    try:
        summary: Any = kind(command, work, args.seed, args.kills, spec=args.impl).run()
    except CrashFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(summary_json(summary), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
