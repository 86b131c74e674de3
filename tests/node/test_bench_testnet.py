"""The node benchmark's CPU accounting (aethel bench testnet): the validators' CPU time over a
load's sending window, read from cumulative samples."""

from __future__ import annotations

import pytest

from aethel.bench.testnet import cpu_between

SAMPLES = [(10.0, 0.0), (10.2, 0.1), (10.4, 0.5), (10.6, 0.5)]


def test_the_window_is_interpolated_between_samples() -> None:
    assert cpu_between(SAMPLES, 10.0, 10.6) == pytest.approx(0.5)
    assert cpu_between(SAMPLES, 10.1, 10.3) == pytest.approx(0.3 - 0.05)
    assert cpu_between(SAMPLES, 10.2, 10.2) == 0.0
    assert cpu_between(SAMPLES, 10.45, 10.6) == pytest.approx(0.0)


@pytest.mark.parametrize(("start", "end"), [(9.9, 10.5), (10.1, 10.7), (10.5, 10.1)])
def test_a_window_the_samples_do_not_cover_is_refused(start: float, end: float) -> None:
    with pytest.raises(ValueError):
        cpu_between(SAMPLES, start, end)
    with pytest.raises(ValueError):
        cpu_between([], 0.0, 0.0)
