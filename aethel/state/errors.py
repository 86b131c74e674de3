"""Errors of the state layer."""

from __future__ import annotations

from aethel.errors import ProtocolViolation


class TransitionError(ProtocolViolation):
    """A transition broke a rule (named by ``rule_id``); nothing was written."""


class SyncError(ProtocolViolation):
    """A snapshot could not be obtained or did not match the trusted root (R3.1, R3.5)."""
