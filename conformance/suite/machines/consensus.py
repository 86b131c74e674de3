"""Consensus machine: a four-validator cluster whose every network event is a rule.

Rules are network actions (deliver, drop, duplicate, delay, partition, heal, crash, restart,
fire a timer) and Byzantine sends by ``v003`` (a second vote for a made-up digest, a vote with a
forged signature, a proposal holding a false proof claim). After every step the safety checks
of :mod:`conformance.suite.machines.consensus_checks` run over everything honest replicas committed:
agreement, integrity, certificates with >= q(W) valid stake, validity (only valid proofs, the
chain extends), conservation and supply books, exact rewards, and no honest validator accused
or slashed. The ``heal_and_settle`` rule checks liveness: once the network heals and every
honest validator runs, each of them commits again (R2.5).

Spec: R2.2-R2.6, R3.2, R3.6, R4.1, R4.6, R4.7, R5.4, R7.3, R7.5, R7.6; P6-P11, P14, P15, P19,
P28, P30, P31.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from aethel.consensus.messages import ViewChange
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import Mode
from conformance.adapters.api import Implementation
from conformance.suite.machines.cluster import (
    BYZANTINE,
    HONEST,
    NAMES,
    Cluster,
    ReplicaClass,
    make_cluster,
)
from conformance.suite.machines.common import ModelMismatch
from conformance.suite.machines.consensus_checks import check_safety

nodes = st.sampled_from(NAMES)


class LivenessFailure(ModelMismatch):
    """Honest validators made no progress after the network healed (R2.5, R7.6)."""


picks = st.integers(0, 2**16)


class ConsensusMachine(RuleBasedStateMachine):
    """Drive a cluster through network and Byzantine actions; check safety after each."""

    replica_class: ClassVar[ReplicaClass] = Replica
    #: The implementation whose replicas the honest validators run (through the adapter), or
    #: None to run ``replica_class`` in process.
    implementation_factory: ClassVar[Callable[[], Implementation] | None] = None
    mode: ClassVar[Mode] = "collector"
    #: Whether heal_and_settle asserts progress; without it, it only drives the cluster on.
    check_liveness: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        factory = type(self).implementation_factory
        self.cluster: Cluster = make_cluster(
            type(self).replica_class, type(self).mode, factory() if factory else None
        )

    @initialize(heights=st.integers(0, 4))
    def commit_some_heights(self, heights: int) -> None:
        """Start from a chain of 0-4 heights committed on a calm network."""
        for _ in range(heights):
            self.cluster.settle()

    @property
    def _has_mail(self) -> bool:
        return bool(self.cluster.in_flight)

    @precondition(lambda self: self._has_mail)
    @rule(choices=st.lists(picks, min_size=1, max_size=16))
    def deliver(self, choices: list[int]) -> None:
        """Deliver up to 16 messages, each chosen among the deliverable ones (any order)."""
        for choice in choices:
            ready = self.cluster.deliverable()
            if not ready:
                return
            self.cluster.deliver(ready[choice % len(ready)])

    @precondition(lambda self: self._has_mail)
    @rule(choice=picks)
    def drop(self, choice: int) -> None:
        self.cluster.drop(choice % len(self.cluster.in_flight))

    @precondition(lambda self: self._has_mail)
    @rule(choice=picks)
    def duplicate(self, choice: int) -> None:
        self.cluster.duplicate(choice % len(self.cluster.in_flight))

    @rule(milliseconds=st.integers(1, 10_000))
    def delay(self, milliseconds: int) -> None:
        self.cluster.advance(milliseconds * 1_000_000)

    @rule(side=st.frozensets(nodes, min_size=1, max_size=len(NAMES) - 1))
    def partition(self, side: frozenset[str]) -> None:
        self.cluster.partition(side)

    @rule()
    def heal(self) -> None:
        self.cluster.heal()

    @precondition(lambda self: len(self.cluster.down) < 2)
    @rule(name=nodes)
    def crash(self, name: str) -> None:
        if name not in self.cluster.down:
            self.cluster.crash(name)

    @precondition(lambda self: bool(self.cluster.down))
    @rule(choice=picks)
    def restart(self, choice: int) -> None:
        down = sorted(self.cluster.down)
        self.cluster.restart(down[choice % len(down)])

    @property
    def _armed(self) -> list[str]:
        """Return the nodes with a view timer set (by their replica) that are up."""
        return sorted(n for n in self.cluster.timers if n not in self.cluster.down)

    @precondition(lambda self: bool(self._armed))
    @rule(choice=picks)
    def fire_timer(self, choice: int) -> None:
        """Expire the view timer a validator set last; check R2.6's timer rule (P10).

        In an established view (view 0, q(W) stake asked for it or a later view, or its
        NEW-VIEW came) the timeout starts a view change: the validator moves on. In a view it
        still waits for, the timeout re-sends its VIEW-CHANGE and sets the next re-send; the
        view does not change (:mod:`conformance.suite.machines.consensus_views` says what the model
        can know of "established").
        """
        cluster = self.cluster
        armed = self._armed
        name = armed[choice % len(armed)]
        timer = cluster.timers[name].timer
        height, view = cluster.position(name)[:2]
        if (timer.height, timer.view) != (height, view):
            cluster.fire_timer(name)  # a timer the validator no longer needs: it may ignore it
            return
        validators = cluster.voting_set(name)
        witness = cluster.witness
        surely = witness.is_surely_established(name, height, view, validators)
        maybe = witness.is_maybe_established(name, height, view, validators)
        asked = view > 0 and witness.asked.get((name, height)) == view
        sent_before = len(cluster.in_flight)
        cluster.fire_timer(name)
        after = cluster.position(name)[:2]
        where = f"{name}'s timer of height {height} view {view} expired"
        if surely and after <= (height, view):
            raise ModelMismatch(
                "R2.6 P10", f"{where} in an established view, and it stayed at view {after[1]}"
            )
        if maybe:
            return
        if after != (height, view):
            raise ModelMismatch(
                "R2.6",
                f"{where} before q(W) stake asked for the view, and it moved to height "
                f"{after[0]} view {after[1]} (a view is left only once established)",
            )
        resent = any(
            isinstance(e.message, ViewChange)
            and e.source == name
            and (e.message.height, e.message.view) == (height, view)
            for e in cluster.in_flight[sent_before:]
        )
        if asked and not resent:
            raise ModelMismatch("R2.6", f"{where} while waiting, and it re-sent no VIEW-CHANGE")
        if name not in cluster.timers:
            raise ModelMismatch(
                "R2.6", f"{where} while waiting, and it set no timer to re-send its VIEW-CHANGE"
            )

    @precondition(lambda self: BYZANTINE not in self.cluster.down)
    @rule(
        victim=st.sampled_from(HONEST),
        salt=st.integers(0, 3),
        commit=st.booleans(),
        to=st.lists(st.sampled_from(HONEST), min_size=1, max_size=3, unique=True),
    )
    def byzantine_equivocate(self, victim: str, salt: int, commit: bool, to: list[str]) -> None:
        """v003 signs a vote for a made-up digest at an honest validator's (height, view)."""
        if victim not in self.cluster.down:
            self.cluster.inject(self.cluster.conflicting_vote(victim, salt, commit), to)

    @precondition(lambda self: self._has_mail)
    @rule(choice=picks, to=st.lists(st.sampled_from(HONEST), min_size=1, max_size=3, unique=True))
    def byzantine_forge(self, choice: int, to: list[str]) -> None:
        """v003 relays a copy of an in-flight vote with a corrupted signature (R7.5)."""
        forged = self.cluster.forged_copy(choice % len(self.cluster.in_flight))
        if forged is not None:
            self.cluster.inject(forged, to)

    @precondition(lambda self: BYZANTINE not in self.cluster.down)
    @rule(victim=st.sampled_from(HONEST))
    def byzantine_false_claim(self, victim: str) -> None:
        """v003, when it leads, proposes a block whose proof claims the opposite of Z3 (R1.5)."""
        if victim in self.cluster.down:
            return
        proposal = self.cluster.invalid_proposal(victim)
        if proposal is not None:
            self.cluster.inject(proposal, list(HONEST))

    @rule()
    def heal_and_settle(self) -> None:
        """After GST with honest stake >= q(W), every honest validator commits again (R2.5)."""
        cluster = self.cluster
        cluster.heal()
        for name in sorted(cluster.down):
            if name != BYZANTINE:
                cluster.restart(name)
        before = {name: len(cluster.commits.get(name, [])) for name in HONEST}
        cluster.settle()
        stuck = [name for name in HONEST if len(cluster.commits.get(name, [])) <= before[name]]
        if stuck and type(self).check_liveness:
            raise LivenessFailure(
                "R2.5 R7.6 P9 P31",
                f"after heal {stuck} made no progress: heights "
                f"{ {n: cluster.replicas[n].height for n in HONEST} }, views "
                f"{ {n: cluster.replicas[n].view for n in HONEST} }",
            )

    @invariant()
    def safety(self) -> None:
        check_safety(self.cluster)


def make_consensus_machine(
    replica_class: ReplicaClass = Replica,
    mode: Mode = "collector",
    name: str = "reference",
    *,
    check_liveness: bool = True,
    implementation: Callable[[], Implementation] | None = None,
) -> type[ConsensusMachine]:
    """Return a consensus machine class whose honest validators run ``implementation``'s
    replicas through the adapter (if given) or ``replica_class`` in process."""
    return type(
        f"ConsensusMachine[{name}/{mode}]",
        (ConsensusMachine,),
        {
            "replica_class": replica_class,
            "mode": mode,
            "check_liveness": check_liveness,
            "implementation_factory": None
            if implementation is None
            else staticmethod(implementation),
        },
    )
