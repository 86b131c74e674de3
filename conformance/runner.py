"""``aethel-conformance run``: run the suite against an implementation and write its report.

This first version runs the pytest suite in ``conformance/suite`` and writes JUnit XML and a
summary; the full report format (JSON lines, Markdown, HTML) is issue #6.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer

SUITE_DIR = Path(__file__).resolve().parent / "suite"


def run_command(
    impl: Annotated[str, typer.Option(help="implementation under test: reference")] = "reference",
    report_dir: Annotated[Path, typer.Option(help="where the report is written")] = Path(
        "reports/latest"
    ),
) -> None:
    """Run the conformance suite against an implementation; exit non-zero if a MUST fails."""
    report_dir.mkdir(parents=True, exist_ok=True)
    code = pytest.main(
        [
            str(SUITE_DIR),
            "-p",
            "conformance.traceability",
            "-p",
            "no:cacheprovider",
            f"--rootdir={SUITE_DIR}",
            f"--impl={impl}",
            f"--junitxml={report_dir / 'junit.xml'}",
            "-q",
        ]
    )
    print(f"report: {report_dir / 'junit.xml'}", file=sys.stderr)
    raise typer.Exit(int(code))
