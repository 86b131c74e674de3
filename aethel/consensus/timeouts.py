"""View timeouts: adaptive to observed latency, with exponential backoff (R2.6, R6.5, I10).

Owns: R6.5 (a view timeout is never below 4 times the observed latency and never decreases),
I10 (the timeout rule bounds latency and never decreases).

All times are integer nanoseconds (virtual time in the simulator). ``timeout_formula`` is the
rule over ints or Z3 terms (``aethel.arith``): ``compute_timeout`` validates its input and calls
it, and the Z3 proof of I10 (``aethel/formal/timeouts.py``) calls it symbolically.
"""

from __future__ import annotations

from aethel.arith import Num, maximum, minimum, power_of_two
from aethel.errors import UsageError

MS = 1_000_000
#: Floor of every view timeout.
BASE_TIMEOUT_NS = 4_000 * MS
#: The timeout never drops below this multiple of the observed one-way latency (R6.5, I10).
LATENCY_MULTIPLE = 4
#: Backoff doubles the timeout per failed view, up to 2**MAX_BACKOFF_EXPONENT times. The cap
#: costs no liveness because views cannot run away: a view's timer starts only once q(W) stake
#: asked for it (view synchronisation, :mod:`aethel.consensus.viewchange`, R2.5, R2.6), so no
#: validator needs a longer timeout than the others to be caught up. It bounds how long the view
#: in progress when the network heals can last (64 x the base, 256 s at the 4 s floor), where an
#: uncapped backoff would grow with the length of the outage; slow links are followed by the
#: latency term (R6.5), not by the backoff.
MAX_BACKOFF_EXPONENT = 6


def backoff_formula(view: Num) -> Num:
    """Return 2**min(view, MAX_BACKOFF_EXPONENT) of an int or a Z3 term, unchecked (R2.6)."""
    return power_of_two(minimum(view, MAX_BACKOFF_EXPONENT), MAX_BACKOFF_EXPONENT)


def timeout_formula(observed_latency_ns: Num, view: Num) -> Num:
    """Return max(LATENCY_MULTIPLE * latency, BASE) * backoff(view), unchecked (R6.5, I10)."""
    return maximum(LATENCY_MULTIPLE * observed_latency_ns, BASE_TIMEOUT_NS) * backoff_formula(view)


def compute_timeout(observed_latency_ns: int, view: int = 0) -> int:
    """Return the timeout of ``view`` given the observed one-way latency (R2.6, R6.5).

    timeout = max(BASE, LATENCY_MULTIPLE * latency) * 2**min(view, MAX_BACKOFF_EXPONENT):
    non-decreasing in latency and in view, and never below LATENCY_MULTIPLE * latency.
    """
    if type(observed_latency_ns) is not int or observed_latency_ns < 0:
        raise UsageError(f"latency must be a non-negative int of ns, got {observed_latency_ns!r}")
    if type(view) is not int or view < 0:
        raise UsageError(f"view must be a non-negative int, got {view!r}")
    return timeout_formula(observed_latency_ns, view)
