"""Run the state-tree machine against the reference (through the driver shim)."""

from __future__ import annotations

import pytest

from properties.machines.common import run_machine
from properties.machines.state_tree import make_state_tree_machine
from properties.shims.state_tree import ReferenceStateTreeAPI


@pytest.mark.req("I3", "I4", "T22.1a", "E8", "E9")
def test_state_tree_machine_on_the_reference() -> None:
    run_machine(make_state_tree_machine(ReferenceStateTreeAPI))
