"""The examples of conformance/WIRE.md, generated from the reference, and how each is checked.

Every example in the document is a marked JSON block::

    <!-- example: prepare (message) -->
    ```json
    {...}
    ```

:func:`build_examples` makes every example from one small validator set (four members, a
funded genesis, real transfers and judge proofs, signatures by the members' keys) and real runs
of the reference replica and history verifier. :func:`check_example` parses an example with the
reference's strict parser of its kind and requires that the reference writes it back unchanged
(and, for command parameters, that they satisfy the command's JSON Schema and that every nested
wire form in them parses). ``aethel-conformance vectors wire-doc --write`` rewrites the blocks
from :func:`build_examples`; ``tests/vectors/test_wire_doc.py`` fails when the document and the
reference disagree, either way.

Spec: E1-E7, R2.3, R2.6, R3.1, R3.3, R4.2, R7.4, R7.5.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from aethel.consensus.block import ProofBlock
from aethel.consensus.evidence import Evidence
from aethel.consensus.history import History, HistoryLink, compute_changes, parse_history
from aethel.consensus.messages import CommitCertificate, NewView, PrePrepare, ViewChange
from aethel.consensus.validators import parse_validator_set
from aethel.consensus.wire import parse_block, parse_message
from aethel.proofs.model import Outcome, ProofKind, sign_proof, transfer_from_json
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_replica import (
    genesis_from_json,
    genesis_to_json,
    parse_chain_links,
)
from conformance.protocol.commands import COMMANDS, OBJECT_METHODS
from conformance.replica_wire import output_from_json, output_to_json
from conformance.testvectors.trace_cases import FOUR, MS, Scene, make_scene

WIRE_DOC = Path(__file__).resolve().parent.parent / "WIRE.md"
MARKER = re.compile(r"<!-- example: ([a-z0-9._-]+) \(([a-z.:_-]+)\) -->\n```json\n(.*?)\n```", re.S)

#: name -> (kind, value). Kinds: message, block, validator-set, genesis, output, history,
#: params:<command>, result:<command>.
Examples = dict[str, tuple[str, Any]]


def render(value: Any) -> str:
    """Return the JSON text of an example as the document shows it."""
    return json.dumps(value, indent=2, ensure_ascii=True)


def _roundtrip(parse: Callable[[Any], Any], write: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        return write(parse(value))

    return check


#: Parsers of nested wire forms by parameter name (command parameters).
NESTED: dict[str, Callable[[Any], Any]] = {
    "validator_set": _roundtrip(parse_validator_set, lambda v: v.to_wire()),
    "genesis": _roundtrip(genesis_from_json, genesis_to_json),
    "message": _roundtrip(parse_message, lambda m: m.to_wire()),
    "certificate": _roundtrip(parse_message, lambda m: m.to_wire()),
    "block": _roundtrip(parse_block, lambda b: b.to_wire()),
    "history": _roundtrip(parse_history, lambda h: h.to_wire()),
    "first": _roundtrip(parse_history, lambda h: h.to_wire()),
    "second": _roundtrip(parse_history, lambda h: h.to_wire()),
    "links": _roundtrip(
        parse_chain_links,
        lambda chain: [{"block": b.to_wire(), "certificate": c.to_wire()} for b, c in chain],
    ),
    "messages": lambda items: [parse_message(m).to_wire() for m in items],
}

ROUNDTRIPS: dict[str, Callable[[Any], Any]] = {
    "message": NESTED["message"],
    "block": NESTED["block"],
    "validator-set": NESTED["validator_set"],
    "genesis": NESTED["genesis"],
    "history": NESTED["history"],
    "output": _roundtrip(output_from_json, output_to_json),
}


def _command(name: str) -> Any:
    if name in COMMANDS:
        return COMMANDS[name]
    capability, _, method = name.partition(".")
    for (_, object_method), command in OBJECT_METHODS.items():
        if command.name == name or (command.capability.value, object_method) == (
            capability,
            method,
        ):
            return command
    raise KeyError(f"unknown command {name}")


def check_example(kind: str, value: Any) -> None:
    """Raise (a parser's ProtocolViolation, or AssertionError) unless the reference reads
    ``value`` as a ``kind`` and writes it back unchanged."""
    if kind.startswith("params:"):
        command = _command(kind.partition(":")[2])
        jsonschema.validate(value, command.params_schema())
        for name, item in value.items():
            if name in NESTED and item is not None:
                if name == "messages" or NESTED[name](item) == item:
                    continue
                raise AssertionError(f"{kind}: {name} does not round-trip")
        return
    if kind.startswith("result:"):
        jsonschema.validate(value, _command(kind.partition(":")[2]).result)
        return
    again = ROUNDTRIPS[kind](value)
    if again != value:
        raise AssertionError(f"{kind} example does not round-trip through the reference")


def _run(replica: Any, steps: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    outputs: list[Any] = []
    for call, params in steps:
        outputs.extend(getattr(replica, call)(**params) or [])
    return outputs


def _first(outputs: list[Any], kind: str, message: str | None = None) -> Any:
    for out in outputs:
        if out["type"] == kind and (message is None or out["message"]["type"] == message):
            return out
    raise RuntimeError(f"the reference replica produced no {kind} {message or ''} (bug)")


@functools.cache
def build_examples() -> Examples:
    """Return every example of the document (deterministic: same keys, same bytes)."""
    scene: Scene = make_scene(FOUR)
    ref = ReferenceImplementation()
    leader, new_leader = scene.leader(1, 0), scene.leader(1, 1)
    me = scene.others(leader, scene.leader(2, 0), new_leader)[0]
    other = scene.others(leader, me, new_leader)[0]
    voters = [leader, me, other]
    block = scene.block(1)
    root = scene.post_root(block)
    prepared = scene.prepared(voters, block)
    cert = scene.committed(voters, block, root)
    empty = scene.block(2, last_commit=cert, empty=True)
    ex: Examples = {}
    ex["validator-set"] = ("validator-set", scene.validators.to_wire())
    ex["genesis"] = ("genesis", genesis_to_json(scene.genesis))
    ex["block"] = ("block", block.to_wire())
    ex["block-with-last-commit"] = ("block", empty.to_wire())
    ex["pre-prepare"] = ("message", scene.pre_prepare(empty).to_wire())
    ex["prepare"] = ("message", scene.prepare(me, block).to_wire())
    ex["commit"] = ("message", scene.commit(me, block, root).to_wire())
    ex["prepare-certificate"] = ("message", prepared.to_wire())
    ex["commit-certificate"] = ("message", cert.to_wire())
    bare_block = scene.block(1, empty=True)
    bare_prepared = scene.prepared(voters, bare_block)
    change = ViewChange.create(scene.signers[me], 1, 1, None, None)
    claim = ViewChange.create(scene.signers[other], 1, 1, bare_prepared, bare_block)
    ex["view-change"] = ("message", change.to_wire())
    ex["view-change-with-claim"] = ("message", claim.to_wire())
    changes = [
        ViewChange.create(scene.signers[n], 1, 1, bare_prepared, bare_block)
        for n in (new_leader, me, other)
    ]
    pre_prepare = PrePrepare.create(scene.signers[new_leader], 1, bare_block)
    new_view = NewView.create(scene.signers[new_leader], changes, bare_prepared, pre_prepare)
    ex["new-view"] = ("message", new_view.to_wire())
    first = scene.prepare(other, block)
    second = scene.prepare(other, bare_block)
    equivocation = Evidence.equivocation(scene.signers[me], first, second)
    ex["evidence-equivocation"] = ("message", equivocation.to_wire())
    ex["evidence-false-claim"] = ("message", _false_claim(scene, me).to_wire())

    # Outputs, from real runs of the reference replica.
    api = ref.api("replica")
    follower = api.new(**scene.setup(me))
    start = follower.start(0)
    ex["output-set-timer"] = ("output", _first(start, "set_timer"))
    voted = follower.on_message(scene.pre_prepare(block).to_wire(), 1 * MS)
    ex["output-send"] = ("output", _first(voted, "send"))
    follower.on_message(prepared.to_wire(), 2 * MS)
    done = follower.on_message(cert.to_wire(), 3 * MS)
    ex["output-committed"] = ("output", _first(done, "committed"))
    ex["status"] = ("result:replica.status", follower.status())
    witness = api.new(**scene.setup(me, "broadcast"))
    witness.start(0)
    seen = _run(
        witness,
        [
            ("on_message", {"message": scene.pre_prepare(block).to_wire(), "now": MS}),
            ("on_message", {"message": first.to_wire(), "now": 2 * MS}),
            ("on_message", {"message": second.to_wire(), "now": 2 * MS}),
        ],
    )
    ex["output-broadcast"] = ("output", _first(seen, "broadcast", "prepare"))
    ex["output-evidence"] = ("output", _first(seen, "evidence"))
    late = api.new(**scene.setup(me))
    late.start(0)
    cert2 = scene.committed(voters, empty, scene.post_root(empty))
    behind = late.on_message(cert2.to_wire(), 5 * MS)
    ex["output-request-sync"] = ("output", _first(behind, "request_sync"))
    ex["output-log"] = (
        "output",
        {"type": "log", "level": "info", "event": "example", "detail": ""},
    )

    # Command parameters.
    transactions, proofs = scene.items(1)
    ex["replica.new"] = ("params:replica.new", scene.setup(me))
    ex["replica.offer"] = (
        "params:replica.offer",
        {"height": 1, "pre_root": scene.pre_root(1).hex(), "transactions": transactions[:1],
         "proofs": proofs[:1]},
    )  # fmt: skip
    ex["replica.on_timer"] = (
        "params:replica.on_timer",
        {"height": 1, "view": 0, "kind": "view", "now": 4_000 * MS},
    )
    state = dict(scene.repository.get(root).leaves())
    ex["replica.on_sync_completed"] = (
        "params:replica.on_sync_completed",
        {"certificate": cert.to_wire(), "block": block.to_wire(), "state": state, "now": MS},
    )
    root2 = scene.roots[2]
    ex["catch-up.on_sync_completed_with_chain"] = (
        "params:catch-up.on_sync_completed_with_chain",
        {
            "links": [{"block": block.to_wire(), "certificate": cert.to_wire()}],
            "certificate": cert2.to_wire(),
            "block": empty.to_wire(),
            "state": dict(scene.repository.get(root2).leaves()),
            "now": MS,
        },
    )
    history = _history(scene, [block, empty], [cert, cert2])
    ex["history"] = ("history", history)
    verify_params = {
        "genesis": genesis_to_json(scene.genesis),
        "validator_set": scene.validators.to_wire(),
        "history": history,
    }
    historian = ref.api("history")
    ex["history-verdict-accepted"] = ("result:history.verify", historian.verify(**verify_params))
    tampered = json.loads(json.dumps(history))
    tampered["links"][1]["changes"] = {**tampered["links"][1]["changes"], "balance:mallory": 1}
    rejected = historian.verify(**{**verify_params, "history": tampered})
    ex["history-verdict-rejected"] = ("result:history.verify", rejected)
    shorter = {"links": history["links"][:1]}
    choice = historian.choose(
        genesis_to_json(scene.genesis), scene.validators.to_wire(), history, shorter
    )
    ex["history-choice"] = ("result:history.choose", choice)
    return ex


def _false_claim(scene: Scene, reporter: str) -> Evidence:
    """A PREPARE by a validator for a block whose proof claims the wrong outcome (R1.5)."""
    transactions, proofs = scene.items(1)
    tx = transfer_from_json(transactions[0])
    honest = proofs[0]
    key = scene.workload.judge.key
    wrong = sign_proof(
        key,
        kind=ProofKind.TRANSFER,
        smt=str(honest["smt"]),
        claimed=Outcome.SAT,
        budget=int(str(honest["budget"])),
        subjects=(tx.transaction_id,),
    ).to_json()
    signer = scene.signers[scene.leader(1, 0)]
    block = ProofBlock.create(signer, 1, bytes(32), transactions[:1], [wrong], [], None)
    vote = scene.prepare(scene.leader(1, 0), block)
    return Evidence.false_claim(scene.signers[reporter], vote, block, 0)


def _history(
    scene: Scene, blocks: list[ProofBlock], certs: list[CommitCertificate]
) -> dict[str, Any]:
    links = []
    before = dict(scene.repository.get(scene.pre_root(1)).leaves())
    for block, cert in zip(blocks, certs, strict=True):
        after = dict(scene.repository.get(cert.post_root).leaves())
        links.append(HistoryLink(block, cert, compute_changes(before, after)))
        before = after
    return History(tuple(links)).to_wire()


def doc_examples(text: str) -> list[tuple[str, str, Any]]:
    """Return (name, kind, value) of every marked example in the document's text."""
    return [(m[1], m[2], json.loads(m[3])) for m in MARKER.finditer(text)]


def rewrite_doc(text: str) -> str:
    """Return the document with every marked example replaced by the generated one."""
    examples = build_examples()

    def replace(match: re.Match[str]) -> str:
        kind, value = examples[match[1]]
        return f"<!-- example: {match[1]} ({kind}) -->\n```json\n{render(value)}\n```"

    return MARKER.sub(replace, text)
