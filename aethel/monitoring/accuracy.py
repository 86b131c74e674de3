"""Verification accuracy over a sliding window, with alerts below 95% (R8.3, P34).

A verification claim is a validator's signed vote for a block: it claims every proof in the
block is valid. The claim is correct when re-verification agrees. Each validator's last
``window`` claims are kept; when at least ``min_claims`` are known and the share of correct
ones is below ``threshold`` (95%), an alert fires once, and again only after accuracy has
recovered to the threshold (no alert storm).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction

#: R8.3: accuracy below this share raises an alert.
ACCURACY_THRESHOLD = Fraction(95, 100)


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
        self, window: int = 100, min_claims: int = 20, threshold: Fraction = ACCURACY_THRESHOLD
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
