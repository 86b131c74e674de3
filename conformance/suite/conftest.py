"""Fixtures of the conformance suite: the implementation under test."""

from __future__ import annotations

import pytest

from conformance.adapters import Implementation, load_implementation


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--impl", default="reference", help="implementation under test")


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Implementation:
    return load_implementation(request.config.getoption("--impl"))
