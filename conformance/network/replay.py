"""Replay files: a run's parameters and its resolved fault schedule, to run it again.

A replay file (``replay.json`` in every run's report directory) holds everything that decides a
run: the node command, the validator count and mix, the seed (keys, workload, proxy draws), the
duration and bounds, and the schedule as it was carried out (targets chosen at run time, such as
the leader of the moment, are written as the node they were). ``aethel-conformance network
--replay FILE`` runs it again and says whether the same checkers fail. Processes and timing are
real, so a replay repeats the faults, not every interleaving; a defect the schedule exposes
shows again (tests/network/test_replay.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.network.checkers import Verdict
from conformance.network.contract import CONTRACT_VERSION, ContractError
from conformance.network.nemesis import Fault
from conformance.network.run import RunConfig, RunRecord

FORMAT = "aethel-network-replay/1"


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
        "liveness_bound": config.liveness_bound,
        "stop_grace": config.stop_grace,
        "schedule": [fault.to_json() for fault in resolved_schedule(record)],
        "failure": {
            "checkers": [v.checker for v in failed],
            "rules": sorted({r for v in failed for r in v.rules}),
            "messages": {v.checker: v.message for v in failed},
        },
    }
    path.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")


def read_replay(path: Path, impl: str | None = None) -> tuple[RunConfig, list[str]]:
    """The run a replay file describes (``impl`` overrides its command) and the checkers that
    failed when it was written."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"cannot read the replay file {path}: {exc}") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ContractError(f"{path} is not a replay file ({FORMAT})")
    try:
        config = RunConfig(
            impl=impl or str(value["impl"]),
            validators=int(value["validators"]),
            mix=int(value["mix"]),
            nemeses=tuple(value["nemeses"]),
            seed=int(value["seed"]),
            duration=float(value["duration"]),
            clients=int(value["clients"]),
            startup_timeout=float(value["startup_timeout"]),
            liveness_bound=float(value["liveness_bound"]),
            stop_grace=float(value["stop_grace"]),
            schedule=tuple(Fault.from_json(f) for f in value["schedule"]),
        )
        failed = [str(c) for c in value["failure"]["checkers"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ContractError(f"{path}: a malformed replay file ({exc})") from None
    return config, failed


__all__ = ["FORMAT", "read_replay", "resolved_schedule", "write_replay"]
