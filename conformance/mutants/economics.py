"""Mutants of the economics functions."""

from __future__ import annotations

from conformance.adapters.errors import Rejected
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


class UnnamedSplitRefusal(ReferenceEconomics):
    """Defect: refuses an impossible split (no member, no stake) with a bare error naming no rule,
    as an implementation does whose economics module raises a generic ``ValueError``."""

    def reward_split(
        self, reward: int, member_stakes: dict[str, int], proposer: str
    ) -> dict[str, int]:
        try:
            return super().reward_split(reward, member_stakes, proposer)
        except Rejected as exc:
            raise Rejected(exc.message) from None


class UnnamedSplitRefusalImplementation(ReferenceImplementation):
    name = "mutant-split-refusal-names-no-rule"

    def make_economics(self) -> object:
        return UnnamedSplitRefusal()


class OfflineOffenceRule(ReferenceEconomics):
    """Defect: refuses slashing for being offline, but names R4.6 (offline validators are not
    slashed) instead of R4.2, the rule that lists the offences."""

    def slash_amount(self, stake: int, offence: str) -> int:
        try:
            return super().slash_amount(stake, offence)
        except Rejected as exc:
            raise Rejected(exc.message, "R4.6") from None


class OfflineOffenceRuleImplementation(ReferenceImplementation):
    name = "mutant-unknown-offence-names-r4-6"

    def make_economics(self) -> object:
        return OfflineOffenceRule()


MUTANTS += [
    Mutant(
        name="split-refusal-names-no-rule",
        defect="an impossible reward split (no member, no stake) is refused naming no rule",
        breaks=("R1.3",),
        capabilities=("economics",),
        build=UnnamedSplitRefusalImplementation,
    ),
    Mutant(
        name="unknown-offence-names-r4-6",
        defect="slashing for an unknown offence is refused naming R4.6 instead of R4.2",
        breaks=("R4.2",),
        capabilities=("economics",),
        build=OfflineOffenceRuleImplementation,
    ),
]
