"""The implementation under test of a mechanical campaign: the reference served over stdio.

``python -P -m conformance.mechanical.serve`` serves the reference over the subprocess protocol
(:func:`conformance.protocol.server.serve`), importing ``aethel`` from the first entry of
``PYTHONPATH``: the campaign's workspace, a copy of the pristine snapshot with at most one mutated
module. Only this process runs mutated code; the harness, its oracles and the control's harness
import the repository's pristine ``aethel``.

Environment:

* ``AETHEL_MECH_ROOT``: the workspace. The process refuses to serve (exit 3) unless ``aethel``
  was imported from it, so a mis-set path cannot make a mutant look killed or alive.
* ``AETHEL_MECH_TRACE``: when set, a coverage data file; lines run are recorded per case (the
  harness's :mod:`conformance.mechanical.caseplugin` writes the current case to
  ``AETHEL_MECH_CASE_FILE``, read before each request) and saved after every answered request,
  so a process the harness SIGKILLs (the crash cases do, many times) keeps every line of the
  requests it answered before.

The process ends by itself when the process that started it (the harness) is gone, even if a
mutant keeps it busy in a loop: a watchdog thread compares the parent's PID every second. A
killed harness therefore leaves no mutated implementation behind.

cosmic-ray's ExceptionReplacer writes ``except CosmicRayTestingException:``; the name is put in
builtins here, so such a handler catches nothing (the handler is gone), as cosmic-ray intends.
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

ROOT_ENV = "AETHEL_MECH_ROOT"
TRACE_ENV = "AETHEL_MECH_TRACE"
CASE_FILE_ENV = "AETHEL_MECH_CASE_FILE"
#: The harness: read as the module loads, before the slow imports of :func:`main`, so a harness
#: that dies during start-up is still noticed (the process is re-parented before the watchdog runs).
_HARNESS = os.getppid()
#: Context of lines run before the first case (imports, start-up).
STARTUP = ""


class _CaseLines:
    """Request lines of ``source``; before each, switch coverage to the harness's current case."""

    def __init__(self, source: IO[str], cov: Any, case_file: Path | None) -> None:
        self.source = source
        self.cov = cov
        self.case_file = case_file
        self.current = STARTUP

    def _case(self) -> str:
        if self.case_file is None:
            return STARTUP
        try:
            return self.case_file.read_text(encoding="utf-8")
        except OSError:
            return STARTUP

    def __iter__(self) -> Iterator[str]:
        while True:
            self.cov.save()  # the lines of the request answered last
            line = self.source.readline()
            if not line:
                return
            case = self._case()
            if case != self.current:
                self.cov.switch_context(case)
                self.current = case
            yield line


def _stop_on_term(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _watch_parent(parent: int) -> None:
    """End this process once its parent is gone (it is then re-parented)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(70)


def main() -> None:
    """Serve the reference from the workspace (see the module docstring)."""
    from cosmic_ray.exceptions import CosmicRayTestingException

    builtins.CosmicRayTestingException = CosmicRayTestingException  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, _stop_on_term)
    threading.Thread(target=_watch_parent, args=(_HARNESS,), daemon=True).start()
    root = Path(os.environ[ROOT_ENV]).resolve()
    trace = os.environ.get(TRACE_ENV)
    cov: Any = None
    if trace:
        import coverage

        cov = coverage.Coverage(
            data_file=trace,
            data_suffix=True,
            config_file=False,  # not the project's [tool.coverage] (it names other sources)
            source=[str(root / "aethel")],
            branch=False,
        )
        cov.start()
    try:
        import aethel

        where = Path(aethel.__file__ or "").resolve()
        if root not in where.parents:
            sys.stderr.write(f"aethel was imported from {where}, not from the workspace {root}\n")
            raise SystemExit(3)
        from conformance.adapters.loader import load_implementation
        from conformance.protocol.server import serve

        source: Any = sys.stdin
        if cov is not None:
            case_file = os.environ.get(CASE_FILE_ENV)
            source = _CaseLines(sys.stdin, cov, Path(case_file) if case_file else None)
        serve(load_implementation("reference"), source, sys.stdout)
    finally:
        if cov is not None:
            cov.stop()
            cov.save()


if __name__ == "__main__":
    main()
