"""A consensus message of another form is refused naming its rule, and changes nothing (E12,
E2, E5; spec/encoding.md, the data model's table of rules named; N6: bad input from peers gets a
typed error).

Each input is a valid message of height 1 (the leader's PRE-PREPARE, a PREPARE, a VIEW-CHANGE
carrying a prepared certificate, a NEW-VIEW) with one member changed: the whole message or a
nested one (a certificate, a carried VIEW-CHANGE, a block) that is not an object, a member
missing or undefined, a member of another JSON type, a number out of its range, a hash in
uppercase hex. The replica must refuse it naming the rule the table gives (a refusal, never a
crash: an answer that is an implementation error fails the case), and afterwards its status is
unchanged and the leader's valid proposal still gets a PREPARE.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from aethel.consensus.messages import Prepare
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal, expect_rejected
from conformance.suite.scene import FOUR, Scene, find_scene, sent

pytestmark = pytest.mark.capability("replica")

Wire = dict[str, Any]


def _scene() -> Scene:
    return find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="message-shapes")


def _messages(scene: Scene) -> dict[str, Wire]:
    """Valid wire messages of height 1: the proposal, a vote, a VIEW-CHANGE with its prepared
    certificate and block, and the NEW-VIEW of view 1."""
    l0, l1 = scene.leader(0), scene.leader(1)
    a, b = scene.others(l0, l1)
    block = scene.block()
    prepared = scene.prepare_certificate(sorted([l0, a, b]), block.digest)
    changes = [scene.view_change(m, 1, prepared, block) for m in sorted([l0, a, b])]
    return {
        "pre-prepare": scene.pre_prepare(block).to_wire(),
        "prepare": scene.prepare(a, block.digest).to_wire(),
        "view-change": changes[0].to_wire(),
        "new-view": scene.new_view(changes, prepared, block, 1).to_wire(),
    }


def _set(path: list[Any], value: Any) -> Callable[[Wire], Wire]:
    """Return a change that sets the member at ``path`` (keys and list indexes) to ``value``."""

    def change(message: Wire) -> Wire:
        changed: Wire = copy.deepcopy(message)
        where: Any = changed
        for key in path[:-1]:
            where = where[key]
        where[path[-1]] = value
        return changed

    return change


def _drop(key: str) -> Callable[[Wire], Wire]:
    def change(message: Wire) -> Wire:
        return {k: v for k, v in copy.deepcopy(message).items() if k != key}

    return change


#: name -> (the message changed, the change, the rules spec/encoding.md's table allows)
CHANGES: dict[str, tuple[str, Callable[[Wire], Any], tuple[str, ...]]] = {
    "message-not-an-object": ("prepare", lambda m: [m], ("E12",)),
    "unknown-type": ("prepare", _set(["type"], "precommit"), ("E12",)),
    "member-missing": ("prepare", _drop("view"), ("E12",)),
    "member-undefined": ("prepare", _set(["round"], 0), ("E12",)),
    "height-as-string": ("prepare", _set(["height"], "1"), ("E12",)),
    "height-zero": ("prepare", _set(["height"], 0), ("E2",)),
    "digest-in-uppercase-hex": ("prepare", lambda m: {**m, "digest": m["digest"].upper()}, ("E5",)),
    "block-not-an-object": ("pre-prepare", _set(["block"], []), ("E12",)),
    "prepared-certificate-a-number": ("view-change", _set(["prepared"], 7), ("E12",)),
    "certificate-votes-a-string": ("view-change", _set(["prepared", "votes"], "v000"), ("E12",)),
    "carried-view-change-a-number": ("new-view", _set(["view_changes", 0], 5), ("E12",)),
    "view-changes-an-object": ("new-view", _set(["view_changes"], {}), ("E12",)),
}


@pytest.mark.req("E12", "E2", "E5", "N6")
@pytest.mark.rejects("E12", "E2", "E5")
@pytest.mark.parametrize("change", sorted(CHANGES), ids=str)
def test_a_message_of_another_form_is_refused_and_changes_nothing(
    replica_api: ReplicaAPI, change: str
) -> None:
    scene = _scene()
    l0, l1 = scene.leader(0), scene.leader(1)
    name = scene.others(l0, l1)[1]
    kind, edit, rules = CHANGES[change]
    message = edit(_messages(scene)[kind])
    remote = scene.replica(replica_api, name, "broadcast")
    before = remote.status()
    expect_rejected(
        lambda: remote.on_message(message, 1_000), f"a {kind} with {change}", rule=rules
    )
    expect_equal(remote.status(), before, f"status after refusing a {kind} with {change}")
    if not sent(remote.on_message(scene.pre_prepare(scene.block()).to_wire(), 2_000), Prepare):
        raise AssertionError(f"{name} sent no PREPARE for the valid proposal after the refusal")
