"""What each validator has heard about the views of its height: the model of R2.6's timer rule.

A view v > 0 of height h is *established* at a validator once validators holding q(W) stake
asked for v or a later view of h (VIEW-CHANGE messages it received or sent), or it received or
sent a valid NEW-VIEW for (h, v); view 0 always is (spec/consensus.md, "View change"). Its view
timer runs only in an established view: there a timeout moves the validator on to v + 1 (R2.6,
P10); while it waits, a timeout only re-sends its VIEW-CHANGE.

The model cannot see inside an implementation, so it brackets what the validator can have
counted from what the network did:

* ``ever``: every VIEW-CHANGE and NEW-VIEW of the height delivered to it or sent by it, at any
  time. If even these do not establish the view, the validator must not move on (R2.6);
* ``surely``: only those delivered while it was at that height and up since (a restart loses
  memory; a message for a later height may be dropped rather than kept). If these establish
  the view, it must move on.

Between the two, either is allowed. Both count each validator's highest view, with the stakes
of the validator's own state (slashing changes them between heights). Every VIEW-CHANGE and
NEW-VIEW in the cluster is signed by a replica (the Byzantine rules forge only votes), so
counting them without a signature check is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aethel.consensus.messages import Message, NewView, ViewChange
from aethel.consensus.validators import ValidatorSet


@dataclass
class Heard:
    """VIEW-CHANGE and NEW-VIEW messages of one height one validator heard or sent."""

    #: validator -> the highest view it asked for.
    highest: dict[str, int] = field(default_factory=dict)
    #: views a NEW-VIEW was heard or sent for.
    new_views: set[int] = field(default_factory=set)

    def add(self, message: ViewChange | NewView) -> None:
        """Note one message."""
        if isinstance(message, NewView):
            self.new_views.add(message.view)
        elif message.view > self.highest.get(message.validator, 0):
            self.highest[message.validator] = message.view

    def is_established(self, view: int, validators: ValidatorSet) -> bool:
        """Return True if these messages establish ``view`` (q(W) stake at ``view`` or later)."""
        if view == 0 or view in self.new_views:
            return True
        stake = sum(validators.stake_of(v) for v, top in self.highest.items() if top >= view)
        return stake >= validators.quorum


@dataclass
class ViewWitness:
    """Per (validator, height): what it heard at any time, and what it surely still counts."""

    ever: dict[tuple[str, int], Heard] = field(default_factory=dict)
    surely: dict[tuple[str, int], Heard] = field(default_factory=dict)
    #: (validator, height) -> the highest view it sent its own VIEW-CHANGE for.
    asked: dict[tuple[str, int], int] = field(default_factory=dict)

    def on_delivered(self, target: str, message: Message, target_height: int) -> None:
        """Note ``message`` delivered to ``target``, which was at ``target_height``."""
        if not isinstance(message, ViewChange | NewView):
            return
        key = (target, message.height)
        self.ever.setdefault(key, Heard()).add(message)
        if message.height == target_height:
            self.surely.setdefault(key, Heard()).add(message)

    def on_sent(self, source: str, message: Message) -> None:
        """Note ``message`` sent by ``source`` (its own messages count for it)."""
        if not isinstance(message, ViewChange | NewView):
            return
        key = (source, message.height)
        self.ever.setdefault(key, Heard()).add(message)
        self.surely.setdefault(key, Heard()).add(message)
        if isinstance(message, ViewChange) and message.validator == source:
            self.asked[key] = max(self.asked.get(key, 0), message.view)

    def on_crash(self, name: str) -> None:
        """Forget what ``name`` surely counted: it may restart with no memory."""
        self.surely = {k: v for k, v in self.surely.items() if k[0] != name}

    def is_surely_established(
        self, name: str, height: int, view: int, validators: ValidatorSet
    ) -> bool:
        """Return True if ``name`` must count ``view`` of ``height`` as established."""
        heard = self.surely.get((name, height), Heard())
        return heard.is_established(view, validators)

    def is_maybe_established(
        self, name: str, height: int, view: int, validators: ValidatorSet
    ) -> bool:
        """Return True if ``name`` may count ``view`` of ``height`` as established."""
        heard = self.ever.get((name, height), Heard())
        return heard.is_established(view, validators)
