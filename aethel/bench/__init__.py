"""Benchmark framework: real measurements, printed side by side, comparable run to run.

Each benchmark is a module ``aethel.bench.<name>`` defining ``DESCRIPTION`` (one line) and
``run(quick: bool) -> list[Result]``. ``aethel bench <name>`` prints a table; ``--json`` prints
one object ``{"benchmark", "machine", "results": [{"name", "value", "unit", "goal",
"threshold", "better"}]}``. Goals are what the reference aims for on the 2-core reference
machine; thresholds are the spec's (what conformance enforces); either may be null.

Rules every benchmark keeps: it measures the real thing at the size its result name states,
never extrapolates, never sleeps to fake work; ``quick`` only drops the largest sizes.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any, Literal

from aethel import PROTOCOL_VERSION, __version__
from aethel.errors import UsageError
from aethel.progress import Heartbeat


@dataclass(frozen=True, slots=True)
class Result:
    """One measured number with its goal (reference target) and threshold (spec bound)."""

    name: str
    value: float
    unit: str
    goal: float | None = None
    threshold: float | None = None
    better: Literal["higher", "lower"] = "lower"
    note: str = ""

    def meets(self, bound: float | None) -> bool | None:
        """Return whether ``value`` meets ``bound`` (None if there is no bound)."""
        if bound is None:
            return None
        return self.value >= bound if self.better == "higher" else self.value <= bound


def _read_first(path: str, prefix: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def machine_info() -> dict[str, Any]:
    """Describe the machine a benchmark ran on (printed with every result)."""
    import z3

    mem_kib = _read_first("/proc/meminfo", "MemTotal")
    return {
        "cpu": _read_first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem_kib.split()[0]) / 2**20, 1) if mem_kib else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "z3": z3.get_version_string(),
        "aethel": __version__,
        "protocol": PROTOCOL_VERSION,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def available() -> dict[str, str]:
    """Return ``{name: description}`` of every benchmark module."""
    import aethel.bench as package

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"aethel.bench.{info.name}")
        if hasattr(module, "run"):
            found[info.name] = str(getattr(module, "DESCRIPTION", ""))
    return found


def load(name: str) -> ModuleType:
    """Import benchmark ``name`` or raise :class:`UsageError` listing the known ones."""
    names = available()
    if name not in names:
        raise UsageError(f"unknown benchmark {name!r}; known: {', '.join(sorted(names))}")
    return importlib.import_module(f"aethel.bench.{name}")


def run_benchmark(name: str, quick: bool = False) -> dict[str, Any]:
    """Run benchmark ``name`` and return the JSON object described in this module's docstring."""
    module = load(name)
    runner: Callable[[bool], list[Result]] = module.run
    # In a CI log (standard output not a terminal) a line every 30 s says it still runs.
    label = f"aethel bench {name}{' --quick' if quick else ''}"
    with Heartbeat(label, lambda: "running (results print at the end)"):
        results = runner(quick)
    return {
        "benchmark": name,
        "machine": machine_info(),
        "quick": quick,
        "results": [asdict(result) for result in results],
    }


def timed(function: Callable[[], object], *, repeat: int = 1) -> float:
    """Return the best wall time in seconds of ``repeat`` calls of ``function``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best
