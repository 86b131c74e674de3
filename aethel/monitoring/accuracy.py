"""Verification accuracy over a sliding window, with alerts below 95% (R8.3, P34).

A verification verdict is a validator's signed vote for a block: each PREPARE or COMMIT it signs
claims the block, every proof in it included, is valid. The verdict is correct when the node's own
validation of the block agrees. :class:`AccuracyTracker` keeps each validator's last
:data:`ACCURACY_WINDOW` verdicts; when at least :data:`ACCURACY_MIN_VERDICTS` are known and the
share of correct ones is below :data:`ACCURACY_THRESHOLD` (95%), an alert opens once, and closes
when accuracy is back at or above the threshold (no alert storm; a later drop opens a new one).

:class:`VerdictBook` turns a live node's observations into judged verdicts: votes it received
(or sent) wait until the node's own validation of their block is known, then each counts once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction

#: R8.3 ``accuracy_alert_below``: accuracy below this share raises an alert.
ACCURACY_THRESHOLD = Fraction(95, 100)
#: R8.3 ``accuracy_window_verdicts``: the sliding window, in verdicts of one validator.
ACCURACY_WINDOW = 100
#: R8.3 ``accuracy_min_verdicts``: no alert before the window holds this many verdicts.
ACCURACY_MIN_VERDICTS = 20

#: A verdict's identity: (validator, height, view, vote type); each counts once.
VerdictKey = tuple[str, int, int, str]


@dataclass(frozen=True, slots=True)
class AccuracyAlert:
    """An accuracy alert for one validator."""

    validator: str
    correct: int
    claims: int

    @property
    def accuracy(self) -> float:
        """Return the accuracy that fired the alert."""
        return self.correct / self.claims

    def message(self) -> str:
        """Return a log line for operators."""
        return (
            f"validator {self.validator}: verification accuracy {self.accuracy:.1%} over the "
            f"last {self.claims} claims is below {float(ACCURACY_THRESHOLD):.0%} (R8.3)"
        )


class AccuracyTracker:
    """Sliding-window accuracy per validator."""

    def __init__(
        self,
        window: int = ACCURACY_WINDOW,
        min_claims: int = ACCURACY_MIN_VERDICTS,
        threshold: Fraction = ACCURACY_THRESHOLD,
    ) -> None:
        self.window = window
        self.min_claims = min(min_claims, window)
        self.threshold = threshold
        self._claims: dict[str, deque[bool]] = {}
        self._alerting: set[str] = set()
        self.alerts: list[AccuracyAlert] = []

    def record(self, validator: str, correct: bool) -> AccuracyAlert | None:
        """Add one claim; return a new alert if accuracy just dropped below the threshold."""
        claims = self._claims.setdefault(validator, deque(maxlen=self.window))
        claims.append(correct)
        if len(claims) < self.min_claims:
            return None
        good = sum(claims)
        below = Fraction(good, len(claims)) < self.threshold
        if below and validator not in self._alerting:
            self._alerting.add(validator)
            alert = AccuracyAlert(validator, good, len(claims))
            self.alerts.append(alert)
            return alert
        if not below:
            self._alerting.discard(validator)
        return None

    def accuracy(self, validator: str) -> float | None:
        """Return the validator's accuracy over its window, or None without claims."""
        claims = self._claims.get(validator)
        return None if not claims else sum(claims) / len(claims)

    def windows(self) -> dict[str, tuple[int, int]]:
        """Return each validator's window as (correct verdicts, verdicts held)."""
        return {v: (sum(claims), len(claims)) for v, claims in self._claims.items()}

    def verdicts(self, validator: str) -> int:
        """Return how many verdicts of ``validator`` the window holds."""
        return len(self._claims.get(validator, ()))

    def open_alerts(self) -> list[AccuracyAlert]:
        """Return the open alerts, by validator, with the window's current numbers."""
        return [
            AccuracyAlert(v, sum(self._claims[v]), len(self._claims[v]))
            for v in sorted(self._alerting)
        ]


class VerdictBook:
    """Match a node's observed votes with its own validation outcomes (R8.3).

    :meth:`on_vote` notes a validly signed vote; :meth:`on_outcome` records the node's own
    verdict on a block. Each returns the verdicts that became judgeable, as (validator, correct)
    in arrival order, each verdict at most once. Only the heights from the node's latest commit on
    are kept (:meth:`on_commit`): a vote for a block whose validity the node never settled (it
    never saw the block, or refused it before checking its proofs) is never judged.
    """

    def __init__(self) -> None:
        self._outcomes: dict[bytes, bool] = {}
        self._outcome_heights: dict[bytes, int] = {}
        self._waiting: dict[bytes, list[VerdictKey]] = {}
        self._seen: set[VerdictKey] = set()
        self._floor = 0

    def on_vote(self, key: VerdictKey, digest: bytes) -> list[tuple[str, bool]]:
        """Note the vote ``key`` for ``digest``; return it judged if the outcome is known."""
        if key[1] < self._floor or key in self._seen:
            return []
        self._seen.add(key)
        outcome = self._outcomes.get(digest)
        if outcome is None:
            self._waiting.setdefault(digest, []).append(key)
            return []
        return [(key[0], outcome)]

    def on_outcome(self, digest: bytes, height: int, valid: bool) -> list[tuple[str, bool]]:
        """Record the node's own verdict on the block ``digest``; judge the votes waiting on it."""
        if height < self._floor or digest in self._outcomes:
            return []
        self._outcomes[digest] = valid
        self._outcome_heights[digest] = height
        return [(key[0], valid) for key in self._waiting.pop(digest, [])]

    def on_commit(self, height: int) -> None:
        """Forget everything below ``height`` (late votes for older heights are not judged)."""
        self._floor = max(self._floor, height)
        floor = self._floor
        self._seen = {key for key in self._seen if key[1] >= floor}
        for digest, keys in list(self._waiting.items()):
            kept = [key for key in keys if key[1] >= floor]
            if kept:
                self._waiting[digest] = kept
            else:
                del self._waiting[digest]
        for digest, at in list(self._outcome_heights.items()):
            if at < floor:
                del self._outcome_heights[digest]
                del self._outcomes[digest]
