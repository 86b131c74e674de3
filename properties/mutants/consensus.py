"""Replica mutants (subclasses of :class:`aethel.consensus.replica.Replica`)."""

from __future__ import annotations

import dataclasses

from aethel.consensus.events import Output, Timer
from aethel.consensus.replica import Replica
from aethel.consensus.validators import ValidatorSet


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
