"""Progress lines for long commands whose output is not a terminal (CI logs).

A terminal gets live progress bars; a CI log gets nothing from them until the end, so a run that
takes minutes looks hung. :class:`Heartbeat` prints one line every ``interval`` seconds (30 by
default, ``AETHEL_PROGRESS_INTERVAL`` to change it, 0 to turn it off) while a job runs and
standard output is not a terminal: what it is doing, how far it is and how long it has taken.
Used by ``aethel-conformance run`` and ``selftest`` (through the run), ``prove`` and
``aethel bench``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

DEFAULT_INTERVAL_S = 30.0


def interval_s() -> float:
    """Return the heartbeat interval from ``AETHEL_PROGRESS_INTERVAL`` (default 30 s)."""
    try:
        return float(os.environ.get("AETHEL_PROGRESS_INTERVAL", DEFAULT_INTERVAL_S))
    except ValueError:
        return DEFAULT_INTERVAL_S


def wants_lines() -> bool:
    """Return whether progress should be lines: standard output is not a terminal."""
    return not sys.stdout.isatty()


def elapsed_text(seconds: float) -> str:
    """Return ``1m05s`` style elapsed time."""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Heartbeat:
    """Print ``label: <describe()>, <elapsed> elapsed`` every interval until stopped."""

    def __init__(
        self,
        label: str,
        describe: Callable[[], str],
        *,
        interval: float | None = None,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.describe = describe
        self.interval = interval_s() if interval is None else interval
        self.stream = stream or sys.stderr
        self.enabled = (wants_lines() if enabled is None else enabled) and self.interval > 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self) -> str:
        """Return the progress line as of now."""
        elapsed = elapsed_text(time.monotonic() - self.started)
        return f"{self.label}: {self.describe()}, {elapsed} elapsed"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                print(self.line(), file=self.stream, flush=True)
            except Exception:  # a progress line must never break the job
                return

    def start(self) -> Heartbeat:
        """Start printing (if enabled); return self."""
        self.started = time.monotonic()
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop printing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
