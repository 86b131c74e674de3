"""Run every state machine against the reference implementation (ci: 50 examples each).

Each machine drives its component through an adapter-shaped driver (``properties/shims`` until
the conformance adapter has the capability), beside an executable model; see the module
docstrings in ``properties/machines`` for what each checks.
"""

from __future__ import annotations

import pytest

from properties.machines.common import run_machine
from properties.machines.mempool import make_mempool_machine
from properties.machines.state_store import make_state_store_machine
from properties.machines.state_tree import make_state_tree_machine
from properties.machines.verifier import make_verifier_machine
from properties.shims.mempool import ReferenceMempoolAPI
from properties.shims.state_store import ReferenceStateStoreAPI
from properties.shims.state_tree import ReferenceStateTreeAPI
from properties.shims.verifier import ReferenceVerifierDriver


@pytest.mark.req("I3", "I4", "E8", "E9", "T22.1a")
def test_state_tree_machine() -> None:
    run_machine(make_state_tree_machine(ReferenceStateTreeAPI))


@pytest.mark.req("R3.6", "R4.2", "R4.7", "R5.4", "R7.1", "I5", "I7", "I8", "P14", "P16", "P20")
def test_state_store_machine() -> None:
    run_machine(make_state_store_machine(ReferenceStateStoreAPI))


@pytest.mark.req("R5.1", "R5.5", "R7.1", "R8.2", "P21", "P23", "P33")
def test_mempool_machine() -> None:
    run_machine(make_mempool_machine(ReferenceMempoolAPI))


@pytest.mark.req("R1.4", "R7.5", "T22.2d", "P30")
def test_verifier_machine() -> None:
    run_machine(make_verifier_machine(ReferenceVerifierDriver))
