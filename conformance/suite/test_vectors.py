"""Replay every generated test vector (conformance/vectors/<runner>/<handler>/<case>.json).

Each vector names its rules and its expected outcome; the implementation gets only the input.
"""

from __future__ import annotations

import pytest

from conformance.adapters.api import Implementation
from conformance.checks import MustReject, expect_equal
from conformance.testvectors.cases import HANDLERS
from conformance.testvectors.model import Vector, load_vectors


def _params() -> list[object]:
    return [
        pytest.param(
            vector,
            id=f"{vector.runner}/{vector.handler}/{vector.case}",
            marks=[pytest.mark.req(*vector.rules), pytest.mark.capability(vector.runner)],
        )
        for vector in load_vectors()
    ]


@pytest.mark.parametrize("vector", _params())
def test_vector(impl: Implementation, vector: Vector) -> None:
    if vector.runner not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare capability {vector.runner}")
    got = HANDLERS[(vector.runner, vector.handler)](impl, vector.input)
    if vector.must_reject and "reject" not in got:
        raise MustReject(f"{vector.path}: must be rejected, got {got.get('result')!r}")
    expect_equal(got, vector.expected, f"outcome of {vector.path}")
