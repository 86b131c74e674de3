"""Each state machine must catch each of its planted bugs within the current profile.

A mutant is the reference with one realistic defect (``properties/mutants``). The machine runs
with the profile's budget (ci: 50 derandomized examples) without shrinking, and must fail with
a :class:`ModelMismatch` naming a rule the defect breaks. A machine that passes on a mutant
cannot tell that broken implementation from a good one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis.stateful import RuleBasedStateMachine

from aethel.consensus.replica import Mode
from conformance.adapters import Implementation
from conformance.mutants import registry
from conformance.mutants.state_tree import (
    AbsenceForPresentKeyImplementation,
    NoDomainSeparationImplementation,
)
from properties.machines.common import ModelMismatch, bug_hunt_settings, run_machine
from properties.machines.consensus import make_consensus_machine
from properties.machines.mempool import make_mempool_machine
from properties.machines.state_store import make_state_store_machine
from properties.machines.state_tree import make_state_tree_machine
from properties.machines.verifier import make_verifier_machine
from properties.mutants.consensus import (
    NoViewChangeOnTimeoutImplementation,
    QuorumWithoutPlusOneImplementation,
)
from properties.mutants.mempool import (
    ArrivalOrderImplementation,
    DoubleSpendKeepsFirstImplementation,
)
from properties.mutants.state_store import (
    ReopenAtFirstHeightImplementation,
    StaleLatestViewImplementation,
)
from properties.mutants.state_tree import (
    FirstWriteWinsImplementation,
    NeighbourlessAbsenceImplementation,
)
from properties.mutants.verifier import SharedContextImplementation, SignatureBlindImplementation

Build = Callable[[], type[RuleBasedStateMachine]]


def _harness(name: str) -> Callable[[], Implementation]:
    """Return the builder of the harness's mutant ``name`` (conformance/mutants)."""
    return registry()[name].build


def _consensus(build: Callable[[], Implementation], mode: Mode) -> Build:
    return lambda: make_consensus_machine(
        mode=mode, check_liveness=False, implementation=_shared(build)
    )


def _shared(build: Callable[[], Implementation]) -> Callable[[], Implementation]:
    """Return a factory that builds the implementation once and hands out that one."""
    built: list[Implementation] = []

    def factory() -> Implementation:
        if not built:
            built.append(build())
        return built[0]

    return factory


#: (name, machine bound to the mutant, a rule ID the failure must name).
MUTANTS: list[tuple[str, Build, str]] = [
    # The harness's state-tree mutants (conformance/mutants/state_tree.py).
    (
        "tree-no-domain-separation",
        lambda: make_state_tree_machine(
            lambda: NoDomainSeparationImplementation().api("state-tree")
        ),
        "E9",
    ),
    (
        "tree-absence-for-present-key",
        lambda: make_state_tree_machine(
            lambda: AbsenceForPresentKeyImplementation().api("state-tree")
        ),
        "E9",
    ),
    # Ours (properties/mutants), each the reference adapter with one defect.
    (
        "tree-first-write-wins",
        lambda: make_state_tree_machine(lambda: FirstWriteWinsImplementation().api("state-tree")),
        "I4",
    ),
    (
        "tree-neighbourless-absence",
        lambda: make_state_tree_machine(
            lambda: NeighbourlessAbsenceImplementation().api("state-tree")
        ),
        "E9",
    ),
    (
        "store-reopen-at-first-height",
        lambda: make_state_store_machine(
            lambda: ReopenAtFirstHeightImplementation().api("state-store")
        ),
        "R5.4",
    ),
    (
        "store-stale-latest-view",
        lambda: make_state_store_machine(
            lambda: StaleLatestViewImplementation().api("state-store")
        ),
        "R3.6",
    ),
    (
        "mempool-arrival-order",
        lambda: make_mempool_machine(lambda: ArrivalOrderImplementation().api("mempool")),
        "R6.3",
    ),
    (
        "mempool-double-spend-keeps-first",
        lambda: make_mempool_machine(lambda: DoubleSpendKeepsFirstImplementation().api("mempool")),
        "R7.1",
    ),
    (
        "verifier-signature-blind-cache",
        lambda: make_verifier_machine(lambda: SignatureBlindImplementation().api("verifier")),
        "R7.5",
    ),
    (
        "verifier-shared-solver-context",
        lambda: make_verifier_machine(lambda: SharedContextImplementation().api("verifier")),
        "R1.4",
    ),
    # Replicas, through the adapter's replica capability: ours and the harness's
    # (conformance/mutants/replica.py), in both dissemination modes.
    *[
        (
            f"replica-{label}-{mode}",
            _consensus(build, mode),
            rule_id,
        )
        for mode in ("collector", "broadcast")
        for label, build, rule_id in (
            ("quorum-without-plus-one", QuorumWithoutPlusOneImplementation, "R2.3"),
            ("no-view-change-on-timeout", NoViewChangeOnTimeoutImplementation, "R2.6"),
            ("harness-quorum-2f-by-count", _harness("quorum-2f-by-count"), "R2.3"),
            ("harness-slashing-offline-node", _harness("slashing-offline-node"), "R4.6"),
        )
    ],
]


@pytest.mark.parametrize(("build", "rule_id"), [pytest.param(b, r, id=n) for n, b, r in MUTANTS])
def test_machine_catches_the_mutant(build: Build, rule_id: str) -> None:
    with pytest.raises(ModelMismatch) as caught:
        run_machine(build(), bug_hunt_settings())
    assert rule_id in caught.value.rule_ids, caught.value
