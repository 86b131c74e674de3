"""Mutants of the economics functions."""

from __future__ import annotations

from conformance.adapters.reference import ReferenceEconomics, ReferenceImplementation
from conformance.mutants import Mutant


class FloatRewardSplit(ReferenceEconomics):
    """Defect: shares by true division (floats), the classic ``reward * stake / total``."""

    def reward_split(
        self, reward: int, member_stakes: dict[str, int], proposer: str
    ) -> dict[str, int]:
        super().reward_split(reward, member_stakes, proposer)  # the reference's input checks
        total = sum(member_stakes.values())
        shares = {v: reward * s / total for v, s in sorted(member_stakes.items())}
        shares.setdefault(proposer, 0.0)
        return shares  # type: ignore[return-value]


class FloatRewardImplementation(ReferenceImplementation):
    name = "mutant-float-rewards"

    def make_economics(self) -> object:
        return FloatRewardSplit()


MUTANTS = [
    Mutant(
        name="float-rewards",
        defect="reward shares computed as floats (reward * stake / total), no integer remainder",
        breaks=("P3",),
        capabilities=("economics",),
        build=FloatRewardImplementation,
    )
]
