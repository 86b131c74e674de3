"""Which cases can reach which lines: the coverage of the control run, recorded per case.

The control run serves the pristine snapshot under coverage (:mod:`conformance.mechanical.serve`)
and tells it the current case (:mod:`conformance.mechanical.caseplugin`), so each line of
``aethel/`` run by the implementation is recorded with the cases that ran it. Lines run before any
case (imports, start-up) are recorded under the start-up context.

A mutant inside a function runs the cases that ran one of its lines (``direct``), fastest first.
A case that never ran a mutated line behaves exactly as on the reference: the served program
differs from the pristine one only on the mutated lines, so such a case could only see the mutant
through state an earlier case left in the implementation process, and that earlier case ran the
line and is chosen itself. (Until campaign format 2 these cases ran too, every case that ran any
line of the enclosing function; ``reports/selftest/selection-check-*.md`` compares both choices on
a sample.) A mutant inside a function no case entered at a mutated line cannot change any case's
outcome: it is ``no-coverage``, not run.

A mutant at module or class level (a constant, a default, a decorator, a dataclass flag) acts at
import, before any case: it runs every case that ran a line of its module, and so does a mutant
whose lines ran at start-up (a function called while importing), direct cases first.

Coverage is complete only if every served process saved its lines: the traced implementation
saves after every answered request (:mod:`conformance.mechanical.serve`), so the processes the
crash cases SIGKILL keep what they ran. Lines run only in the worker processes of the shared
proof-verification pool (:mod:`aethel.proofs.parallel`) are not traced; the same functions run in
the served process when a block is verified sequentially.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from conformance.mechanical.generate import MechanicalMutant
from conformance.mechanical.serve import STARTUP


@dataclass
class CoverageMap:
    """Lines of each module (``aethel/x.py``) -> node IDs of the cases that ran them."""

    lines: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    startup: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data_dir: Path, workspace: Path) -> CoverageMap:
        """Read every coverage data file of ``data_dir`` (one per served process)."""
        import coverage

        result = cls()
        prefix = str(workspace.resolve()) + "/"
        lines: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        startup: dict[str, set[int]] = defaultdict(set)
        for path in sorted(data_dir.glob(".coverage*")):
            data = coverage.CoverageData(basename=str(path))
            data.read()
            for filename in data.measured_files():
                if not filename.startswith(prefix):
                    continue
                module = filename.removeprefix(prefix)
                for line, contexts in data.contexts_by_lineno(filename).items():
                    for context in contexts:
                        if context == STARTUP:
                            startup[module].add(line)
                        else:
                            lines[module][line].add(context)
        result.lines = {m: dict(by_line) for m, by_line in lines.items()}
        result.startup = dict(startup)
        return result

    def to_json(self) -> dict[str, object]:
        return {
            "lines": {
                m: {str(n): sorted(c) for n, c in sorted(by_line.items())}
                for m, by_line in sorted(self.lines.items())
            },
            "startup": {m: sorted(s) for m, s in sorted(self.startup.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CoverageMap:
        lines_data = data["lines"]
        startup_data = data["startup"]
        assert isinstance(lines_data, dict) and isinstance(startup_data, dict)
        return cls(
            lines={
                m: {int(n): set(c) for n, c in by_line.items()} for m, by_line in lines_data.items()
            },
            startup={m: set(s) for m, s in startup_data.items()},
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> CoverageMap:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def reached(self, module: str) -> bool:
        """Return True if any line of ``module`` ran, in a case or at start-up."""
        return bool(self.lines.get(module)) or bool(self.startup.get(module))

    def select(
        self, mutant: MechanicalMutant, passing: dict[str, float], *, enclosing: bool = False
    ) -> tuple[list[str], int]:
        """Return the cases to run against ``mutant`` and how many of them ran its lines.

        Only cases in ``passing`` (node ID -> control duration) are chosen: a case that did not
        pass on the reference cannot kill a mutant. Each group is ordered fastest first.
        ``enclosing`` adds, for a mutant inside a function, the cases that ran any line of that
        function (the choice of campaign format 1, kept to compare).
        """
        by_line = self.lines.get(mutant.module, {})
        direct = {c for n in mutant.lines for c in by_line.get(n, ())} & passing.keys()
        at_startup = any(n in self.startup.get(mutant.module, ()) for n in mutant.lines)
        # A mutant of a ``def`` line (a default value) acts when the module is imported, which
        # in a warm server may happen inside whichever case first needed the module: the cases
        # that ran the line are not those the default matters to.
        at_startup = at_startup or (mutant.scope != (0, 0) and mutant.scope[0] in mutant.lines)

        def order(cases: set[str]) -> list[str]:
            return sorted(cases, key=lambda c: (passing[c], c))

        if mutant.scope != (0, 0) and not at_startup:
            if not enclosing:
                return order(direct), len(direct)
            first, last = mutant.scope
            around = {c for n, cs in by_line.items() if first <= n <= last for c in cs}
            return order(direct) + order((around & passing.keys()) - direct), len(direct)
        module = {c for cs in by_line.values() for c in cs} & passing.keys()
        return order(direct) + order(module - direct), len(direct)
