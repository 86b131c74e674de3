"""Pure consensus rules of the replica: the view timeout against observed latency (P26).

The replica's use of the rule (timeouts that follow latency measured on its links, R6.5) is
checked with the sans-IO replica itself.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters.api import ReplicaAPI
from conformance.plugin import Measure, catalog_threshold

pytestmark = pytest.mark.capability("replica")

MS = 1_000_000


def _latencies() -> st.SearchStrategy[int]:
    """Latencies (ns) above the catalog's condition, up to ten minutes."""
    above_ms = catalog_threshold("P26", "observed_latency_ms").value
    return st.integers(int(above_ms * MS) + 1, 600_000 * MS)


@pytest.mark.req("P26")
@given(latency=_latencies(), extra=st.integers(0, 10_000 * MS), view=st.integers(0, 30))
def test_timeout_keeps_its_multiple_of_latency_and_rises_with_it(
    replica_api: ReplicaAPI, latency: int, extra: int, view: int
) -> None:
    ratio = catalog_threshold("P26", "timeout_to_latency_ratio")
    low = replica_api.timeout(latency, view)
    high = replica_api.timeout(latency + extra, view)
    if type(low) is not int:
        raise AssertionError(f"timeout must be an integer of ns, got {low!r}")
    if not ratio.holds(low / latency):
        raise AssertionError(f"timeout {low} ns is {low / latency:.3f} x latency {latency} ns")
    if high < low:
        raise AssertionError(f"timeout fell from {low} to {high} ns as latency rose by {extra} ns")
    if replica_api.timeout(latency, view + 1) < low:
        raise AssertionError(f"timeout fell from view {view} to view {view + 1}")


@pytest.mark.req("P26")
def test_timeout_to_latency_ratio_over_a_sweep(replica_api: ReplicaAPI, measure: Measure) -> None:
    """Record the smallest timeout/latency ratio over latencies from 0.5 s to 100 s, views 0-10."""
    above_ms = catalog_threshold("P26", "observed_latency_ms").value
    start = int(above_ms * MS) + 1
    ratios = [
        replica_api.timeout(latency, view) / latency
        for latency in range(start, 100_000 * MS, 997 * MS)
        for view in range(11)
    ]
    measure.check("P26", "timeout_to_latency_ratio", min(ratios))
