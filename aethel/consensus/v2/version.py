"""Which protocol version a height runs (V2.1, V2.2)."""

from __future__ import annotations

from aethel.errors import ProtocolViolation, UsageError

VERSION_RULE = "V2.1"
ONE_VERSION_RULE = "V2.2"


def version_of_height(height: int, activation: int | None) -> int:
    """Return 1 below the activation height of version 2 and 2 from it (1 if none is named).

    Spec: V2.1.
    """
    if type(height) is not int or height < 0:
        raise UsageError(f"a height is a non-negative int, got {height!r}")
    if activation is not None and (type(activation) is not int or activation < 1):
        raise ProtocolViolation(VERSION_RULE, f"activation height {activation!r} is not >= 1")
    return 2 if activation is not None and height >= activation else 1


def require_version(height: int, activation: int | None, version: int) -> None:
    """Refuse a message of ``version`` for a height of the other version (V2.2)."""
    expected = version_of_height(height, activation)
    if version != expected:
        raise ProtocolViolation(
            ONE_VERSION_RULE,
            f"a version-{version} message for height {height}, which runs version {expected}",
        )
