"""How the reference's errors reach the suite: every in-process capability of the reference
wraps its methods in :func:`rejecting`.

It is its own module so that the capability modules (``reference_*``) and the facade
(:mod:`conformance.adapters.reference`, which loads them) both import it and neither imports the
other back (issue 18: no import cycles).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from aethel.errors import AethelError, ProtocolViolation
from conformance.adapters.errors import Rejected

P = ParamSpec("P")
T = TypeVar("T")


def rejecting(function: Callable[P, T]) -> Callable[P, T]:
    """Turn the reference's typed errors into :class:`Rejected` (with the rule ID if any)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except ProtocolViolation as exc:
            raise Rejected(exc.detail, exc.rule_id) from exc
        except AethelError as exc:
            raise Rejected(str(exc)) from exc

    return wrapper
