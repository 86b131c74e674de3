"""The command table: one module per group of capabilities, assembled without loss."""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands import COMMANDS, OBJECT_METHODS, TABLE, commands_of


def test_every_capability_has_its_own_commands_and_nothing_is_dropped() -> None:
    assert list(TABLE) == list(Capability)
    for capability, commands in TABLE.items():
        assert commands, f"{capability} has no command"
        assert {c.capability for c in commands} == {capability}
    # A repeated wire name would silently replace a command in COMMANDS.
    assert sum(len(commands) for commands in TABLE.values()) == len(COMMANDS)


def test_lookups_agree_with_the_table() -> None:
    for capability, commands in TABLE.items():
        assert list(commands_of(capability.value)) == [c.method for c in commands]
        for command in commands:
            assert COMMANDS[command.name] is command
    assert {
        ("replica", "metrics"): COMMANDS["monitoring.metrics"],
        ("replica", "accuracy"): COMMANDS["live-accuracy.accuracy"],
        ("replica", "on_sync_completed_with_chain"): COMMANDS[
            "catch-up.on_sync_completed_with_chain"
        ],
    } == OBJECT_METHODS


def test_creates_mutate_and_functions_take_no_object() -> None:
    """The replay after a crash relies on creates being journaled like mutating methods."""
    for command in COMMANDS.values():
        if command.kind == "create":
            assert command.mutates and command.target is None
        if command.kind == "function":
            assert not command.mutates and command.target is None


def test_capabilities_command_lists_every_capability_and_what_an_implementation_declares() -> None:
    from typer.testing import CliRunner

    from conformance.capabilities import ALL
    from conformance.cli import app

    done = CliRunner().invoke(app, ["capabilities", "--impl", "reference"], env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    lines = {line.split("│")[1].strip(): line for line in done.output.splitlines() if "│" in line}
    for name in ALL:
        assert name in lines, name
        assert lines[name].rstrip(" │").endswith("yes"), lines[name]


def test_capabilities_command_names_an_implementation_it_cannot_load() -> None:
    from typer.testing import CliRunner

    from conformance.cli import app

    done = CliRunner().invoke(app, ["capabilities", "--impl", "nope"])
    assert done.exit_code == 2
    assert "unknown implementation 'nope'" in done.output
