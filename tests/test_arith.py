"""The two readings of ``aethel.arith``: Python ints and Z3 integer terms agree where defined."""

from __future__ import annotations

import subprocess
import sys

import pytest
import z3
from hypothesis import example, given
from hypothesis import strategies as st

from aethel.arith import floor_div, maximum, minimum, power_of_two
from aethel.errors import UsageError

BIG = 10**30
V = z3.IntVal


def _value(term: z3.ArithRef) -> int:
    simplified = z3.simplify(term)
    assert z3.is_int_value(simplified), simplified
    return int(simplified.as_long())


@given(st.integers(-BIG, BIG), st.integers(1, BIG))
@example(-7, 2)
@example(-1, 3)
@example(0, 1)
def test_floor_div_on_terms_is_python_floor_division_for_a_positive_divisor(
    dividend: int, divisor: int
) -> None:
    expected = dividend // divisor
    assert floor_div(dividend, divisor) == expected
    assert _value(floor_div(V(dividend), divisor)) == expected
    assert _value(floor_div(V(dividend), V(divisor))) == expected
    assert _value(floor_div(dividend, V(divisor))) == expected


@pytest.mark.parametrize("divisor", [0, -1, -3])
def test_floor_div_rejects_a_divisor_that_is_not_positive(divisor: int) -> None:
    # Z3's Euclidean division and Python's floor division differ for a negative divisor
    # (-7 div -2 = 4, -7 // -2 = 3), so the shared reading is defined for positive ones only.
    with pytest.raises(UsageError, match="positive divisor"):
        floor_div(7, divisor)


@given(st.integers(-BIG, BIG), st.integers(-BIG, BIG))
@example(5, 5)
def test_minimum_and_maximum_on_terms_are_min_and_max(a: int, b: int) -> None:
    assert minimum(a, b) == min(a, b)
    assert maximum(a, b) == max(a, b)
    for b_operand in (b, V(b)):
        assert _value(minimum(V(a), b_operand)) == min(a, b)
        assert _value(maximum(V(a), b_operand)) == max(a, b)


@pytest.mark.parametrize("most", [0, 1, 6, 10])
def test_power_of_two_is_exact_on_terms_over_its_whole_range(most: int) -> None:
    for exponent in range(most + 1):
        assert power_of_two(exponent, most) == 2**exponent
        assert _value(power_of_two(V(exponent), most)) == 2**exponent


@pytest.mark.parametrize("exponent", [-1, 7, 100])
def test_power_of_two_rejects_an_int_exponent_outside_its_range(exponent: int) -> None:
    with pytest.raises(UsageError, match=r"\[0, 6\]"):
        power_of_two(exponent, 6)


@pytest.mark.parametrize("operand", [1.5, "3", z3.Real("x"), z3.Bool("p")])
def test_an_operand_that_is_neither_int_nor_integer_term_is_rejected(operand: object) -> None:
    with pytest.raises(UsageError, match="int or a Z3 integer term"):
        floor_div(operand, 2)  # type: ignore[type-var]


def test_computing_with_ints_never_imports_z3() -> None:
    code = (
        "import sys\n"
        "from aethel.consensus.quorum import compute_quorum\n"
        "from aethel.consensus.timeouts import compute_timeout\n"
        "from aethel.economics import compute_block_reward, compute_reward_split\n"
        "from aethel.proofs.difficulty import compute_difficulty\n"
        "compute_quorum(10); compute_timeout(10**9, 3); compute_block_reward(7)\n"
        "compute_reward_split(10, {'a': 1, 'b': 2}, 'a'); compute_difficulty(5, 100)\n"
        "assert 'z3' not in sys.modules, 'the int path loaded z3'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
