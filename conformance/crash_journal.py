"""The vote journal under SIGKILL (R2.4, R5.4): a replica killed after voting, opened again.

For capability ``vote-journal``. Each round opens the implementation's replica (as a child
process, :mod:`conformance.crash`) on a fresh journal directory of a 4-validator set in which the
implementation plays a member that does not lead height 1, view 0. The harness, holding the other
members' keys, shows it a block (PRE-PREPARE), then PREPARE votes for it from two others, and
kills the process at a drawn instant while it handles one of those messages. The votes the
replica sent before the kill, those read after it included, are what it signed.

Then it opens a new process on the same journal and plays an equivocating leader: a PRE-PREPARE
of another block at the same height and view, and PREPARE votes for that block from the three
other members (a quorum without the replica). The replica must not sign a vote conflicting with
one it signed before the kill: no PREPARE or COMMIT at the same height, view and phase for
another block or root (spec/consensus.md: "A validator records each vote durably before sending
it, so that after a restart it never signs a conflicting one"). Each round draws which of the two
blocks comes first and where the kill lands.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Broadcast, Send
from aethel.consensus.ledger import LedgerExecutor, StateRepository, make_genesis
from aethel.consensus.messages import Commit, Prepare, PrePrepare
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.encoding import to_hex
from conformance.adapters.errors import Rejected
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.reference_replica import genesis_to_json
from conformance.crash import (
    Campaign,
    Child,
    ChildFailure,
    Kill,
    answered,
    draw_delay,
)
from conformance.replica_wire import BadOutput, outputs_from_json

HANDLE = "r"
MODE = "broadcast"
STAKE = 10_000
NOW = 1_000_000  # virtual ns; the rounds never fire a timer


@dataclass(frozen=True)
class Scene:
    """The validator set, the keys the harness holds, and two blocks for height 1, view 0."""

    validators: ValidatorSet
    signers: dict[str, KeySigner]
    genesis: dict[str, Any]
    me: str
    leader: str
    others: tuple[str, str]
    blocks: tuple[ProofBlock, ProofBlock]

    def open_params(self, journal: Path) -> dict[str, Any]:
        return {
            "validator_set": self.validators.to_wire(),
            "validator_id": self.me,
            "seed": self.signers[self.me].key.seed.hex(),
            "mode": MODE,
            "genesis": self.genesis,
            "journal": str(journal),
        }

    def pre_prepare(self, block: ProofBlock) -> dict[str, Any]:
        return PrePrepare.create(self.signers[self.leader], 0, block).to_wire()

    def prepare(self, name: str, block: ProofBlock) -> dict[str, Any]:
        return Prepare.create(self.signers[name], 1, 0, block.digest).to_wire()


def make_scene(seed: int) -> Scene:
    """Return the campaign's scene, a function of ``seed``."""
    pairs = make_validator_keys(4, seed)
    ids = [f"v{i:03d}" for i in range(4)]
    epoch_seed = random.Random(f"aethel-conformance/crash-journal/{seed}").randbytes(32)
    members = [
        Validator(name, pair.public_key, STAKE) for name, pair in zip(ids, pairs, strict=True)
    ]
    validators = ValidatorSet.create(0, epoch_seed, members)
    signers = {name: KeySigner(name, pair) for name, pair in zip(ids, pairs, strict=True)}
    leader = validators.get_leader(1, 0).id
    me, *others = [name for name in ids if name != leader]
    repository = StateRepository()
    workload = TransferWorkload(repository, seed, accounts=4, per_block=1)
    genesis = make_genesis(workload.genesis_balances, validators)
    pre_root = LedgerExecutor(repository, genesis).genesis_root()
    transactions, proofs = workload.select(1, pre_root)
    empty = ProofBlock.create(signers[leader], 1, GENESIS_PARENT, [], [], [], None)
    full = ProofBlock.create(signers[leader], 1, GENESIS_PARENT, transactions, proofs, [], None)
    return Scene(
        validators,
        signers,
        genesis_to_json(genesis),
        me,
        leader,
        (others[0], others[1]),
        (empty, full),
    )


@dataclass(frozen=True, slots=True)
class Vote:
    """A vote the replica signed: phase, height, view and what it is for."""

    kind: str
    height: int
    view: int
    digest: str
    post_root: str | None

    def describe(self) -> str:
        root = f" root {self.post_root[:12]}..." if self.post_root else ""
        return f"{self.kind.upper()} ({self.height}, {self.view}) for {self.digest[:12]}...{root}"


@dataclass
class JournalCampaignSummary:
    """What a journal campaign did."""

    seed: int
    rounds: int = 0
    #: Rounds in which the replica's PREPARE (or COMMIT) reached the harness before the kill.
    prepares_seen: int = 0
    commits_seen: int = 0
    seconds: float = 0.0
    delays_ms: list[float] = field(default_factory=list)


class JournalCampaign(Campaign):
    """One campaign (see the module docstring)."""

    RULE = "R2.4"
    NAME = "journal"

    def __init__(
        self,
        command: list[str],
        work: Path,
        seed: int,
        rounds: int,
        *,
        spec: str,
        options: LoadOptions | None = None,
    ) -> None:
        super().__init__(command, work, seed, rounds, spec=spec, options=options)
        self.scene = make_scene(seed)
        #: How long each step took when it was answered (the kill delays scale with them).
        self.durations: dict[str, list[float]] = {}
        self.summary = JournalCampaignSummary(seed)

    def open(self, journal: Path) -> Child:
        child = Child(self.command, self.work / "stderr.txt", self.options)
        try:
            child.hello()
            if not {"replica", "vote-journal"} <= child.capabilities:
                raise self.fail("the implementation does not declare replica and vote-journal")
            child.request("vote-journal.open", self.scene.open_params(journal), HANDLE)
            child.request("replica.start", {"now": NOW}, HANDLE)
        except (ChildFailure, Rejected) as exc:
            child.kill()
            raise self.fail(f"the replica did not open on its journal: {exc}") from None
        return child

    def votes(self, outputs: Any, what: str) -> list[Vote]:
        """Return the votes signed by the replica among ``outputs``."""
        try:
            parsed = outputs_from_json(outputs)
        except BadOutput as exc:
            raise self.fail(f"the replica's answer to {what} is malformed: {exc}") from None
        found = []
        for output in parsed:
            if not isinstance(output, Send | Broadcast):
                continue
            message = output.message
            if isinstance(message, Prepare | Commit) and message.validator == self.scene.me:
                root = to_hex(message.post_root) if isinstance(message, Commit) else None
                found.append(
                    Vote(message.TYPE, message.height, message.view, to_hex(message.digest), root)
                )
        return found

    def deliver(self, child: Child, message: dict[str, Any], what: str) -> list[Vote]:
        """Hand the replica one message; return the votes it answered with."""
        began = time.perf_counter()
        try:
            outputs = child.request("replica.on_message", {"message": message, "now": NOW}, HANDLE)
        except Rejected:
            return []  # refusing a message is the replica's right; it signs nothing then
        except ChildFailure as exc:
            raise self.fail(f"{what}: {exc}") from None
        self.durations.setdefault(what, []).append(time.perf_counter() - began)
        return self.votes(outputs, what)

    def deliver_and_kill(
        self, child: Child, message: dict[str, Any], what: str, number: int
    ) -> list[Vote]:
        """Hand the replica one message and kill it after a drawn delay; return the votes it
        sent before dying (its answer, if it came)."""
        known = self.durations.get(what, [])
        estimate = statistics.median(known[-9:]) if known else 0.05
        delay = draw_delay(self.rng, estimate)
        request = child.send("replica.on_message", {"message": message, "now": NOW}, HANDLE)
        time.sleep(delay)
        lines = child.kill()
        self.summary.delays_ms.append(delay * 1000)
        try:
            outputs = answered(lines, request)
        except KeyError:
            self.kill = Kill(number, what, delay, False)
            return []
        except Rejected:
            outputs = []
        except ChildFailure as exc:
            raise self.fail(f"{what}: {exc}") from None
        self.kill = Kill(number, what, delay, True)
        return self.votes(outputs, what)

    def round(self, number: int) -> None:
        scene = self.scene
        first, second = scene.blocks if self.rng.random() < 0.5 else scene.blocks[::-1]
        journal = self.work / f"journal-{number}"
        child = self.open(journal)
        signed: list[Vote] = []
        try:
            where = self.rng.random()
            if where < 0.3:
                what = "the PRE-PREPARE of the first block"
                signed += self.deliver_and_kill(child, scene.pre_prepare(first), what, number)
            else:
                signed += self.deliver(child, scene.pre_prepare(first), "the first PRE-PREPARE")
                prepare = scene.prepare(scene.leader, first)
                signed += self.deliver(child, prepare, "the leader's PREPARE")
                what = "a second PREPARE of the first block (a quorum with its own)"
                prepare = scene.prepare(scene.others[0], first)
                if where < 0.7:
                    signed += self.deliver_and_kill(child, prepare, what, number)
                else:  # killed right after its answer: the COMMIT has left
                    signed += self.deliver(child, prepare, what)
                    child.kill()
                    self.kill = Kill(number, what, None, True)
        except BaseException:
            child.kill()
            raise
        self.summary.prepares_seen += any(v.kind == "prepare" for v in signed)
        self.summary.commits_seen += any(v.kind == "commit" for v in signed)
        # A new process on the same journal meets an equivocating leader.
        child = self.open(journal)
        after: list[Vote] = []
        try:
            after += self.deliver(child, scene.pre_prepare(second), "the conflicting PRE-PREPARE")
            for name in (scene.leader, *scene.others):
                after += self.deliver(child, scene.prepare(name, second), f"{name}'s PREPARE")
        finally:
            child.kill()
        for vote in after:
            for before in signed:
                same_slot = (vote.kind, vote.height, vote.view) == (
                    before.kind,
                    before.height,
                    before.view,
                )
                if same_slot and (vote.digest, vote.post_root) != (before.digest, before.post_root):
                    raise self.fail(
                        f"opened again on its journal, the replica signed {vote.describe()} "
                        f"after signing {before.describe()} before the kill"
                    )

    def run(self) -> JournalCampaignSummary:
        """Run ``planned`` kill-and-reopen rounds; raise :class:`CrashFailure` on a conflicting
        vote."""
        began = time.monotonic()
        for number in range(1, self.planned + 1):
            self.round(number)
            self.summary.rounds += 1
        self.summary.seconds = round(time.monotonic() - began, 3)
        return self.summary
