"""Shared fixtures of the proof tests: keys, a judge and a small verified standard mix."""

from __future__ import annotations

import random

import pytest

from aethel.encoding import KeyPair
from aethel.proofs.judge import Judge, generate_standard_mix
from aethel.proofs.model import Proof


@pytest.fixture(scope="session")
def judge_key() -> KeyPair:
    return KeyPair.generate(random.Random(4001))


@pytest.fixture(scope="session")
def judge(judge_key: KeyPair) -> Judge:
    return Judge(judge_key)


@pytest.fixture(scope="session")
def mix() -> list[Proof]:
    """Forty proofs of the standard mix (seed 8): 37 transfers, 2 batches, 1 reward split."""
    return generate_standard_mix(40, seed=8)
