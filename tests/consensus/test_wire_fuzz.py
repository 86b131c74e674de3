"""Malformed consensus messages get a typed error, never a crash (E2, E12, R7.5).

Real wire forms of every message type (recorded from a cluster that commits, changes view and
finds evidence) are mutated at a random place: a value replaced by arbitrary JSON (huge
integers, floats, lone surrogates, nested lists), a member removed or added. Parsing must either
give a message whose canonical form a replica can compute, or raise an :class:`AethelError`
(the typed error naming the rule): no ``KeyError``, ``TypeError``, ``ValueError`` or
``RecursionError`` may escape, since a peer could send exactly that.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import (
    Commit,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.wire import parse_message
from aethel.encoding import canonical_json
from aethel.errors import AethelError

from .slashing import make_slashed_chain

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["\ud800", "00" * 32, "zz" * 32, "prepare", "commit", "block"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


@functools.cache
def _samples() -> tuple[dict[str, Any], ...]:
    """Wire forms of every message type a replica receives, built from a real chain."""
    chain = make_slashed_chain([10_000] * 4, ["v000"], heights=2)
    block, certificate = chain.link(2)  # carries evidence and the certificate of height 1
    signers = [chain.signers[name] for name in ("v001", "v002", "v003")]
    pre_prepare = PrePrepare.create(chain.signers[block.proposer], 0, block)
    prepares = tuple(Prepare.create(s, 2, 0, block.digest) for s in signers)
    prepared = PrepareCertificate(2, 0, block.digest, prepares)
    changes = [ViewChange.create(s, 2, 1, prepared, block) for s in signers]
    reproposal = PrePrepare.create(signers[0], 1, block)
    evidence = block.evidence[0]
    assert isinstance(evidence, Evidence)
    messages = (
        pre_prepare,
        prepares[0],
        Commit.create(signers[0], 2, 0, block.digest, certificate.post_root),
        prepared,
        certificate,
        changes[0],
        ViewChange.create(signers[1], 2, 1, None, None),
        NewView.create(signers[0], changes, prepared, reproposal),
        evidence,
    )
    return tuple(m.to_wire() for m in messages)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.extend(_paths(item, (*prefix, index)))
    return paths


def _mutate(wire: dict[str, Any], path: tuple[Any, ...], action: str, new: Any) -> Any:
    root = copy.deepcopy(wire)
    if not path:
        return new
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = new
    elif action == "remove":
        del parent[last]
    elif isinstance(parent, dict):  # add a member beside it
        parent[f"{last}_extra"] = new
    else:
        parent.insert(last, new)
    return root


@pytest.mark.req("E12", "E2", "R7.5")
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_mutated_message_parses_or_fails_with_a_typed_error(data: st.DataObject) -> None:
    wire = data.draw(st.sampled_from(_samples()))
    path = data.draw(st.sampled_from(_paths(wire)))
    action = data.draw(st.sampled_from(["replace", "remove", "add"]))
    mutated = _mutate(wire, path, action, data.draw(JSON))
    try:
        message = parse_message(mutated)
    except AethelError as refused:
        # A decoded value has no bytes to be non-canonical: its refusal names the member's rule.
        assert getattr(refused, "rule_id", None) != "E4", refused
        return
    # Accepted: a replica will re-encode and hash it, which must not fail either, and the
    # canonical form must parse back to the same message.
    canonical_json(message.to_wire())
    assert parse_message(message.to_wire()) == message


def test_every_message_type_is_sampled() -> None:
    kinds = {wire["type"] for wire in _samples()}
    assert {
        "pre-prepare",
        "prepare",
        "commit",
        "prepare-certificate",
        "commit-certificate",
        "view-change",
        "new-view",
        "evidence",
    } <= kinds, kinds
