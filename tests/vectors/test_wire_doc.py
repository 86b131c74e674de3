"""conformance/WIRE.md: every example is the reference's, parses strictly and round-trips, and
every wire form and command of the replica, catch-up, history and consensus-v2 capabilities is
covered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aethel.consensus.messages import CommitCertificate, PrepareCertificate
from aethel.consensus.validators import parse_validator_set
from aethel.consensus.wire import parse_message
from aethel.encoding import verify_signature_bytes
from conformance.capabilities import Capability
from conformance.protocol.commands import TABLE
from conformance.replica_wire import OUTPUT_TYPES
from conformance.testvectors.cli import wire_doc_problems
from conformance.testvectors.wire_examples import WIRE_DOC, doc_examples, render

TEXT = WIRE_DOC.read_text(encoding="utf-8")
EXAMPLES = {name: (kind, value) for name, kind, value in doc_examples(TEXT)}


@pytest.mark.req("E4", "R7.5")
def test_every_example_is_the_references_and_round_trips() -> None:
    assert wire_doc_problems(TEXT) == []


def _replace_example(name: str, value: object) -> str:
    _, old = EXAMPLES[name]
    return TEXT.replace(render(old), render(value), 1)


def test_an_edited_example_is_caught() -> None:
    _, prepare = EXAMPLES["prepare"]
    edited = dict(prepare, view=7)
    problems = wire_doc_problems(_replace_example("prepare", edited))
    assert problems == ["example prepare differs from the reference's"]


def test_an_example_the_parser_refuses_is_caught() -> None:
    _, commit = EXAMPLES["commit"]
    problems = wire_doc_problems(_replace_example("commit", dict(commit, extra=1)))
    assert "example commit differs from the reference's" in problems
    assert any(p.startswith("example commit does not round-trip") for p in problems)


def test_a_missing_example_is_caught() -> None:
    start = TEXT.index("<!-- example: output-log")
    end = TEXT.index("```", TEXT.index("```json", start) + 7) + 3
    problems = wire_doc_problems(TEXT[:start] + TEXT[end:])
    assert problems == ["example output-log is missing from the document"]


def test_every_message_output_and_command_is_documented() -> None:
    kinds = {value["type"] for kind, value in EXAMPLES.values() if kind == "message"}
    assert kinds == {
        "pre-prepare",
        "prepare",
        "commit",
        "prepare-certificate",
        "commit-certificate",
        "view-change",
        "new-view",
        "evidence",
    }
    offences = {v["offence"] for k, v in EXAMPLES.values() if k == "message" and "offence" in v}
    assert offences == {"equivocation", "false-claim"}
    outputs = {value["type"] for kind, value in EXAMPLES.values() if kind == "output"}
    assert outputs == set(OUTPUT_TYPES)
    for capability in ("replica", "catch-up", "history", "consensus-v2"):
        for command in TABLE[Capability(capability)]:
            assert f"`{command.name}`" in TEXT, f"{command.name} is not documented"


@pytest.mark.req("E7", "R7.5")
def test_example_signatures_verify_under_the_example_validator_set() -> None:
    """The examples are real: every signed message verifies with its signer's key."""
    validators = parse_validator_set(EXAMPLES["validator-set"][1])
    checked = 0
    for kind, value in EXAMPLES.values():
        if kind != "message":
            continue
        message = parse_message(json.loads(json.dumps(value)))
        signed: list[Any] = (
            list(message.votes)
            if isinstance(message, PrepareCertificate | CommitCertificate)
            else [message]
        )
        for item in signed:
            signer = getattr(item, "reporter", None) or item.validator
            member = validators.get(signer)
            assert member is not None, signer
            assert verify_signature_bytes(member.public_key, item.payload, item.signature), signer
            checked += 1
    assert checked >= 14
