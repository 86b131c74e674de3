"""The reference history verifier (aethel.consensus.history_verifier) behind ``history``."""

from __future__ import annotations

from aethel.consensus.history import HistoryAnchor, HistoryVerdict, parse_history
from aethel.consensus.history_verifier import HistoryVerifier
from aethel.consensus.validators import parse_validator_set
from aethel.encoding import to_hex
from conformance.adapters.api import JSON
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_replica import genesis_from_json


def verdict_to_json(verdict: HistoryVerdict) -> JSON:
    """Return the wire form of a verdict (see the ``history.verify`` command)."""
    if verdict.accepted:
        assert verdict.root is not None
        return {"accepted": True, "height": verdict.height, "root": to_hex(verdict.root)}
    return {
        "accepted": False,
        "height": verdict.height,
        "rule": verdict.rule_id,
        "reason": verdict.reason,
    }


class ReferenceHistory:
    """Capability ``history`` of the reference."""

    verifier_class: type[HistoryVerifier] = HistoryVerifier

    def _setup(self, genesis: JSON, validator_set: JSON) -> tuple[HistoryVerifier, HistoryAnchor]:
        validators = parse_validator_set(validator_set)
        anchor = HistoryAnchor.genesis(genesis_from_json(genesis))
        return self.verifier_class(validators), anchor

    @rejecting
    def verify(self, genesis: JSON, validator_set: JSON, history: JSON) -> JSON:
        verifier, anchor = self._setup(genesis, validator_set)
        return verdict_to_json(verifier.check(anchor, parse_history(history)))

    @rejecting
    def choose(self, genesis: JSON, validator_set: JSON, first: JSON, second: JSON) -> JSON:
        verifier, anchor = self._setup(genesis, validator_set)
        choice = verifier.choose(anchor, parse_history(first), parse_history(second))
        fork = choice.fork
        conflict = (
            None
            if fork is None
            else {"height": fork.height, "signers": list(fork.signers), "stake": fork.stake}
        )
        return {"chosen": choice.choice.value, "conflict": conflict}
