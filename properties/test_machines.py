"""Run every state machine against an implementation through the conformance adapter.

``AETHEL_IMPL`` names the implementation (default ``reference``; ``python:module:factory`` or
``stdio:COMMAND`` for another one, see conformance/adapters/loader.py). A capability the
implementation does not declare is skipped. In the consensus machine the three honest
validators run the implementation's replicas behind the adapter (the Byzantine one is a
reference replica). Each machine's module docstring says what it checks.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

import pytest

from aethel.consensus.replica import Mode
from conformance.adapters import Implementation, load_implementation
from properties.machines.common import run_machine
from properties.machines.consensus import ConsensusMachine, make_consensus_machine
from properties.machines.mempool import make_mempool_machine
from properties.machines.state_store import make_state_store_machine
from properties.machines.state_tree import make_state_tree_machine
from properties.machines.verifier import make_verifier_machine


@functools.cache
def _implementation() -> Implementation:
    return load_implementation(os.environ.get("AETHEL_IMPL", "reference"))


@pytest.fixture(scope="module", autouse=True)
def _close_implementation() -> Iterator[None]:
    """Close the implementation (a subprocess for stdio:) after this module's tests."""
    yield
    if _implementation.cache_info().currsize:
        _implementation().close()
        _implementation.cache_clear()


def _api(capability: str) -> Any:
    implementation = _implementation()
    if capability not in implementation.capabilities:
        pytest.skip(f"{implementation.name} does not declare {capability}")
    return implementation.api(capability)


@pytest.mark.req("I3", "I4", "E8", "E9", "T22.1a")
def test_state_tree_machine() -> None:
    api = _api("state-tree")
    run_machine(make_state_tree_machine(lambda: api))


@pytest.mark.req("R3.6", "R4.2", "R4.7", "R5.4", "R7.1", "I5", "I7", "I8", "P14", "P16", "P20")
def test_state_store_machine() -> None:
    api = _api("state-store")
    run_machine(make_state_store_machine(lambda: api))


@pytest.mark.req("R5.1", "R5.5", "R7.1", "P21", "P23")
def test_mempool_machine() -> None:
    api = _api("mempool")
    run_machine(make_mempool_machine(lambda: api))


@pytest.mark.req("R1.4", "R7.5", "T22.2d", "P30")
def test_verifier_machine() -> None:
    api = _api("verifier")
    run_machine(make_verifier_machine(lambda: api))


def _consensus(mode: Mode, check_liveness: bool) -> type[ConsensusMachine]:
    """The machine whose honest validators run the implementation's replicas (adapter)."""
    _api("replica")
    implementation = _implementation()
    return make_consensus_machine(
        mode=mode, check_liveness=check_liveness, implementation=lambda: implementation
    )


@pytest.mark.req(
    "R2.2", "R2.3", "R2.4", "R2.6", "R3.2", "R3.6", "R4.1", "R4.6", "R4.7", "R7.5",
    "P7", "P8", "P14", "P15", "P19", "P20",
)  # fmt: skip
@pytest.mark.parametrize("mode", ["collector", "broadcast"])
def test_consensus_machine_safety(mode: Mode) -> None:
    run_machine(_consensus(mode, check_liveness=False))


# heal_and_settle: once the network heals, every honest validator commits again (after GST,
# honest stake 50k >= q(W), the Byzantine validator < W/3 and possibly silent).
@pytest.mark.req("R2.5", "R7.6", "P6", "P9", "P31")
@pytest.mark.parametrize("mode", ["collector", "broadcast"])
def test_consensus_machine_liveness(mode: Mode) -> None:
    run_machine(_consensus(mode, check_liveness=True))
