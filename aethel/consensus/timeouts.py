"""View timeouts: adaptive to observed latency, with exponential backoff (R2.6, R6.5, I10).

All times are integer nanoseconds (virtual time in the simulator).
"""

from __future__ import annotations

from aethel.errors import UsageError

MS = 1_000_000
#: Floor of every view timeout.
BASE_TIMEOUT_NS = 4_000 * MS
#: The timeout never drops below this multiple of the observed one-way latency (R6.5, I10).
LATENCY_MULTIPLE = 4
#: Backoff doubles the timeout per failed view, up to 2**MAX_BACKOFF_EXPONENT times.
MAX_BACKOFF_EXPONENT = 6


def compute_timeout(observed_latency_ns: int, view: int = 0) -> int:
    """Return the timeout of ``view`` given the observed one-way latency (R2.6, R6.5).

    timeout = max(BASE, LATENCY_MULTIPLE * latency) * 2**min(view, MAX_BACKOFF_EXPONENT):
    non-decreasing in latency and in view, and never below LATENCY_MULTIPLE * latency.
    """
    if type(observed_latency_ns) is not int or observed_latency_ns < 0:
        raise UsageError(f"latency must be a non-negative int of ns, got {observed_latency_ns!r}")
    if type(view) is not int or view < 0:
        raise UsageError(f"view must be a non-negative int, got {view!r}")
    base = max(BASE_TIMEOUT_NS, LATENCY_MULTIPLE * observed_latency_ns)
    return base << min(view, MAX_BACKOFF_EXPONENT)
