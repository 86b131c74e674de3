"""Grammar-based fuzzing of proof texts: every path a hostile text takes answers with a verdict
or a typed error, never an untyped exception (N6, R1.1, R1.5).

Texts come from the suite's grammar of the fragment (:mod:`conformance.suite.smt_grammar`):
texts inside it, texts with one forbidden piece (a sort, operator, literal, construct, command,
bad token or character, broken shape, or a limit one past its value) whose reason the spec's
order of checks fixes, and randomly mutated texts. Each goes through the text check, the
verifier, a mempool's admission and an honest replica handling a proposal that carries it. A
``TypeError`` there once let one Byzantine leader stop every honest replica
(``(assert (! x (x) :named))``); these tests fail on the whole class.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Committed, Log
from aethel.consensus.messages import PrePrepare
from aethel.encoding import KeyPair
from aethel.errors import AethelError
from aethel.proofs.errors import (
    ForbiddenCommandError,
    ForbiddenConstructError,
    SmtLimitError,
    SmtSyntaxError,
    SmtTextError,
)
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import Outcome, Proof, ProofKind, sign_proof
from aethel.proofs.smt_text import check_smt_text
from aethel.proofs.solver import run_solver
from aethel.proofs.verifier import Verdict, verify_proof
from conformance.suite import smt_grammar
from tests.consensus.slashing import SlashedChain, make_slashed_chain, prepares

from .strategies import any_smt_text, fragment_texts, hostile_texts, mutated_texts

KEY = KeyPair.from_seed(bytes([7] * 32))
#: Small enough that a text inside the fragment costs at most a few milliseconds to check.
BUDGET = 5_000
ERRORS = {
    smt_grammar.TEXT_LIMIT: SmtLimitError,
    smt_grammar.PARSE_ERROR: SmtSyntaxError,
    smt_grammar.FORBIDDEN_COMMAND: ForbiddenCommandError,
    smt_grammar.FORBIDDEN_CONSTRUCT: ForbiddenConstructError,
}


def _proof(text: str, claimed: Outcome = Outcome.UNSAT) -> Proof:
    return sign_proof(KEY, kind=ProofKind.GENERIC, smt=text, claimed=claimed, budget=BUDGET)


def _check_verdict(text: str) -> str:
    """The text check's answer: ``ok`` or the error class; anything else raises."""
    try:
        check_smt_text(text)
    except SmtTextError as error:
        assert error.rule_id == "N6"
        return type(error).__name__
    return "ok"


@pytest.mark.req("N6")
@given(text=fragment_texts())
def test_texts_inside_the_fragment_pass_the_check_and_load_in_z3(text: str) -> None:
    check_smt_text(text)
    run = run_solver(text, BUDGET)
    assert run.outcome in ("sat", "unsat", "unknown"), (run, text)


@pytest.mark.req("N6")
@given(hostile=hostile_texts())
def test_a_hostile_text_gets_the_reason_of_its_forbidden_piece(
    hostile: smt_grammar.Hostile,
) -> None:
    with pytest.raises(ERRORS[hostile.reason]):
        check_smt_text(hostile.text)
    result = verify_proof(_proof(hostile.text))
    assert result.verdict is Verdict.INVALID
    assert result.reason is not None and result.reason.value == hostile.reason
    assert (result.effort, result.difficulty, result.solver_outcome) == (0, 0, None)


@pytest.mark.req("N6", "R1.5")
@pytest.mark.parametrize(
    ("kind", "piece"),
    smt_grammar.every_piece(),
    ids=[f"{k}:{p[:30]!r}" for k, p in smt_grammar.every_piece()],
)
def test_every_forbidden_piece_is_refused_with_its_reason(kind: str, piece: str) -> None:
    """Each piece of the grammar once, in a text of a fixed seed: the check, the verifier and
    a mempool all refuse it with its reason."""
    hostile = smt_grammar.HOSTILE_KINDS[kind].make(smt_grammar.seeded(0, 0), piece)
    assert _check_verdict(hostile.text) == ERRORS[hostile.reason].__name__, hostile.text
    result = verify_proof(_proof(hostile.text))
    assert (result.verdict, result.reason and result.reason.value) == (
        Verdict.INVALID,
        hostile.reason,
    ), hostile.text
    pool = Mempool(capacity=4)
    with pytest.raises(AethelError) as refused:
        pool.add_proof(_proof(hostile.text))
    assert getattr(refused.value, "rule_id", None) == "N6"
    assert pool.stats().size == 0


@pytest.mark.req("N6", "R1.1")
@given(text=any_smt_text)
def test_any_text_gets_a_verdict_from_the_verifier(text: str) -> None:
    verdict = _check_verdict(text)
    result = verify_proof(_proof(text))
    assert result.verdict in tuple(Verdict)
    if verdict != "ok":
        assert result.verdict is Verdict.INVALID and result.effort == 0
    if result.verdict is not Verdict.VALID:
        assert result.difficulty == 0


@pytest.mark.req("N6")
@given(text=mutated_texts().filter(lambda t: not set(t) & set('"|;')))
def test_fast_and_general_tokenizer_paths_agree_on_mutated_texts(text: str) -> None:
    # Text without strings, quoted symbols or comments takes a fast path; a trailing comment
    # forces the general one, and must not change the verdict.
    assert _check_verdict(text) == _check_verdict(text + "\n; comment")


@pytest.mark.req("N6", "R1.5")
@given(text=any_smt_text, claimed=st.sampled_from(list(Outcome)))
def test_a_mempool_admits_or_refuses_any_text_with_a_typed_error(
    text: str, claimed: Outcome
) -> None:
    pool = Mempool(capacity=4)
    proof = _proof(text, claimed)
    try:
        pool.add_proof(proof)
    except AethelError:
        assert pool.stats().size == 0
        return
    assert pool.stats().size == 1


@functools.cache
def _chain() -> SlashedChain:
    return make_slashed_chain([10_000] * 4, [], heights=2)


@pytest.mark.req("N6", "R1.1", "R1.5")
@given(text=any_smt_text)
@example(text="(declare-const x Int)(assert (! x (x) :named))")  # the TypeError of issue 13
def test_an_honest_replica_refuses_a_proposal_with_a_hostile_text_and_keeps_working(
    text: str,
) -> None:
    """The leader's block carries the text as the proof of its transaction: the replica logs a
    typed refusal, votes for nothing, and then commits the genuine block of the same view."""
    chain = _chain()
    replica = chain.fresh_replica("v001")
    block, certificate = chain.link(1)
    leader = chain.signers[replica.validators.get_leader(1, 0).id]
    transaction = block.transactions[0]
    proof = sign_proof(
        KEY,
        kind=ProofKind.TRANSFER,
        smt=text,
        budget=BUDGET,
        subjects=(bytes.fromhex(block.proofs[0]["subjects"][0]),),
    )
    hostile = ProofBlock.create(
        leader, 1, replica.parent, [transaction], [proof.to_json()], [], None
    )
    outputs = replica.on_message(PrePrepare.create(leader, 0, hostile), 10**9)
    assert not prepares(outputs)
    refusals = [o for o in outputs if isinstance(o, Log) and o.event == "rejected"]
    assert refusals and refusals[0].detail.startswith("[R1."), refusals
    # The replica still works: the genuine proposal of the same view commits.
    outputs = replica.on_message(PrePrepare.create(leader, 0, block), 10**9 + 1)
    assert [p.digest for p in prepares(outputs)] == [block.digest]
    outputs = replica.on_message(certificate, 10**9 + 2)
    assert any(isinstance(o, Committed) for o in outputs) and replica.height == 2
