"""The committed effort known answers (conformance/vectors/verifier/effort.json) are what the
case definitions and the pinned solver give today (N7, R1.4)."""

from __future__ import annotations

import pytest

from conformance.testvectors import effort


@pytest.mark.req("N7", "R1.4")
def test_the_committed_effort_vectors_are_current() -> None:
    assert effort.compare() == [], "regenerate: python -m conformance.testvectors.effort --write"


@pytest.mark.req("N7")
def test_every_family_has_its_cases() -> None:
    families = {case.family for case in effort.load()}
    assert len(families) == 13
    assert {"transfer", "reward-split-of-24", "shares-of-a-reward"} <= families
