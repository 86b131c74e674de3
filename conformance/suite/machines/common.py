"""What every machine shares: the failure type, and how to run a machine outside pytest."""

from __future__ import annotations

from hypothesis import Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test


class ModelMismatch(AssertionError):
    """The implementation disagreed with the model; names the rules it broke."""

    def __init__(self, rule_ids: str, message: str) -> None:
        super().__init__(f"[{rule_ids}] {message}")
        self.rule_ids = tuple(rule_ids.split())


def bug_hunt_settings() -> settings:
    """Return the current profile's settings without shrinking.

    The mutant tests only need to know that the machine fails within the profile's budget
    (``ci``: 50 derandomized examples); shrinking the failure would cost time and prove nothing
    more.
    """
    return settings(
        settings.default,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        database=None,
        print_blob=False,
    )


def run_machine(machine: type[RuleBasedStateMachine], config: settings | None = None) -> None:
    """Run ``machine`` as Hypothesis would under pytest; raise the first failure it finds."""
    run_state_machine_as_test(machine, settings=config or settings.default)
