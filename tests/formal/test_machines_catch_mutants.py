"""Each state machine must catch planted bugs within the current profile (ci: 50 examples).

A machine that passes on a mutant cannot tell a broken implementation from a good one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis.stateful import RuleBasedStateMachine

from properties.machines.common import ModelMismatch, bug_hunt_settings, run_machine
from properties.machines.state_tree import make_state_tree_machine
from properties.mutants.state_tree import FirstWriteWinsTree, NeighbourlessAbsenceTree
from properties.shims.state_tree import ReferenceStateTreeAPI

MUTANTS: list[tuple[str, Callable[[], type[RuleBasedStateMachine]], str]] = [
    (
        "tree-first-write-wins",
        lambda: make_state_tree_machine(
            lambda: ReferenceStateTreeAPI(FirstWriteWinsTree), "first-write-wins"
        ),
        "I4",
    ),
    (
        "tree-neighbourless-absence",
        lambda: make_state_tree_machine(
            lambda: ReferenceStateTreeAPI(NeighbourlessAbsenceTree), "neighbourless-absence"
        ),
        "E9",
    ),
]


@pytest.mark.parametrize(
    ("machine", "rule_id"), [pytest.param(m, r, id=name) for name, m, r in MUTANTS]
)
def test_machine_catches_the_mutant(
    machine: Callable[[], type[RuleBasedStateMachine]], rule_id: str
) -> None:
    with pytest.raises(ModelMismatch) as caught:
        run_machine(machine(), bug_hunt_settings())
    assert rule_id in caught.value.rule_ids, caught.value
