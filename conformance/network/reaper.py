"""The last line of "no process left behind": node groups outlive no harness, however it dies.

The harness kills every node group it started when a run ends, and at interpreter exit
(:mod:`conformance.network.cluster`). Neither happens when the process that started the nodes
dies without running its cleanup: SIGKILL, or a dask worker torn down while a seed runs (a
campaign stopped with SIGTERM left four reference nodes running, 2026-12-06). So each
interpreter that starts nodes also starts one reaper, a process in a session of its own whose
standard input is a pipe from that interpreter: ``+GROUP`` when a node group starts, ``-GROUP``
when the harness has killed it. When the pipe closes, which the kernel does when the harness
dies however it dies, the reaper sends SIGCONT and SIGKILL to every group still listed (a paused
node is killed too) and exits. A harness that ends normally has listed every group as gone, and
its reaper kills nothing.

Run as ``python -m conformance.network.reaper``; :class:`Reaper` starts it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys


def kill_group(group: int) -> None:
    """SIGCONT then SIGKILL every process of ``group`` (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGCONT)
        os.killpg(group, signal.SIGKILL)


def serve(lines: list[str] | None = None) -> set[int]:
    """Read ``+GROUP`` / ``-GROUP`` lines until end of input; kill the groups left; return them.

    Anything else on a line is ignored (the pipe carries only what :class:`Reaper` writes).
    """
    groups: set[int] = set()
    for line in sys.stdin if lines is None else lines:
        sign, number = line[:1], line[1:].strip()
        if not number.isdigit():
            continue
        if sign == "+":
            groups.add(int(number))
        elif sign == "-":
            groups.discard(int(number))
    for group in sorted(groups):
        kill_group(group)
    return groups


class Reaper:
    """The reaper of this interpreter, started at the first group it is told of."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None

    def _pipe(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "conformance.network.reaper"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
            )
        return self._process

    def _say(self, line: str) -> None:
        process = self._pipe()
        assert process.stdin is not None
        try:
            process.stdin.write(line + "\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            # It died (someone killed it): a new one is started for the next line; the groups
            # it knew are still killed by the harness's own cleanup.
            self._process = None

    def started(self, group: int) -> None:
        """A node group started: kill it if this interpreter dies before :meth:`gone`."""
        self._say(f"+{group}")

    def gone(self, group: int) -> None:
        """The harness killed ``group`` itself."""
        if self._process is not None:
            self._say(f"-{group}")

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the harness is not ours
    serve()
