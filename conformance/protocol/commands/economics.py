"""Commands of the economics capability: rewards, split, slashing, emission, stake (R1, R4)."""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands.model import ANY, BOOL, INT, NAT, STR, Command, function, mapping

ECO = Capability.ECONOMICS

ECONOMICS: tuple[Command, ...] = (
    function(
        ECO,
        "proof_reward",
        {"difficulty": INT},
        NAT,
        "Return the reward of one verified proof of this difficulty (R1.2).",
    ),
    function(
        ECO,
        "block_reward",
        {"total_difficulty": INT},
        NAT,
        "Return the block reward for this total difficulty (R4.4).",
    ),
    function(
        ECO,
        "emission_limit",
        {"height": INT},
        NAT,
        "Return E(h): the most that may have been minted through this height (R4.7).",
    ),
    function(
        ECO,
        "reward_split",
        {"reward": INT, "member_stakes": mapping(ANY), "proposer": STR},
        mapping(NAT),
        "Split reward among certificate members by stake; remainder to the proposer (R1.3).",
    ),
    function(
        ECO,
        "slash_amount",
        {"stake": INT, "offence": STR},
        NAT,
        "Return the stake burned for offence 'false-claim' or 'equivocation' (R4.2).",
    ),
    function(
        ECO,
        "is_eligible_stake",
        {"stake": INT},
        BOOL,
        "Return whether this stake may sit in a validator set (R4.3).",
    ),
)

#: The commands of each capability of this module.
TABLE: dict[Capability, tuple[Command, ...]] = {
    ECO: ECONOMICS,
}
