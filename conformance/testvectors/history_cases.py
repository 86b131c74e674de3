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


#: The first height of protocol version 2 in the chain of both versions (V2.1).
V2_ACTIVATION = 3


@functools.cache
def chain_v2() -> Chain:
    """Return the chain of both versions: heights 1 and 2 in version 1, 3 and 4 in version 2
    (aggregate certificates, blocks signed in version 2's domain); its validator set carries
    the BLS keys and the first height of version 2."""
    return make_chain(protocol_v2_height=V2_ACTIVATION)


def version_2_histories(c: Chain) -> dict[str, tuple[History, int | None]]:
    """Return the histories of the chain of both versions by name, each with the first height
    that does not verify (None: the whole history verifies). Suite cases only, not exported as
    vectors: the vector release is of consensus version 1."""
    under_quorum = build_case(c, "under-quorum", V2_ACTIVATION - 1).history
    link = c.link(V2_ACTIVATION)
    real = link.certificate
    assert real is not None
    listed = sign_certificate(
        c, real.height, real.view, real.digest, real.post_root, all_validators(c)
    )
    made = {
        "both-versions": (c.history, None),
        # A version-1 height of it checked by version 1's rules (R2.3), not left unchecked.
        "under-quorum-at-the-last-version-1-height": (under_quorum, V2_ACTIVATION - 1),
        # Every member signed, in version 1's form, at a version-2 height (V2.2).
        "version-1-certificate-at-the-first-version-2-height": (
            c.history.replace(V2_ACTIVATION - 1, HistoryLink(link.block, listed, link.changes)),
            V2_ACTIVATION,
        ),
    }
    assert tuple(made) == VERSION_2_HISTORIES
    return made


#: The names of the histories of the chain of both versions.
VERSION_2_HISTORIES = (
    "both-versions",
    "under-quorum-at-the-last-version-1-height",
    "version-1-certificate-at-the-first-version-2-height",
)


def version_2_verdict(c: Chain, history: History, failing: int | None) -> dict[str, Any]:
    """Return the verdict, in its compared form, on a history of the chain of both versions."""
    if failing is not None:
        return {"accepted": False, "height": failing}
    case = valid_case(c, history)
    assert case.root is not None
    return {"accepted": True, "height": case.height, "root": to_hex(case.root)}


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
    "minted-then-shorter-valid",
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
        # The verifiable one even when it is the shorter: the other fails at height 3, past
        # its tip (written from the mechanical survivor ``aethel/consensus/history_verifier.py:
        # HistoryVerifier.choose:ReplaceAndWithOr:1e254f04``, which compared their heights).
        "minted-then-shorter-valid": (minted, whole.prefix(2), "second", None),
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
