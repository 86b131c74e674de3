"""Replica traces: scripted events into one of the implementation's replicas, the outputs and
status expected at each checkpoint (R2.3, R2.6, R3.1, R4.2, R4.3, R5.6, R7.5, R8.5).

The traces are the published vectors ``conformance/vectors/replica/trace/*.json``, in the
manner of the fork-choice tests of Ethereum's consensus-spec-tests: the same files an
implementer replays in their own test runner without Python. Each is built once by
:mod:`conformance.testvectors.trace_cases` (messages signed with the validators' keys, blocks
with real transfers and judge proofs) and its expected checkpoints come from the reference;
outputs are compared in the normal form of :mod:`conformance.testvectors.traces` (log lines,
timer deadlines, the propose timer, loopback sends and the order within a checkpoint left out).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.adapters.api import Implementation
from conformance.checks import expect_equal
from conformance.testvectors.model import Vector, load_vectors
from conformance.testvectors.traces import run_trace


def _refuses(vector: Vector) -> bool:
    """True if the trace sends input the spec says must be refused (a refused step, or one the
    replica may refuse or ignore but must not adopt)."""
    steps = vector.input["steps"]
    checks = vector.expected["result"]["checks"]
    return any(s.get("refusal_allowed") for s in steps) or any(c["refused"] for c in checks)


def _marks(vector: Vector) -> list[Any]:
    marks = [pytest.mark.req(*vector.rules), pytest.mark.capability(*vector.capabilities)]
    if _refuses(vector):
        marks.append(pytest.mark.rejects(vector.rules[0]))
    return marks


def _traces() -> list[Any]:
    return [
        pytest.param(vector, id=vector.case, marks=_marks(vector))
        for vector in load_vectors(every=True)
        if (vector.runner, vector.handler) == ("replica", "trace")
    ]


@pytest.mark.parametrize("vector", _traces())
def test_replica_trace(impl: Implementation, vector: Vector) -> None:
    missing = [c for c in vector.capabilities if c not in impl.capabilities]
    if missing:
        pytest.skip(f"{impl.name} does not declare capability {', '.join(missing)}")
    got = run_trace(impl, vector.input)["result"]["checks"]
    want = vector.expected["result"]["checks"]
    expect_equal(len(got), len(want), f"checkpoints of {vector.case}")
    steps = vector.input["steps"]
    for have, expected in zip(got, want, strict=True):
        step = expected["step"]
        what = f"{vector.case}, after step {step} ({steps[step]['call']})"
        expect_equal(have["refused"], expected["refused"], f"steps refused, {what}")
        expect_equal(have["status"], expected["status"], f"status, {what}")
        expect_equal(have["outputs"], expected["outputs"], f"outputs, {what}")
