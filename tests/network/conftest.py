"""Network tests: runs of real node processes behind the harness's proxy.

Tests marked ``network_long`` (every mutant node, multi-minute runs) run only with
``AETHEL_NETWORK_LONG=1``; the default run keeps the network tests to tens of seconds.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "network_long: multi-minute network runs (AETHEL_NETWORK_LONG=1)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("AETHEL_NETWORK_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="multi-minute network runs: set AETHEL_NETWORK_LONG=1")
    for item in items:
        if "network_long" in item.keywords:
            item.add_marker(skip)
