"""Byzantine behaviours: wrappers that make a node's replica lie, stay silent or equivocate.

Each behaviour sits between the engine and an honest replica holding the node's real key, so a
Byzantine node signs exactly what a real attacker with that key could sign:

* ``silent``: sends nothing and relays nothing (offline: never slashable, R4.6);
* ``equivocate``: as leader, sends one block to half the validators and another to the rest;
* ``double-vote``: every PREPARE/COMMIT is followed by a conflicting one to the same peers;
* ``invalid-vote``: colludes for invalid blocks: as leader it proposes a block holding a false
  proof (an overdraft whose obligation Z3 finds satisfiable), and it votes PREPARE and COMMIT
  for every block it sees, valid or not (R1.5, R7.3);
* ``stale-view`` / ``future-view``: besides behaving honestly, repeats its messages re-signed for
  an older view, or for views and heights far ahead (they must change nothing, N6);
* ``fork``: a coalition attack for over-threshold runs (broadcast mode): as leader it sends one
  block to even-numbered and another to odd-numbered validators (both to the coalition), and as
  voter it sends PREPARE and COMMIT for each block to the side that received it;
* ``frame``: tries to get another validator slashed: once per height it gossips an equivocation
  record against the next validator in id order made of two votes it signed itself under that
  validator's name, and as leader it puts such a record in every block it proposes (honest
  nodes refuse both: nobody is slashed on it, R4.2, R7.5, P19);
* ``forge-certificate``: as leader, right after its PRE-PREPARE it sends every node a PREPARE
  and a COMMIT certificate for its block holding a vote of every validator, all signed with its
  own key under their names (honest nodes lock and commit only on real votes: R2.3, R7.5);
* twins (two nodes, one key) are built by the simulator, each running an honest replica.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Broadcast, Output, Send, Timer
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.signing import KeySigner
from aethel.consensus.v2.certificate import Certificate as AggregateCertificate
from aethel.consensus.v2.certificate import VoteTarget, bitmap
from aethel.crypto import bls
from aethel.economics import Offence
from aethel.encoding import sha256, to_hex
from aethel.errors import UsageError
from aethel.proofs.model import Outcome, ProofKind, sign_proof, sign_transfer
from aethel.proofs.obligations import get_transfer_obligation

if TYPE_CHECKING:
    from aethel.consensus.replica import Replica
    from aethel.consensus.workload import TransferWorkload
    from aethel.sim.engine import Engine, SimNode

KINDS = (
    "silent",
    "equivocate",
    "double-vote",
    "invalid-vote",
    "stale-view",
    "future-view",
    "twins",
    "fork",
    "frame",
    "forge-certificate",
)


class Behaviour:
    """An honest pass-through; subclasses override what they corrupt."""

    name = "honest"
    relays = True

    def __init__(self, workload: TransferWorkload | None = None) -> None:
        self.workload = workload

    def on_message(self, engine: Engine, node: SimNode, message: Message, now: int) -> list[Output]:
        """Process a received message."""
        assert node.replica is not None
        return node.replica.on_message(message, now)

    def on_timer(self, engine: Engine, node: SimNode, timer: Timer, now: int) -> list[Output]:
        """Process a timer."""
        assert node.replica is not None
        return node.replica.on_timer(timer, now)

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        """Rewrite the replica's outputs before the network sees them."""
        return outputs


class Silent(Behaviour):
    """Sends nothing, relays nothing."""

    name = "silent"
    relays = False

    def on_message(self, engine: Engine, node: SimNode, message: Message, now: int) -> list[Output]:
        return []

    def on_timer(self, engine: Engine, node: SimNode, timer: Timer, now: int) -> list[Output]:
        return []


class Equivocate(Behaviour):
    """As leader, proposes two different valid blocks to two halves of the validators."""

    name = "equivocate"

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        result: list[Output] = []
        for out in outputs:
            message = out.message if isinstance(out, Broadcast) else None
            if isinstance(message, PrePrepare) and message.leader == node.validator_id:
                other = _variant(node, message.block)
                if other is not None:
                    assert node.replica is not None
                    twin = PrePrepare.create(
                        node.replica.signer, message.view, other, _version(node, other.height)
                    )
                    engine._note_proposal(message, time)
                    for peer in sorted(engine.addresses):
                        if peer == node.validator_id:
                            continue
                        chosen = message if engine.addresses[peer][0] % 2 == 0 else twin
                        result.append(Send(peer, chosen))
                    continue
            result.append(out)
        return result


def _variant(node: SimNode, block: ProofBlock) -> ProofBlock | None:
    """Return a different valid block of the same height (one transaction fewer)."""
    if not block.transactions:
        return None
    assert node.replica is not None
    return ProofBlock.create(
        node.replica.signer,
        block.height,
        block.parent,
        block.transactions[:-1],
        block.proofs[:-1],
        block.evidence,
        block.last_commit,
        _version(node, block.height),
    )


def _version(node: SimNode, height: int) -> int:
    """Return the protocol version of ``height`` at ``node`` (V2.1): a Byzantine node signs
    what it sends in that version, so its messages are refused for what they say, not for
    their version (V2.2)."""
    assert node.replica is not None
    return node.replica.version_of(height)


class DoubleVote(Behaviour):
    """Follows every vote with a conflicting one to the same peers."""

    name = "double-vote"

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        assert node.replica is not None
        signer = node.replica.signer
        result: list[Output] = []
        for out in outputs:
            result.append(out)
            if not isinstance(out, Send | Broadcast):
                continue
            vote = out.message
            conflicting: Message | None = None
            if isinstance(vote, Prepare):
                conflicting = Prepare.create(
                    signer, vote.height, vote.view, sha256(vote.digest), vote.version
                )
            elif isinstance(vote, Commit):
                conflicting = Commit.create(
                    signer,
                    vote.height,
                    vote.view,
                    vote.digest,
                    sha256(vote.post_root),
                    vote.version,
                )
            if conflicting is not None:
                result.append(replace(out, message=conflicting))
        return result


class InvalidVote(Behaviour):
    """Colludes for invalid blocks: proposes false proofs and votes for anything."""

    name = "invalid-vote"

    def __init__(self, workload: TransferWorkload | None = None) -> None:
        super().__init__(workload)
        self._swapped: dict[bytes, PrePrepare] = {}

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        assert node.replica is not None
        result: list[Output] = []
        for out in outputs:
            message = out.message if isinstance(out, Broadcast | Send) else None
            if isinstance(message, PrePrepare) and message.leader == node.validator_id:
                proposal = self._swapped.get(message.digest)
                if proposal is None:
                    bad = self._invalid_block(node, message.block)
                    proposal = PrePrepare.create(
                        node.replica.signer, message.view, bad, _version(node, bad.height)
                    )
                    self._swapped[message.digest] = proposal
                    result.extend(self._vote_for(engine, node, proposal))
                if isinstance(out, Send):
                    result.append(Send(out.to, proposal))
                else:
                    result.append(Broadcast(proposal))
                continue
            result.append(out)
        return result

    def on_message(self, engine: Engine, node: SimNode, message: Message, now: int) -> list[Output]:
        assert node.replica is not None
        outputs = node.replica.on_message(message, now)
        if isinstance(message, NewView):
            message = message.pre_prepare
        if isinstance(message, PrePrepare) and message.height == node.replica.height:
            accepted = node.replica.proposals.get(message.view)
            if accepted is None or accepted.digest != message.digest:
                outputs = [*outputs, *self._vote_for(engine, node, message)]
        elif isinstance(message, PrepareCertificate) and message.height == node.replica.height:
            accepted = node.replica.proposals.get(message.view)
            if accepted is None or accepted.digest != message.digest:
                outputs = [
                    *outputs,
                    *self._commit_for(node, message.height, message.view, message.digest),
                ]
        return outputs

    def _route(self, node: SimNode, vote: Message, height: int, view: int) -> Output:
        assert node.replica is not None
        if node.replica.config.mode == "broadcast":
            return Broadcast(vote)
        if height == node.replica.height:
            return Send(node.replica.collector_of(view), vote)
        leader = node.replica.validators.get_leader(height, view).id
        return Send(leader, vote)

    def _vote_for(self, engine: Engine, node: SimNode, pp: PrePrepare) -> list[Output]:
        assert node.replica is not None
        signer = node.replica.signer
        prepare = Prepare.create(signer, pp.height, pp.view, pp.digest, _version(node, pp.height))
        votes: list[Output] = [self._route(node, prepare, pp.height, pp.view)]
        if node.replica.config.mode == "broadcast":
            votes.extend(self._commit_for(node, pp.height, pp.view, pp.digest))
        return votes

    def _commit_for(self, node: SimNode, height: int, view: int, digest: bytes) -> list[Output]:
        assert node.replica is not None
        vote = Commit.create(
            node.replica.signer,
            height,
            view,
            digest,
            sha256(b"fake" + digest),
            _version(node, height),
        )
        return [self._route(node, vote, height, view)]

    def _invalid_block(self, node: SimNode, block: ProofBlock) -> ProofBlock:
        """Return ``block`` plus an overdraft transfer whose proof falsely claims ``unsat``."""
        assert node.replica is not None and self.workload is not None
        workload = self.workload
        sender, receiver = workload.keys[0], workload.keys[1]
        account = to_hex(sender.public_key)
        state = workload.repository.get(node.replica.state_root)
        nonce = state.nonces.get(account, 0) + sum(
            1 for tx in block.transactions if tx.get("sender") == account
        )
        balance = 10**15
        tx = sign_transfer(sender, receiver=receiver.public_key, amount=balance, nonce=nonce)
        # The obligation on the sender's real (much smaller) balance is satisfiable: the claimed
        # "unsat" is false, and Z3 says so when an honest validator re-verifies it.
        real_balance = state.balances.get(account, 0)
        smt = get_transfer_obligation(tx, real_balance, nonce)
        proof = sign_proof(
            workload.judge.key,
            kind=ProofKind.TRANSFER,
            smt=smt,
            claimed=Outcome.UNSAT,
            budget=workload.judge.budget,
            subjects=(tx.transaction_id,),
        )
        return ProofBlock.create(
            node.replica.signer,
            block.height,
            block.parent,
            (*block.transactions, tx.to_json()),
            (*block.proofs, proof.to_json()),
            block.evidence,
            block.last_commit,
            _version(node, block.height),
        )


class Frame(Behaviour):
    """Forges evidence against the next validator in id order (module docstring)."""

    name = "frame"

    def __init__(self, workload: TransferWorkload | None = None) -> None:
        super().__init__(workload)
        self._gossiped: set[int] = set()

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        assert node.replica is not None
        height = node.replica.height
        result: list[Output] = []
        for out in outputs:
            message = out.message if isinstance(out, Send | Broadcast) else None
            if isinstance(message, PrePrepare) and message.leader == node.validator_id:
                block = message.block
                framed = ProofBlock.create(
                    node.replica.signer,
                    block.height,
                    block.parent,
                    block.transactions,
                    block.proofs,
                    (*block.evidence, self.forge(engine, node, block.height)),
                    block.last_commit,
                    _version(node, block.height),
                )
                proposal = PrePrepare.create(
                    node.replica.signer, message.view, framed, _version(node, block.height)
                )
                if isinstance(out, Send):
                    result.append(Send(out.to, proposal))
                else:
                    result.append(Broadcast(proposal))
                continue
            result.append(out)
        if height not in self._gossiped:
            self._gossiped.add(height)
            result.append(Broadcast(self.forge(engine, node, height)))
        return result

    @staticmethod
    def forge(engine: Engine, node: SimNode, height: int) -> Evidence:
        """Return an equivocation record against the next validator, whose votes this node
        signed with its own key under the victim's name, at the height before ``height``."""
        assert node.replica is not None
        own = node.replica.signer
        ids = sorted(engine.addresses)
        victim = ids[(ids.index(node.validator_id) + 1) % len(ids)]
        # Signed with this node's own key under the victim's name: all an attacker can do.
        fake = KeySigner(victim, own.key, own.bls_key)  # type: ignore[attr-defined]
        at = max(1, height - 1)
        version = _version(node, at)
        first = Prepare.create(fake, at, 0, sha256(b"frame-a" + victim.encode()), version)
        second = Prepare.create(fake, at, 0, sha256(b"frame-b" + victim.encode()), version)
        args = (Offence.EQUIVOCATION, victim, first, second, None, -1, node.validator_id)
        unsigned = Evidence(*args, b"")
        return Evidence(*args, own.sign(unsigned.payload_for(version)))


class ForgeCertificates(Behaviour):
    """As leader, follows its proposal with forged certificates (module docstring)."""

    name = "forge-certificate"

    def __init__(self, workload: TransferWorkload | None = None) -> None:
        super().__init__(workload)
        #: Its own proposals not yet followed by forgeries: (height, view, digest).
        self._pending: set[tuple[int, int, bytes]] = set()

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        assert node.replica is not None
        replica = node.replica
        result: list[Output] = list(outputs)
        for out in outputs:
            message = out.message if isinstance(out, Send | Broadcast) else None
            if isinstance(message, PrePrepare) and message.leader == node.validator_id:
                self._pending.add((message.height, message.view, message.digest))
        # The forged COMMITs need the post-state root, known once the replica has taken its
        # own proposal (a message to itself, processed right after it is sent).
        for height, view, digest in sorted(self._pending):
            proposal = replica.proposals.get(view)
            if height != replica.height or proposal is None or proposal.digest != digest:
                continue
            self._pending.discard((height, view, digest))
            root = proposal.execution.post_root
            if replica.version_of(height) == 2:
                result.extend(_forged_aggregates(replica, height, view, digest, root))
                continue
            own = replica.signer.key  # type: ignore[attr-defined]
            fakes = [KeySigner(v.id, own) for v in replica.validators.validators]
            prepares = tuple(Prepare.create(f, height, view, digest) for f in fakes)
            commits = tuple(Commit.create(f, height, view, digest, root) for f in fakes)
            result.append(Broadcast(PrepareCertificate(height, view, digest, prepares)))
            result.append(Broadcast(CommitCertificate(height, view, digest, root, commits)))
        self._pending = {p for p in self._pending if p[0] >= replica.height}
        return result


def _forged_aggregates(
    replica: Replica, height: int, view: int, digest: bytes, root: bytes
) -> list[Output]:
    """Version 2: certificates naming every member, whose aggregate is this node's own BLS
    signature once per member (all it can make: V2.8 refuses them)."""
    roster = replica.validators.v2.roster  # type: ignore[union-attr]
    own = replica.signer.bls_key  # type: ignore[attr-defined]
    everyone = bitmap(list(range(len(roster))), len(roster))
    forged: list[Output] = []
    for target in (
        VoteTarget("prepare", height, view, digest),
        VoteTarget("commit", height, view, digest, root),
    ):
        signature = own.sign(target.message())
        aggregate = bls.aggregate([signature] * len(roster))
        certificate = AggregateCertificate(target, everyone, aggregate)
        if target.phase == "prepare":
            forged.append(Broadcast(PrepareCertificate.of_aggregate(certificate)))
        else:
            forged.append(Broadcast(CommitCertificate.of_aggregate(certificate)))
    return forged


class ShiftedViews(Behaviour):
    """Behaves honestly and repeats its messages for shifted views (and heights)."""

    def __init__(self, workload: TransferWorkload | None, shift: int, heights: int) -> None:
        super().__init__(workload)
        self.shift = shift
        self.heights = heights
        self.name = "stale-view" if shift < 0 else "future-view"

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        assert node.replica is not None
        signer = node.replica.signer
        result: list[Output] = list(outputs)
        for out in outputs:
            if not isinstance(out, Send | Broadcast):
                continue
            m = out.message
            view = getattr(m, "view", 0) + self.shift
            height = getattr(m, "height", 1) + self.heights
            if view < 0:
                continue
            shifted: Message | None = None
            version = _version(node, height)
            if isinstance(m, Prepare):
                shifted = Prepare.create(signer, height, view, m.digest, version)
            elif isinstance(m, Commit):
                shifted = Commit.create(signer, height, view, m.digest, m.post_root, version)
            elif isinstance(m, ViewChange) and view >= 1:
                shifted = ViewChange.create(signer, height, view, None, None, version)
            if shifted is not None:
                result.append(replace(out, message=shifted))
        return result


class Fork(Behaviour):
    """Coalition attack: split the honest validators between two blocks of one height."""

    name = "fork"

    def __init__(self, workload: TransferWorkload | None, coalition: set[str]) -> None:
        super().__init__(workload)
        self.coalition = coalition
        self.voted: set[bytes] = set()

    def _side(self, engine: Engine, validator: str) -> int:
        # Alternate the honest validators between the two sides so both halves are equal.
        honest = sorted(v for v in engine.addresses if v not in self.coalition)
        return honest.index(validator) % 2 if validator in honest else 0

    def filter_outputs(
        self, engine: Engine, node: SimNode, outputs: list[Output], time: int
    ) -> list[Output]:
        result: list[Output] = []
        for out in outputs:
            message = out.message if isinstance(out, Send | Broadcast) else None
            if (
                isinstance(out, Broadcast)
                and isinstance(message, Prepare | Commit)
                and message.digest in FORK_SIDES
            ):
                continue  # the replica's own vote on a forked block: sent per side instead
            if isinstance(message, PrePrepare) and message.leader == node.validator_id:
                other = _variant(node, message.block)
                if other is not None:
                    assert node.replica is not None
                    second = PrePrepare.create(
                        node.replica.signer, message.view, other, _version(node, other.height)
                    )
                    FORK_SIDES[message.digest] = 0
                    FORK_SIDES[second.digest] = 1
                    engine._note_proposal(message, time)
                    for peer in sorted(engine.addresses):
                        if peer == node.validator_id:
                            continue
                        if peer in self.coalition:
                            result.extend([Send(peer, message), Send(peer, second)])
                        else:
                            side = self._side(engine, peer)
                            result.append(Send(peer, message if side == 0 else second))
                    result.extend(self._votes(engine, node, message, 0))
                    result.extend(self._votes(engine, node, second, 1))
                    continue
            result.append(out)
        return result

    def on_message(self, engine: Engine, node: SimNode, message: Message, now: int) -> list[Output]:
        assert node.replica is not None
        outputs = node.replica.on_message(message, now)
        if isinstance(message, PrePrepare) and message.digest in FORK_SIDES:
            side = FORK_SIDES[message.digest]
            outputs = [*outputs, *self._votes(engine, node, message, side)]
        return outputs

    def _votes(self, engine: Engine, node: SimNode, pp: PrePrepare, side: int) -> list[Output]:
        assert node.replica is not None
        replica = node.replica
        if pp.digest in self.voted or pp.height != replica.height:
            return []
        self.voted.add(pp.digest)
        services = replica.services
        verdict = services.validator.validate_block(pp.block, replica.state_root)
        if not verdict.valid:
            return []
        root = services.executor.execute(
            pp.block, verdict, replica.state_root, replica.validators
        ).post_root
        version = _version(node, pp.height)
        prepare = Prepare.create(replica.signer, pp.height, pp.view, pp.digest, version)
        commit = Commit.create(replica.signer, pp.height, pp.view, pp.digest, root, version)
        result: list[Output] = []
        for peer in sorted(engine.addresses):
            if peer != node.validator_id and (
                peer in self.coalition or self._side(engine, peer) == side
            ):
                result.extend([Send(peer, prepare), Send(peer, commit)])
        return result


#: Which side each forked block went to (shared by the coalition, as a real one would agree).
FORK_SIDES: dict[bytes, int] = {}


def make_behaviour(
    kind: str, workload: TransferWorkload | None, coalition: set[str] | None = None
) -> Behaviour:
    """Return the behaviour named ``kind`` (see :data:`KINDS`)."""
    behaviours: dict[str, Any] = {
        "silent": lambda: Silent(workload),
        "equivocate": lambda: Equivocate(workload),
        "double-vote": lambda: DoubleVote(workload),
        "invalid-vote": lambda: InvalidVote(workload),
        "stale-view": lambda: ShiftedViews(workload, -1, 0),
        "future-view": lambda: ShiftedViews(workload, 1_000, 5),
        "twins": lambda: Behaviour(workload),
        "fork": lambda: Fork(workload, coalition or set()),
        "frame": lambda: Frame(workload),
        "forge-certificate": lambda: ForgeCertificates(workload),
    }
    if kind not in behaviours:
        raise UsageError(f"unknown Byzantine behaviour {kind!r}; known: {', '.join(KINDS)}")
    behaviour: Behaviour = behaviours[kind]()
    return behaviour
