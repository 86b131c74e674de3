"""Presented histories and the verdict or choice a conforming verifier gives (vectors under
``history/verify/`` and ``history/choose/``; importable by the suite).

The histories are the suite's (:mod:`conformance.histories`): a real chain of four heights from
the reference simulator, and copies with one defect at one height, each with the verdict its
table gives (never asked of the reference). A verdict is compared as the suite compares it:
``{accepted, height, root}`` for an accepted history, ``{accepted, height}`` for a refused one
(the rule and reason an implementation gives are informative).

Spec: R3.3, R7.4, P12, P29 (and the rule each tamper breaks).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from aethel.consensus.history import History, HistoryLink
from aethel.encoding import to_hex
from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected
from conformance.histories import (
    TAMPERS,
    Chain,
    all_validators,
    alternative_link,
    build_case,
    make_chain,
    sign_certificate,
    valid_case,
)

#: (handler, case, rules, input).
HistoryCase = tuple[str, str, tuple[str, ...], dict[str, Any]]
#: The height a tamper goes at (the last one for tampers that need a later height).
TAMPER_HEIGHT = 3
CHAIN_HEIGHTS = 4


@functools.cache
def chain() -> Chain:
    """Return the chain every history case derives from (a real run of the simulator)."""
    return make_chain()


def _anchor(c: Chain) -> dict[str, Any]:
    return {"genesis": c.genesis_json(), "validator_set": c.validators.to_wire()}


#: The names of the valid histories and of the pairs of histories (known without the chain).
VALID_HISTORIES = (
    "whole-chain",
    "roots-only",
    "first-two-heights",
    "empty",
    "tip-certified-in-view-5000",
)
#: A view past any bound a verifier might put on the views it scans for a block's proposer.
LATE_VIEW = 5_000
#: The valid history whose tip is certified in :data:`LATE_VIEW` (R2.6: a re-proposed block).
LATE_VIEW_HISTORY = "tip-certified-in-view-5000"
CHOICES = (
    "valid-then-minted",
    "minted-then-valid",
    "both-tampered",
    "prefix-then-whole",
    "whole-then-prefix",
    "fork-at-3",
)


def valid_histories(c: Chain) -> dict[str, History]:
    """Return the valid histories by name: the whole chain, roots only, a prefix, none, and the
    whole chain with its tip certified in a late view."""
    links = tuple(HistoryLink(x.block, x.certificate, None) for x in c.history.links)
    made = {
        "whole-chain": c.history,
        "roots-only": History(links),
        "first-two-heights": c.history.prefix(2),
        "empty": History(()),
        LATE_VIEW_HISTORY: _tip_in_a_late_view(c),
    }
    assert tuple(made) == VALID_HISTORIES
    return made


def _tip_in_a_late_view(c: Chain) -> History:
    """The chain with its tip's certificate signed by the same members in view
    :data:`LATE_VIEW`: a block is re-proposed unchanged in later views, so it may be certified
    in any view at or after the one its proposer led (R2.6). Written from the mechanical
    survivor ``aethel/consensus/history_verifier.py:is_possible_proposer:
    ReplaceComparisonOperator_IsNot_Is:2986dde1`` (the proposer check past the views the
    reference scans); no history had a certificate past view 0."""
    tip = c.history.links[-1]
    real = tip.certificate
    assert real is not None
    late = sign_certificate(
        c, real.height, LATE_VIEW, real.digest, real.post_root, list(real.members)
    )
    return c.history.replace(len(c.history) - 1, HistoryLink(tip.block, late, tip.changes))


def tamper_height(first: int, last_offset: int) -> int:
    """Return the height a tamper goes at."""
    return max(first, min(TAMPER_HEIGHT, CHAIN_HEIGHTS - last_offset))


def fork(c: Chain, height: int) -> tuple[History, dict[str, Any]]:
    """Return a history forking at ``height`` (q(W) on both sides) and the conflict expected."""
    real = c.link(height).certificate
    assert real is not None
    others = [v for v in all_validators(c) if v != real.members[0]]
    link = alternative_link(c, height, others)
    forked = History((*c.history.links[: height - 1], link))
    both = [v for v in all_validators(c) if v in real.members and v in others]
    stake = sum(c.validators.stake_of(v) for v in both)
    return forked, {"height": height, "signers": both, "stake": stake}


def choices(c: Chain) -> dict[str, tuple[History, History, str, dict[str, Any] | None]]:
    """Return the pairs of histories by name with the choice and conflict expected."""
    whole = c.history
    minted = build_case(c, "mint-quorum", TAMPER_HEIGHT).history
    forked, conflict = fork(c, 3)
    made: dict[str, tuple[History, History, str, dict[str, Any] | None]] = {
        "valid-then-minted": (whole, minted, "first", None),
        "minted-then-valid": (minted, whole, "second", None),
        "both-tampered": (minted, build_case(c, "under-quorum", 2).history, "neither", None),
        "prefix-then-whole": (whole.prefix(2), whole, "second", None),
        "whole-then-prefix": (whole, whole.prefix(2), "first", None),
        "fork-at-3": (whole, forked, "conflict", conflict),
    }
    assert tuple(made) == CHOICES
    return made


def iter_history_cases() -> Iterator[tuple[str, str, tuple[str, ...], dict[str, Any], Any]]:
    """Yield (handler, case, rules, input, the expected outcome from the case tables)."""
    c = chain()
    for name, history in valid_histories(c).items():
        case = valid_case(c, history)
        assert case.root is not None
        expected = {"accepted": True, "height": case.height, "root": to_hex(case.root)}
        data = {**_anchor(c), "history": history.to_wire()}
        rules = ("R3.3", "R2.6") if name == LATE_VIEW_HISTORY else ("R3.3",)
        yield "verify", f"valid-{name}", rules, data, {"result": expected}
    for tamper in TAMPERS:
        height = tamper_height(tamper.first, tamper.last_offset)
        case = build_case(c, tamper.kind, height)
        data = {**_anchor(c), "history": case.history.to_wire()}
        expected = {"accepted": False, "height": height}
        yield "verify", f"{tamper.kind}-at-{height}", tamper.cites, data, {"result": expected}
    for name, (first, second, chosen, conflict) in choices(c).items():
        data = {**_anchor(c), "first": first.to_wire(), "second": second.to_wire()}
        expected = {"chosen": chosen, "conflict": conflict}
        yield "choose", name, ("R3.3", "P12"), data, {"result": expected}


def run_verify(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    """Return the verdict in its compared form (a refusal keeps only accepted and height)."""
    try:
        verdict = impl.api("history").verify(**data)
    except Rejected:
        return {"reject": True}
    if isinstance(verdict, dict) and verdict.get("accepted") is False:
        verdict = {"accepted": False, "height": verdict.get("height")}
    return {"result": verdict}


def run_choose(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    """Return the choice between two histories."""
    try:
        return {"result": impl.api("history").choose(**data)}
    except Rejected:
        return {"reject": True}
