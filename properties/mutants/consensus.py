"""Replica mutants (subclasses of :class:`aethel.consensus.replica.Replica`)."""

from __future__ import annotations

import dataclasses

from aethel.consensus.events import Output, Timer
from aethel.consensus.replica import Replica
from aethel.consensus.validators import ValidatorSet
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_replica import ReferenceReplica, ReferenceReplicaObject


class QuorumWithoutPlusOne(Replica):
    """Defect: the quorum is floor(2W/3) stake, without the + 1 (breaks R2.3, I2).

    Every validator set the replica adopts (at start, after slashing) gets the short quorum.
    """

    @property
    def validators(self) -> ValidatorSet:
        return self._short_quorum_set

    @validators.setter
    def validators(self, value: ValidatorSet) -> None:
        self._short_quorum_set = dataclasses.replace(value, quorum=2 * value.total_stake // 3)


class NoViewChangeOnTimeout(Replica):
    """Defect: an expired view timer is ignored instead of starting a view change (R2.6).

    A proposal lost in the network, or a silent leader, then stalls the height for good.
    """

    def on_timer(self, timer: Timer, now: int) -> list[Output]:
        if timer.kind == "view":
            self._now = now
            return self._flush()
        return super().on_timer(timer, now)


# The mutants as implementations under test (``--impl python:properties.mutants.consensus:...``).


def _replica_implementation(
    label: str, replica_class: type[Replica]
) -> type[ReferenceImplementation]:
    object_class = type(
        f"{replica_class.__name__}Object",
        (ReferenceReplicaObject,),
        {"replica_class": replica_class},
    )
    capability = type(
        f"{replica_class.__name__}Capability", (ReferenceReplica,), {"object_class": object_class}
    )

    class MutantImplementation(ReferenceImplementation):
        name = f"mutant-{label}"

        def make_replica(self) -> object:
            return capability()

    return MutantImplementation


QuorumWithoutPlusOneImplementation = _replica_implementation(
    "quorum-without-plus-one", QuorumWithoutPlusOne
)
NoViewChangeOnTimeoutImplementation = _replica_implementation(
    "no-view-change-on-timeout", NoViewChangeOnTimeout
)
