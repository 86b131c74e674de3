"""The JSON form of replica outputs (conformance/replica_wire.py) round-trips and is strict."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from aethel.consensus.events import Broadcast, Log, Output, RequestSync, Send, SetTimer, Timer
from aethel.consensus.messages import Prepare
from aethel.errors import ProtocolViolation
from conformance.replica_wire import output_from_json, output_to_json, outputs_from_json
from tests.consensus.slashing import SlashedChain, make_slashed_chain


@functools.cache
def _chain() -> SlashedChain:
    return make_slashed_chain([10_000] * 4, ["v000"], heights=2)


def _outputs() -> list[Output]:
    chain = _chain()
    vote = Prepare.create(chain.signers["v001"], 2, 0, bytes(32))
    return [
        Send("v002", vote),
        Broadcast(vote),
        SetTimer(Timer(2, 1, "view"), 5_000),
        RequestSync(chain.link(1)[1], 2),
        # A replica restarted without its journal asks for the peers' latest certificate.
        RequestSync(None, 1),
        Log("warning", "rejected", "[R7.5] bad signature"),
    ]


@pytest.mark.req("E12")
def test_outputs_round_trip_through_json() -> None:
    for out in _outputs():
        assert output_from_json(output_to_json(out)) == out, out


NEGATIVE_TIMER = {"type": "set_timer", "kind": "view", "height": -1, "view": 0, "deadline": 1}
BAD_SYNC = {"type": "request_sync", "certificate": {}, "height": 1}


@pytest.mark.parametrize(
    "item",
    [
        pytest.param("send", id="not-an-object"),
        pytest.param({"type": "teleport"}, id="unknown-type"),
        pytest.param({"type": "send", "to": 7, "message": {}}, id="send-to-a-number"),
        pytest.param({"type": "set_timer", "kind": "nap", "height": 1, "view": 0}, id="timer-kind"),
        pytest.param(NEGATIVE_TIMER, id="negative-height"),
        pytest.param(BAD_SYNC, id="bad-certificate"),
    ],
)
@pytest.mark.req("E12", "E2")
def test_malformed_outputs_are_refused_with_a_typed_error(item: Any) -> None:
    with pytest.raises(ProtocolViolation) as refused:
        output_from_json(item)
    assert refused.value.rule_id in ("E12", "E2"), refused.value


def test_a_replica_answers_a_list() -> None:
    with pytest.raises(ProtocolViolation):
        outputs_from_json({"type": "log"})
