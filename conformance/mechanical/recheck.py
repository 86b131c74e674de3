"""Bring an earlier campaign up to date: rerun its survivors against the current suite.

``aethel-conformance selftest --mechanical --recheck OLD`` (OLD: an earlier campaign's directory
or its ``results.jsonl``) runs a campaign at the current commit (its own snapshot, control and
coverage) in which only the mutants the earlier campaign did not kill are run:

* a mutant the earlier campaign killed (``killed`` or ``timeout``) keeps that verdict, copied into
  the new results with the commit it was judged at (``commit``) and where it came from
  (``carried_from``); mutant IDs are stable across edits elsewhere in a module
  (:mod:`conformance.mechanical.generate`), so the same ID is the same change of the same
  statement;
* its survivors, ``no-coverage`` mutants and errors are run again against the current suite (new
  cases may reach or kill them), and so is every mutant it never judged (new code);
* an earlier verdict whose mutant no longer exists (the statement changed) is dropped and counted.

The report then says, per commit, how many verdicts come from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.mechanical.generate import MechanicalMutant

#: Verdicts carried over from an earlier campaign instead of being run again.
CARRIED = frozenset({"killed", "timeout"})


@dataclass(frozen=True, slots=True)
class Earlier:
    """An earlier campaign's verdicts and the commit they were judged at."""

    source: Path
    commit: str
    results: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> Earlier:
        """Read a campaign directory (``results.jsonl``, ``campaign.json``) or a results file."""
        directory = path if path.is_dir() else path.parent
        results_file = path / "results.jsonl" if path.is_dir() else path
        if not results_file.exists():
            raise FileNotFoundError(f"{results_file}: no results of an earlier campaign")
        record_file = directory / "campaign.json"
        commit = "unknown"
        if record_file.exists():
            commit = json.loads(record_file.read_text(encoding="utf-8")).get("commit", "unknown")
        results: dict[str, dict[str, Any]] = {}
        for line in results_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                results[row["id"]] = row
        return cls(path, commit, results)


@dataclass(frozen=True, slots=True)
class RecheckPlan:
    """What a recheck carries over and what it runs."""

    carried: list[dict[str, Any]]
    to_run: list[MechanicalMutant]
    rerun_survivors: int
    never_judged: int
    dropped: int


def plan_recheck(
    earlier: Earlier,
    mutants: list[MechanicalMutant],
    every: list[MechanicalMutant],
    current: dict[str, dict[str, Any]],
) -> RecheckPlan:
    """Split ``mutants`` (the current selection) into carried verdicts and mutants to run.

    ``every`` is every current mutant of the selected modules (a sample's too): an earlier
    verdict of one of those modules whose ID is not among them is dropped (the mutant is gone).

    ``current`` holds the results the recheck campaign already has (a resumed recheck): those
    mutants are neither carried again nor run again here (the campaign's own resume runs its
    errors again).
    """
    carried: list[dict[str, Any]] = []
    to_run: list[MechanicalMutant] = []
    rerun = never = 0
    for mutant in mutants:
        old = earlier.results.get(mutant.id)
        if old is not None and old["verdict"] in CARRIED:
            if mutant.id not in current:
                carried.append(
                    old
                    | {
                        "commit": old.get("commit") or earlier.commit,
                        "carried_from": str(earlier.source),
                    }
                )
            continue
        if old is None:
            never += 1
        else:
            rerun += 1
        to_run.append(mutant)
    ids = {m.id for m in every}
    modules = {m.module for m in every}
    dropped = sum(1 for i in earlier.results if i not in ids and i.split(":", 1)[0] in modules)
    return RecheckPlan(carried, to_run, rerun, never, dropped)
