"""Tell whether other processes competed for the CPU while a case measured wall time.

A wall-clock threshold missed on a busy machine says nothing about the implementation. The
1-minute load average cannot tell: it counts the measurement's own worker processes, which a
parallel measurement needs on every core. The witness instead compares the CPU time the whole
machine spent busy with the CPU time of this process and its descendants (the implementation
under test and its worker pools, whether still running or already reaped) over the same
interval; the difference is what other processes took.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import psutil

#: Share of the machine's CPU capacity other processes may take before a missed wall-clock
#: threshold is inconclusive rather than failed (0.1 of 2 cores: 0.2 of a core on average).
FOREIGN_SHARE_LIMIT = 0.1


def _busy_s() -> float:
    """Return the CPU seconds the whole machine has spent busy since boot (all cores)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle


def _own_tree_s() -> float:
    """Return the CPU seconds of this process and its descendants, reaped children included."""
    total = 0.0
    me = psutil.Process(os.getpid())
    for process in [me, *me.children(recursive=True)]:
        try:
            t = process.cpu_times()
        except psutil.Error:  # ended between listing and reading: its time is in its parent's
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


@dataclass
class CpuWitness:
    """CPU use of the machine and of this process tree since the witness was created."""

    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    _wall: float = field(default_factory=time.perf_counter)
    _busy: float = field(default_factory=_busy_s)
    _own: float = field(default_factory=_own_tree_s)

    def own_s(self) -> float:
        """Return the CPU seconds this process tree used since creation."""
        return _own_tree_s() - self._own

    def foreign_share(self) -> float:
        """Return the share of the machine's capacity other processes used since creation."""
        wall = time.perf_counter() - self._wall
        if wall <= 0:
            return 0.0
        foreign = (_busy_s() - self._busy) - (_own_tree_s() - self._own)
        return max(0.0, foreign) / (wall * self.cores)
