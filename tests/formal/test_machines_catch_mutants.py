"""Each state machine, alone, catches the self-test's mutants of its capability.

The mutants are the self-test's (``conformance.mutants``, one registry): the machines' own
(``conformance/mutants/machines.py``) and some written for other cases. The machine of the
mutant's capability runs with the profile's budget (ci: 50 derandomized examples) without
shrinking, and must fail with a :class:`ModelMismatch` naming the given rule. This is quicker
than ``aethel-conformance selftest`` (which runs every case of the capability) and shows that the
machine by itself, not only some other case, tells that broken implementation from a good one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis.stateful import RuleBasedStateMachine

from conformance.adapters.api import Implementation
from conformance.mutants import registry
from conformance.suite.machines.common import ModelMismatch, bug_hunt_settings, run_machine
from conformance.suite.machines.consensus import make_consensus_machine
from conformance.suite.machines.mempool import make_mempool_machine
from conformance.suite.machines.state_store import make_state_store_machine
from conformance.suite.machines.state_tree import make_state_tree_machine
from conformance.suite.machines.verifier import make_verifier_machine

Machine = Callable[[Implementation], type[RuleBasedStateMachine]]

#: The machine that drives each capability, bound to an implementation.
MACHINES: dict[str, Machine] = {
    "state-tree": lambda impl: make_state_tree_machine(lambda: impl.api("state-tree")),
    "state-store": lambda impl: make_state_store_machine(lambda: impl.api("state-store")),
    "mempool": lambda impl: make_mempool_machine(lambda: impl.api("mempool")),
    "verifier": lambda impl: make_verifier_machine(lambda: impl.api("verifier")),
    "replica/collector": lambda impl: make_consensus_machine(
        mode="collector", check_liveness=False, implementation=lambda: impl
    ),
    "replica/broadcast": lambda impl: make_consensus_machine(
        mode="broadcast", check_liveness=False, implementation=lambda: impl
    ),
}

#: (mutant of the registry, machine, a rule ID the machine's failure must name).
CATCHES: list[tuple[str, str, str]] = [
    ("no-domain-separation", "state-tree", "E9"),
    ("absence-for-present-key", "state-tree", "E9"),
    ("tree-first-write-wins", "state-tree", "I4"),
    ("tree-neighbourless-absence", "state-tree", "E9"),
    ("store-reopen-at-first-height", "state-store", "R5.4"),
    ("store-stale-latest-view", "state-store", "R3.6"),
    ("mempool-arrival-order", "mempool", "R6.3"),
    ("mempool-double-spend-keeps-first", "mempool", "R7.1"),
    ("verifier-signature-blind-cache", "verifier", "R7.5"),
    ("verifier-shared-solver-context", "verifier", "R1.4"),
    *[
        (name, f"replica/{mode}", rule_id)
        for mode in ("collector", "broadcast")
        for name, rule_id in (
            ("replica-quorum-without-plus-one", "R2.3"),
            ("replica-no-view-change-on-timeout", "R2.6"),
            ("quorum-2f-by-count", "R2.3"),
            ("slashing-offline-node", "R4.6"),
        )
    ],
]


@pytest.mark.parametrize(
    ("mutant", "machine", "rule_id"), [pytest.param(*c, id=f"{c[0]}-{c[1]}") for c in CATCHES]
)
def test_machine_catches_the_mutant(mutant: str, machine: str, rule_id: str) -> None:
    found = registry()[mutant]
    assert machine.split("/")[0] in found.capabilities
    implementation = found.build()
    try:
        with pytest.raises(ModelMismatch) as caught:
            run_machine(MACHINES[machine](implementation), bug_hunt_settings())
    finally:
        implementation.close()
    assert rule_id in caught.value.rule_ids, caught.value


def test_every_mutant_of_the_machines_is_listed() -> None:
    """A mutant added to conformance/mutants/machines.py must be shown caught here too."""
    ours = {m.name for m in registry().values() if m.build.__module__.endswith(".machines")}
    assert ours <= {name for name, _, _ in CATCHES}
    assert len(ours) == 10
