"""Pytest plugin of a campaign's traced control run: tell the served implementation the case.

Loaded with ``-p conformance.mechanical.caseplugin`` in the harness's pytest process. Before each
case (its set-up included) it writes the case's node ID to the file named by
``AETHEL_MECH_CASE_FILE``; the traced implementation (:mod:`conformance.mechanical.serve`) reads
it before each request and records the lines it runs under that case. After the last case the
file is emptied, so what follows (shutdown) is not charged to a case.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.mechanical.serve import CASE_FILE_ENV


def _write(text: str) -> None:
    name = os.environ.get(CASE_FILE_ENV)
    if not name:
        return
    path = Path(name)
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _write(nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _write("")
