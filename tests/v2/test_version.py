"""Which version a height runs (V2.1) and one version per height (V2.2)."""

from __future__ import annotations

import pytest

from aethel.consensus.v2.version import require_version, version_of_height
from aethel.errors import ProtocolViolation


@pytest.mark.req("V2.1")
def test_version_2_starts_at_the_named_height() -> None:
    assert [version_of_height(h, 100) for h in (0, 1, 99, 100, 101)] == [1, 1, 1, 2, 2]
    assert [version_of_height(h, 1) for h in (0, 1, 2)] == [1, 2, 2]
    assert version_of_height(10**9, None) == 1
    for bad in (0, -5, True, 1.0):
        with pytest.raises(ProtocolViolation) as refused:
            version_of_height(5, bad)  # type: ignore[arg-type]
        assert refused.value.rule_id == "V2.1"


def test_the_version_check_the_replica_will_call_names_v2_2() -> None:
    """Not yet a test of V2.2 (waived): no replica calls it; it checks the helper alone."""
    require_version(99, 100, 1)
    require_version(100, 100, 2)
    for height, version in ((99, 2), (100, 1), (5000, 1)):
        with pytest.raises(ProtocolViolation) as refused:
            require_version(height, 100, version)
        assert refused.value.rule_id == "V2.2"
