"""The Hypothesis state machines, as conformance cases (I3, I4, I5, R2.2-R2.6, R5.4, R7.1, ...).

Each machine (:mod:`conformance.suite.machines`) drives the implementation under test through
the suite's own fixtures, beside a simple executable model, and fails naming the rules the
implementation broke (:class:`~conformance.suite.machines.common.ModelMismatch`). They run in
``aethel-conformance run`` like every other case, for any implementation (``--impl``); a
capability the implementation does not declare skips its machine with the reason. In the
consensus machines the three honest validators run the implementation's replicas behind the
adapter (the Byzantine one is a reference replica). Each machine's module docstring says what
it checks.

The Hypothesis profile sets the budget: ``ci`` (the default: 50 derandomized examples, so a run
is reproducible) or ``thorough`` (``HYPOTHESIS_PROFILE=thorough``: thousands of examples, long
consensus runs, a saved example database). A failure prints the shrunk sequence of steps.
"""

from __future__ import annotations

import pytest

from aethel.consensus.replica_config import Mode
from conformance.adapters.api import (
    Implementation,
    MempoolAPI,
    StateStoreAPI,
    StateTreeAPI,
    VerifierAPI,
)
from conformance.suite.machines.common import run_machine
from conformance.suite.machines.consensus import ConsensusMachine, make_consensus_machine
from conformance.suite.machines.mempool import make_mempool_machine
from conformance.suite.machines.state_store import make_state_store_machine
from conformance.suite.machines.state_tree import make_state_tree_machine
from conformance.suite.machines.verifier import make_verifier_machine


@pytest.mark.capability("state-tree")
@pytest.mark.req("I3", "I4", "E8", "E9", "T22.1a")
def test_state_tree_machine(state_tree_api: StateTreeAPI) -> None:
    run_machine(make_state_tree_machine(lambda: state_tree_api))


@pytest.mark.capability("state-store")
@pytest.mark.req("R3.6", "R4.2", "R4.7", "R5.4", "R7.1", "I5", "I7", "I8", "P14", "P16", "P20")
def test_state_store_machine(state_store_api: StateStoreAPI) -> None:
    run_machine(make_state_store_machine(lambda: state_store_api))


@pytest.mark.capability("mempool")
@pytest.mark.req("R5.1", "R5.5", "R6.3", "R7.1", "P21", "P23")
def test_mempool_machine(mempool_api: MempoolAPI) -> None:
    run_machine(make_mempool_machine(lambda: mempool_api))


@pytest.mark.capability("verifier")
@pytest.mark.req("R1.4", "R7.5", "T22.2d", "P30")
def test_verifier_machine(verifier_api: VerifierAPI) -> None:
    run_machine(make_verifier_machine(lambda: verifier_api))


MODES: list[Mode] = ["collector", "broadcast"]


def _consensus_machine(
    impl: Implementation, mode: Mode, *, check_liveness: bool
) -> type[ConsensusMachine]:
    """The machine whose honest validators run ``impl``'s replicas (``replica`` capability)."""
    return make_consensus_machine(
        mode=mode, check_liveness=check_liveness, implementation=lambda: impl
    )


@pytest.mark.capability("replica")
@pytest.mark.req(
    "R2.2", "R2.3", "R2.4", "R2.6", "R3.2", "R3.6", "R4.1", "R4.6", "R4.7", "R7.5",
    "P7", "P8", "P14", "P15", "P19", "P20",
)  # fmt: skip
@pytest.mark.parametrize("mode", MODES)
def test_consensus_machine_safety(impl: Implementation, mode: Mode) -> None:
    run_machine(
        make_consensus_machine(mode=mode, check_liveness=False, implementation=lambda: impl)
    )


# heal_and_settle: once the network heals, every honest validator commits again (after GST,
# honest stake 50k >= q(W), the Byzantine validator < W/3 and possibly silent).
@pytest.mark.capability("replica")
@pytest.mark.req("R2.5", "R7.6", "P6", "P9", "P31")
@pytest.mark.parametrize("mode", MODES)
def test_consensus_machine_liveness(impl: Implementation, mode: Mode) -> None:
    run_machine(_consensus_machine(impl, mode, check_liveness=True))
