"""Replay files: a run's parameters and its resolved fault schedule, to run it again.

A replay file (``replay.json`` in every run's report directory) holds everything that decides a
run: the node command, the validator count and mix, the seed (keys, workload, proxy draws), the
duration and bounds, and the schedule as it was carried out (targets chosen at run time, such as
the leader of the moment, are written as the node they were). ``aethel-conformance network
--replay FILE`` runs it again and compares the outcome with the one the file recorded
(:func:`compare`).

Processes and timing are real, so a replay repeats the faults, not every interleaving; each
fault starts at the height it met in the recorded run, not at the same second
(:mod:`conformance.network.nemesis`, "Anchored to heights"). The comparison therefore tells
apart the checkers that judge what the nodes said (agreement, validity, conservation,
durability, partition, accusation, reads, contract-api, contract-wire) from those that judge a
deadline (liveness, contract-first-commit, and a node not ready or not
stopped in time: :attr:`Verdict.timing`). The recorded **defect** is the first kind's failures;
the replay reproduces it when each of them fails again, whatever the deadlines did. A failure
made of deadlines only reproduces when they are missed again. Outcomes and exit codes
(:data:`REPLAY_OUTCOMES`; tests/network/test_replay.py):

==========================  ====  ===========================================================
outcome                     exit  when
==========================  ====  ===========================================================
reproduced                  1     every checker of the defect fails again, and the deadlines
                                  that failed before fail again and no others
reproduced (timing differs) 1     every checker of the defect fails again; a deadline that
                                  failed before passes now, or one fails that passed before
reproduced (more failed)    1     every checker of the defect fails again, and another
                                  checker of what the nodes said fails too
not reproduced              0     no checker fails now
partly reproduced           5     some checkers of the defect fail again, not all
different failure           5     checkers fail now, none of the defect's (or the recorded
                                  run failed only deadlines and those pass now while
                                  another checker fails; or it failed nothing)
inconclusive                3     none of the above failed, but a checker of the defect
                                  reached no verdict (``unknown``)
==========================  ====  ===========================================================

A replay that cannot start (a bad file, a bad node command) exits 2, as every run does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.network.checkers import UNKNOWN, Verdict
from conformance.network.contract import CONTRACT_VERSION, ContractError
from conformance.network.nemesis import Fault
from conformance.network.run import RunConfig, RunRecord

FORMAT = "aethel-network-replay/2"
#: Format 1 (before the derived liveness bound): its ``liveness_bound`` was the harness's only,
#: fixed, bound (60 s unless given); a replay of it is judged by the derived bound now.
FORMAT_1 = "aethel-network-replay/1"
#: Checkers whose verdict is always a deadline: the fallback for a replay file written before
#: the file named its deadline failures (``failure.timing``).
ALWAYS_TIMING = frozenset({"liveness", "contract-first-commit"})

REPRODUCED = 1
NOT_REPRODUCED = 0
INCONCLUSIVE = 3
DIFFERENT = 5
#: Each outcome's exit code (the module docstring's table).
REPLAY_OUTCOMES = {
    "reproduced": REPRODUCED,
    "reproduced (timing differs)": REPRODUCED,
    "reproduced (more failed)": REPRODUCED,
    "not reproduced": NOT_REPRODUCED,
    "partly reproduced": DIFFERENT,
    "different failure": DIFFERENT,
    "inconclusive": INCONCLUSIVE,
}


@dataclass(frozen=True, slots=True)
class RecordedFailure:
    """The checkers that failed in the run a replay file was written from."""

    checkers: tuple[str, ...]
    #: Those of ``checkers`` whose failure was a missed deadline (:attr:`Verdict.timing`).
    timing: tuple[str, ...]

    @property
    def defect(self) -> tuple[str, ...]:
        """The failures of what the nodes said: what a replay must show again."""
        return tuple(c for c in self.checkers if c not in self.timing)


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """A replay compared with its recorded failure: the outcome, its exit code, one line."""

    name: str
    code: int
    line: str


def resolved_schedule(record: RunRecord) -> list[Fault]:
    """The faults as carried out, then those the run did not reach."""
    applied = [a.fault for a in record.applied]
    return applied + list(record.schedule[len(applied) :])


def write_replay(path: Path, record: RunRecord, verdicts: list[Verdict]) -> None:
    config = record.config
    failed = [v for v in verdicts if v.failed]
    value: dict[str, Any] = {
        "format": FORMAT,
        "contract": CONTRACT_VERSION,
        "impl": config.impl,
        "validators": config.validators,
        "mix": config.mix,
        "nemeses": list(config.nemeses),
        "seed": config.seed,
        "duration": config.duration,
        "clients": config.clients,
        "startup_timeout": config.startup_timeout,
        #: null: derived by the run (:mod:`conformance.network.bound`); a number: an override.
        "liveness_bound": config.liveness_bound,
        "liveness": None if record.liveness is None else record.liveness.to_json(),
        "stop_grace": config.stop_grace,
        "schedule": [fault.to_json() for fault in resolved_schedule(record)],
        "failure": {
            "checkers": [v.checker for v in failed],
            "timing": [v.checker for v in failed if v.timing],
            "rules": sorted({r for v in failed for r in v.rules}),
            "messages": {v.checker: v.message for v in failed},
        },
    }
    path.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")


def read_replay(path: Path, impl: str | None = None) -> tuple[RunConfig, RecordedFailure]:
    """The run a replay file describes (``impl`` overrides its command) and the checkers that
    failed when it was written.

    The liveness bound is the file's override if it names one (format 2); a format-1 file's
    fixed bound is dropped, so the replay is judged by the bound derived now (the command's
    ``--liveness-bound`` overrides either)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"cannot read the replay file {path}: {exc}") from None
    if not isinstance(value, dict) or value.get("format") not in (FORMAT, FORMAT_1):
        raise ContractError(f"{path} is not a replay file ({FORMAT} or {FORMAT_1})")
    try:
        fixed = value["liveness_bound"]
        bound = None if fixed is None or value["format"] == FORMAT_1 else float(fixed)
        config = RunConfig(
            impl=impl or str(value["impl"]),
            validators=int(value["validators"]),
            mix=int(value["mix"]),
            nemeses=tuple(value["nemeses"]),
            seed=int(value["seed"]),
            duration=float(value["duration"]),
            clients=int(value["clients"]),
            startup_timeout=float(value["startup_timeout"]),
            liveness_bound=bound,
            stop_grace=float(value["stop_grace"]),
            schedule=tuple(Fault.from_json(f) for f in value["schedule"]),
        )
        checkers = tuple(str(c) for c in value["failure"]["checkers"])
        recorded = value["failure"].get("timing")
        timing = (
            tuple(c for c in checkers if c in ALWAYS_TIMING)
            if recorded is None
            else tuple(str(c) for c in recorded if c in checkers)
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ContractError(f"{path}: a malformed replay file ({exc})") from None
    return config, RecordedFailure(checkers, timing)


def compare(before: RecordedFailure, verdicts: list[Verdict]) -> ReplayOutcome:
    """The replay's outcome (the module docstring's table) against the recorded failure."""
    failed = [v for v in verdicts if v.failed]
    now = {v.checker for v in failed}
    unknown = {v.checker for v in verdicts if v.status == UNKNOWN}
    timing_now = {v.checker for v in failed if v.timing}
    said_now = now - timing_now
    defect = set(before.defect)
    timing_before = set(before.timing)

    def names(items: set[str] | tuple[str, ...]) -> str:
        return ", ".join(sorted(items)) or "none"

    facts = (
        f"defect then: {names(before.defect)}; deadlines then: {names(before.timing)}; "
        f"now failing: {names(now)}"
    )
    if defect:
        again = defect & now
        if again == defect:
            more = said_now - defect
            if more:
                name = "reproduced (more failed)"
                why = f"the defect's checkers fail again, and {names(more)} too"
            elif timing_now != timing_before:
                name = "reproduced (timing differs)"
                why = (
                    f"the defect's checkers fail again; deadlines missed then: "
                    f"{names(timing_before)}, now: {names(timing_now)}"
                )
            else:
                name, why = "reproduced", "the same checkers fail again"
        elif again:
            name = "partly reproduced"
            why = f"of the defect's checkers only {names(again)} fail again"
        elif not now and defect & unknown:
            name = "inconclusive"
            why = f"the defect's {names(defect & unknown)} reached no verdict"
        elif not now:
            name, why = "not reproduced", "every checker passes now"
        else:
            name, why = "different failure", "none of the defect's checkers fails again"
    elif timing_before:
        if timing_before <= timing_now and not said_now:
            name, why = "reproduced", "the same deadlines are missed again"
        elif timing_before <= timing_now:
            name = "reproduced (more failed)"
            why = f"the same deadlines are missed again, and {names(said_now)} fail too"
        elif not now and timing_before & unknown:
            name = "inconclusive"
            why = f"{names(timing_before & unknown)} reached no verdict"
        elif not now:
            name = "not reproduced"
            why = "the recorded failure was deadlines only, and they are met now"
        elif timing_before & timing_now:
            name = "partly reproduced"
            why = f"of the deadlines missed then only {names(timing_before & timing_now)} again"
        else:
            name, why = "different failure", "other checkers fail than the recorded deadlines"
    elif now:
        name, why = "different failure", "the recorded run failed no checker"
    else:
        name, why = "not reproduced", "the recorded run failed no checker and none fails now"
    return ReplayOutcome(name, REPLAY_OUTCOMES[name], f"{name}: {why} ({facts})")


__all__ = [
    "ALWAYS_TIMING",
    "FORMAT",
    "FORMAT_1",
    "REPLAY_OUTCOMES",
    "RecordedFailure",
    "ReplayOutcome",
    "compare",
    "read_replay",
    "resolved_schedule",
    "write_replay",
]
