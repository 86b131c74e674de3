"""Integer arithmetic that evaluates on Python ints and on Z3 integer terms alike.

The protocol's formulas (quorum, rewards, slashing, difficulty, timeouts) are written once with
plain ``+``, ``-``, ``*`` and the functions below, so the same function computes a value from
ints in the implementation and builds a term from ``z3.Int`` variables in the Z3 proofs of I1,
I2 and I6-I10 (``aethel/formal``). A proof therefore speaks about the implementation's
formula, not about a restatement of it.

On ints every function is the ordinary Python operation (``//``, ``min``, ``max``, ``1 <<``),
so the implementation's results are exactly those of the plain expressions. Z3 is imported only
when a term is actually passed: computing with ints never loads the solver.

Two semantic gaps between the two readings, and why neither matters here:

* Z3's integer division is Euclidean (the remainder is never negative); it equals Python's floor
  division whenever the divisor is positive, for any dividend. Every divisor in the protocol's
  formulas is positive: a constant (3, 64, 100) or a total stake the caller has checked to be
  positive (R1.3). On ints ``floor_div`` rejects a divisor <= 0; on terms the proof's premise
  must state it (``T > 0``), as every premise in ``aethel/formal`` does.
* ``power_of_two`` is exact on terms only for exponents in ``[0, most]``; on ints it rejects any
  other exponent, so both readings agree wherever the int reading is defined.

Spec: I1, I2, I6-I10 (the invariants are proved about these formulas).
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from aethel.errors import UsageError


class Symbolic(Protocol):
    """The operators of a Z3 integer term (``z3.ArithRef``) that the formulas use."""

    def __add__(self, other: Symbolic | int, /) -> Symbolic: ...
    def __radd__(self, other: int, /) -> Symbolic: ...
    def __sub__(self, other: Symbolic | int, /) -> Symbolic: ...
    def __rsub__(self, other: int, /) -> Symbolic: ...
    def __mul__(self, other: Symbolic | int, /) -> Symbolic: ...
    def __rmul__(self, other: int, /) -> Symbolic: ...


#: A formula's number: an int (the implementation) or a Z3 integer term (the proofs).
Num = TypeVar("Num", int, Symbolic)


def _z3() -> Any:
    """Import Z3 on first symbolic use (the int path never needs it)."""
    import z3

    return z3


def _term(value: object) -> Any:
    """Return ``value`` as a Z3 integer term: an int becomes a numeral; reject anything else."""
    z3 = _z3()
    if type(value) is int:
        return z3.IntVal(value)
    if isinstance(value, z3.ArithRef) and z3.is_int(value):
        return value
    raise UsageError(f"expected an int or a Z3 integer term, got {value!r}")


def floor_div(dividend: Num, divisor: Num | int) -> Num:
    """Return floor(dividend / divisor) for a positive divisor (Python ``//`` on ints).

    On terms this is Z3's integer division, which equals floor division when the divisor is
    positive; the caller's premises must guarantee that for a symbolic divisor.
    """
    if isinstance(dividend, int) and isinstance(divisor, int):
        if divisor <= 0:
            raise UsageError(f"floor_div needs a positive divisor, got {divisor}")
        return dividend // divisor
    result: Num = _floor_div_term(dividend, divisor)
    return result


def minimum(a: Num, b: Num | int) -> Num:
    """Return the smaller of ``a`` and ``b`` (``min`` on ints, an if-then-else on terms).

    ``a`` fixes whether this is an int or a term (the typing needs one argument of type
    ``Num``), so the formula's quantity goes first and a constant bound second.
    """
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    result: Num = _minimum_term(a, b)
    return result


def maximum(a: Num, b: Num | int) -> Num:
    """Return the larger of ``a`` and ``b`` (``max`` on ints, an if-then-else on terms).

    As in ``minimum``, the formula's quantity goes first and a constant bound second.
    """
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    result: Num = _maximum_term(a, b)
    return result


def power_of_two(exponent: Num, most: int) -> Num:
    """Return 2**exponent for an exponent in ``[0, most]`` (``1 << exponent`` on ints).

    On a term the power is a chain of ``most + 1`` cases (Z3 has no integer exponentiation
    it decides), exact for every exponent in ``[0, most]``, so a proof over it needs no bound
    on the variables the exponent is computed from.
    """
    if isinstance(exponent, int):
        if not 0 <= exponent <= most:
            raise UsageError(f"exponent must lie in [0, {most}], got {exponent}")
        return 1 << exponent
    result: Num = _power_of_two_term(exponent, most)
    return result


# ----------------------------------------------------------------------------------------------
# The Z3-term reading, used by the proofs (aethel/formal) only: each takes the same arguments as
# the function above it and returns a term.


def _floor_div_term(dividend: object, divisor: object) -> Any:
    return _term(dividend) / _term(divisor)


def _minimum_term(a: object, b: object) -> Any:
    a_term, b_term = _term(a), _term(b)
    return _z3().If(a_term <= b_term, a_term, b_term)


def _maximum_term(a: object, b: object) -> Any:
    a_term, b_term = _term(a), _term(b)
    return _z3().If(a_term >= b_term, a_term, b_term)


def _power_of_two_term(exponent: object, most: int) -> Any:
    z3 = _z3()
    exponent_term = _term(exponent)
    chain = z3.IntVal(2**most)
    for smaller in range(most - 1, -1, -1):
        chain = z3.If(exponent_term <= smaller, z3.IntVal(2**smaller), chain)
    return chain
