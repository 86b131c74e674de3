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


class UncheckedFormulas(ReferenceEconomics):
    """Defect: the reward and emission formulas computed as written, with no domain check: an
    implementation that trusts its caller (difficulty comes from a verified proof, so why check
    it?) answers reward(-1) = -10, block_reward(-1) = -10 and E(-1) = -5,000,000.
    ``unchecked`` names the formula(s) written that way."""

    unchecked: tuple[str, ...] = ()

    def proof_reward(self, difficulty: int) -> int:
        if "proof_reward" in self.unchecked:
            return 10 * difficulty
        return super().proof_reward(difficulty)

    def block_reward(self, total_difficulty: int) -> int:
        if "block_reward" in self.unchecked:
            return min(10 * total_difficulty, 5_000_000)
        return super().block_reward(total_difficulty)

    def emission_limit(self, height: int) -> int:
        if "emission_limit" in self.unchecked:
            return height * 5_000_000
        return super().emission_limit(height)


def _unchecked(formula: str) -> type[ReferenceImplementation]:
    economics = type(f"Unchecked_{formula}", (UncheckedFormulas,), {"unchecked": (formula,)})
    label = f"mutant-unchecked-{formula.replace('_', '-')}"
    return type(
        f"Unchecked{formula.title().replace('_', '')}Implementation",
        (ReferenceImplementation,),
        {"name": label, "make_economics": lambda self: economics()},
    )


UncheckedProofRewardImplementation = _unchecked("proof_reward")
UncheckedBlockRewardImplementation = _unchecked("block_reward")
UncheckedEmissionLimitImplementation = _unchecked("emission_limit")

MUTANTS += [
    Mutant(
        name="negative-difficulty-rewarded",
        defect="proof_reward computes 10 x difficulty for any integer: reward(-1) = -10",
        breaks=("R1.2",),
        capabilities=("economics",),
        build=UncheckedProofRewardImplementation,
    ),
    Mutant(
        name="negative-total-difficulty-rewarded",
        defect="block_reward computes min(10 x D, cap) for any integer D: a negative reward",
        breaks=("R4.4",),
        capabilities=("economics",),
        build=UncheckedBlockRewardImplementation,
    ),
    Mutant(
        name="emission-limit-of-a-negative-height",
        defect="E(h) = h x 5,000,000 for any integer h: E(-1) = -5,000,000",
        breaks=("R4.7",),
        capabilities=("economics",),
        build=UncheckedEmissionLimitImplementation,
    ),
]
