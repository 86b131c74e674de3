"""A validator restarted without its vote journal that crashes again stays as careful (R2.4;
spec/consensus.md, votes: "It records this durably too, so a further crash before it gets there
leaves it as careful, not trusting the partial record it kept since").

The replica of capability ``lost-journal-on-disk`` is the one of ``lost-journal`` keeping its new
journal in a directory. Each case closes it and opens that directory again with
``vote-journal.open``: the restart of a node whose data directory is there again, holding only
what the replica wrote since the first restart. Both replicas run in broadcast mode, so every
vote they sign is an output.

* Closed before it learned where the chain is: opened again, it must still sign nothing, not
  even a PREPARE for the proposal of height 1 (it may have voted there before the first restart).
* Closed after it learned that height 1 is certified (by a sync, or by committing it itself):
  opened again at height 2, it must sign nothing at height 2 and, once height 2 commits, vote
  for the proposal of height 3 without asking the peers again (from h + 2 on it votes as any
  validator).
* Closed after it learned where the chain is from height 3's certificate and committed height 1
  itself: opened again at height 2, it must sign nothing there (3 + 2 is its minimum).

Each case has a control: a replica of ``vote-journal`` that kept its journal, closed and opened
again on its directory the same way, which votes where the restarted one must not.

Written from the module campaign of aethel/consensus/journal.py (survivors
``Amnesia.load:RemoveStatement`` at line 48, the lost state not recorded when the journal is
found lost, ``Amnesia.learn:RemoveStatement`` at line 61, the learned minimum not recorded, and
``AMNESIA_HEIGHT = 2**62`` -> ``1**62`` at line 29, the record kept among votes that a commit
prunes; reports/selftest/triage-module-journal-syncing-d312549.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from aethel.consensus.messages import Commit, Prepare, PrePrepare, ViewChange
from conformance.adapters.api import Implementation
from conformance.checks import expect_equal
from conformance.suite.chains import SlashedChain, genesis_of, learn_height, slashed_chain
from conformance.suite.fixtures import get_api
from conformance.suite.scene import sent
from conformance.testvectors import trace_cases

pytestmark = pytest.mark.capability("replica", "vote-journal", "lost-journal-on-disk")

NOW = 10**9
SIGNED = Prepare | Commit | ViewChange


def _open(impl: Implementation, capability: str, chain: SlashedChain, name: str, at: Path) -> Any:
    """Open the replica of ``name`` in broadcast mode on the directory ``at`` with
    ``capability``'s ``open`` (``vote-journal`` or ``lost-journal-on-disk``)."""
    api = cast(Any, get_api(impl, capability))
    seed = chain.signers[name].key.seed.hex()
    return api.open(
        chain.cluster.validators.to_wire(), name, seed, "broadcast", genesis_of(chain), str(at)
    )


def _close(remote: Any) -> None:
    getattr(remote, "close", lambda: None)()


def _crashed_and_reopened(
    impl: Implementation,
    capability: str,
    chain: SlashedChain,
    name: str,
    at: Path,
    before: Callable[[Any], None],
) -> Any:
    """Open ``name``'s replica on ``at`` with ``capability``, run ``before`` on it, close it (the
    crash), and return the replica ``vote-journal.open`` makes on ``at`` again, not started."""
    remote = _open(impl, capability, chain, name, at)
    try:
        before(remote)
    finally:
        _close(remote)
    return _open(impl, "vote-journal", chain, name, at)


def _control_votes(
    impl: Implementation,
    chain: SlashedChain,
    name: str,
    at: Path,
    before: Callable[[Any], None],
    proposal: PrePrepare,
) -> None:
    """The control of a case: ``name``'s replica with its journal, put through ``before``,
    crashed and opened again on ``at``, must be at ``proposal``'s height and vote for it (else
    the case cannot judge the restarted replica)."""
    control = _crashed_and_reopened(impl, "vote-journal", chain, name, at, before)
    try:
        control.start(NOW)
        height = proposal.block.height
        expect_equal(control.status()["height"], height, "control: height opened again")
        if not _votes_for(control, proposal):
            raise AssertionError(
                f"control: {name}, with its journal, crashed and opened again, did not vote for "
                f"the proposal of height {height} (the case cannot judge the restarted replica)"
            )
    finally:
        _close(control)


def _votes_for(remote: Any, proposal: PrePrepare) -> list[Any]:
    outputs = remote.on_message(proposal.to_wire(), NOW + 1)
    return sent(outputs, Prepare, lambda m: m.digest == proposal.block.digest)


def _learn_height_1(remote: Any, chain: SlashedChain) -> None:
    """Hand ``remote`` height 1's certified state as the peers' latest (the harness's sync)."""
    learn_height(remote, chain, 1, NOW)


def _commit_height_1(remote: Any, chain: SlashedChain) -> None:
    """Hand ``remote`` the proposal of height 1 and its commit certificate: it commits height 1
    itself (and learns from that certificate where the chain is)."""
    remote.on_message(chain.proposal(1).to_wire(), NOW)
    remote.on_message(chain.commits[0].certificate.to_wire(), NOW)
    expect_equal(remote.status()["height"], 2, "height after height 1's commit certificate")


#: How the replica learns that height 1 is certified: a state sync, or a commit of its own.
LEARN = {"by-sync": _learn_height_1, "by-commit": _commit_height_1}


def _voter(chain: SlashedChain, heights: tuple[int, ...]) -> str:
    """A member that proposes none of ``heights`` (its vote is then a reply, not its own)."""
    proposers = {chain.commits[h - 1].block.proposer for h in heights}
    return next(n for n in ("v004", "v003", "v002", "v001") if n not in proposers)


@pytest.mark.req("R2.4")
def test_a_validator_without_its_journal_that_crashes_before_it_learns_still_waits(
    impl: Implementation, tmp_path: Path
) -> None:
    chain = slashed_chain(trace_cases.FIVE)
    name = _voter(chain, (1,))
    first = chain.proposal(1)

    def started(remote: Any) -> None:
        early = sent(remote.start(0), SIGNED)
        if early:
            raise AssertionError(f"{name} signed {early[0].TYPE} at once when it started")

    _control_votes(impl, chain, name, tmp_path / "control", started, first)

    reopened = _crashed_and_reopened(
        impl, "lost-journal-on-disk", chain, name, tmp_path / "wiped", started
    )
    try:
        signed = sent(reopened.start(NOW), SIGNED)
        signed += _votes_for(reopened, first)
        if signed:
            raise AssertionError(
                f"{name} lost its journal, crashed again before it learned where the chain is "
                f"and, opened on the journal it kept since, signed {signed[0].TYPE} at height "
                f"{signed[0].height}: it may have voted there before the first restart (R2.4: a "
                "further crash leaves it as careful)"
            )
    finally:
        _close(reopened)


@pytest.mark.req("R2.4", "R2.5")
@pytest.mark.parametrize("learned", sorted(LEARN))
def test_a_validator_without_its_journal_that_crashes_after_it_learned_votes_from_h_plus_2(
    impl: Implementation, tmp_path: Path, learned: str
) -> None:
    learn = LEARN[learned]
    chain = slashed_chain(trace_cases.FIVE)
    name = _voter(chain, (2, 3))
    second, third = chain.proposal(2), chain.proposal(3)

    def learned_it(remote: Any) -> None:
        remote.start(0)
        learn(remote, chain)

    _control_votes(impl, chain, name, tmp_path / "control", learned_it, second)

    reopened = _crashed_and_reopened(
        impl, "lost-journal-on-disk", chain, name, tmp_path / "wiped", learned_it
    )
    try:
        reopened.start(NOW)
        expect_equal(reopened.status()["height"], 2, "height opened again (R5.4)")
        signed = sent(reopened.on_message(second.to_wire(), NOW + 1), SIGNED)
        if signed:
            raise AssertionError(
                f"{name} lost its journal, learned height 1 is certified, crashed and was opened "
                f"on the journal it kept since, and signed {signed[0].TYPE} at height 2: it signs "
                "nothing below 1 + 2, across a further crash too (R2.4)"
            )
        reopened.on_message(chain.commits[1].certificate.to_wire(), NOW + 1)
        expect_equal(reopened.status()["height"], 3, "height after height 2's commit certificate")
        if not _votes_for(reopened, third):
            raise AssertionError(
                f"{name} lost its journal, learned height 1 is certified, crashed and was opened "
                "on the journal it kept since, and signed no PREPARE for the proposal of height 3: "
                "it recorded its minimum vote height durably and votes from 1 + 2 on as any "
                "validator, without asking the peers again (R2.4, R2.5)"
            )
    finally:
        _close(reopened)


@pytest.mark.req("R2.4")
def test_a_validator_without_its_journal_that_learned_from_a_later_certificate_holds_back(
    impl: Implementation, tmp_path: Path
) -> None:
    """The restarted replica, at height 1, learns where the chain is from the commit certificate
    of height 3 (a hint: it asks for a sync and signs nothing below 3 + 2), then commits height 1
    itself before any sync arrives, and crashes. Opened again at height 2, it must sign nothing
    there: its minimum vote height (5) is on disk and outlives the commit of height 1. The
    control, with its journal, handed the same messages and opened again, votes at height 2.

    A journal that stores that minimum among the votes of a low height, and drops the votes of
    each height it commits, loses it here (the journal.py campaign's survivor
    ``AMNESIA_HEIGHT = 2**62`` -> ``1**62``)."""
    chain = slashed_chain(trace_cases.FIVE)
    name = _voter(chain, (1, 2))
    hint = chain.commits[2].certificate

    def hinted_then_committed(remote: Any) -> None:
        remote.start(0)
        remote.on_message(hint.to_wire(), NOW)
        _commit_height_1(remote, chain)

    _control_votes(
        impl, chain, name, tmp_path / "control", hinted_then_committed, chain.proposal(2)
    )
    reopened = _crashed_and_reopened(
        impl, "lost-journal-on-disk", chain, name, tmp_path / "wiped", hinted_then_committed
    )
    try:
        reopened.start(NOW)
        expect_equal(reopened.status()["height"], 2, "height opened again (R5.4)")
        signed = sent(reopened.on_message(chain.proposal(2).to_wire(), NOW + 1), SIGNED)
        if signed:
            raise AssertionError(
                f"{name} lost its journal, learned from height 3's commit certificate where the "
                f"chain is, committed height 1, crashed and was opened again, and signed "
                f"{signed[0].TYPE} at height 2: it signs nothing below 3 + 2, across a further "
                "crash too (R2.4)"
            )
    finally:
        _close(reopened)
