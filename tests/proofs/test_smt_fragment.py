"""The logical fragment of proofs: Int, Bool, uninterpreted sorts and functions (N6)."""

from __future__ import annotations

import pytest

from aethel.proofs.errors import ForbiddenConstructError, SmtSyntaxError
from aethel.proofs.smt_fragment import OPERATORS, RESERVED
from aethel.proofs.smt_text import check_smt_text
from aethel.proofs.solver import run_solver

ACCEPTED = [
    "(declare-const x Int)(assert (> (* 3 x) (- 7)))",
    "(declare-const x Int)(declare-const y Int)(assert (= (* x y) (div x (mod y 7))))",
    "(declare-sort U 0)(declare-fun f (U Int) Bool)(declare-const u U)(assert (f u 3))",
    "(declare-const p Bool)(assert (xor p (=> p (not p))))(assert (ite p true false))",
    "(declare-const x Int)(define-fun two () Int (+ x x))(assert (distinct two x 0))",
    "(declare-const x Int)(assert (let ((y (+ x 1)) (z 2)) (and (< y z) (>= (abs y) 0))))",
    "(declare-fun f (Int) Int)(assert (forall ((a Int) (b Int)) (=> (< a b) (< (f a) (f b)))))",
    "(declare-fun f (Int) Int)(assert (exists ((a Int)) (! (= (f a) a) :qid fix :weight 3)))",
    "(declare-fun f (Int) Int)(assert (forall ((a Int)) (! (> (f a) 0) :pattern ((f a)))))",
    "(declare-const x Int)(assert (! (> x 0) :named positive))",
    "(declare-const |x y| Int)(declare-const |z| Int)(assert (> |x y| z))",
    "(declare-const x Int)(assert (let ((x true)) x))",  # a binder shadows a constant
    # |x| and x are one symbol everywhere: in names, sorts, operators, binders and commands.
    "(|declare-const| |x| |Int|)(|assert| (|and| (|>| x 0) (|forall| ((|y| Int)) (> y |y|))))",
    "(declare-const |x| Int)(assert (|!| (|let| ((|y| x)) (> |y| 0)) :named |n|))",
]


@pytest.mark.req("N6")
@pytest.mark.parametrize("text", ACCEPTED)
def test_the_fragment_accepts(text: str) -> None:
    check_smt_text(text)
    # Z3 reads every accepted text too (a disagreement would surface as parse errors).
    assert run_solver(text, 100_000).outcome in ("sat", "unsat", "unknown")


FORBIDDEN = {
    "bitvector-sort": "(declare-const x (_ BitVec 64))(assert (= x x))",
    "bitvector-literal": "(declare-const x Int)(assert (= x #x10))",
    "binary-literal": "(declare-const x Int)(assert (= x #b10))",
    "indexed-literal": "(declare-const x Int)(assert (= x (_ bv5 8)))",
    "indexed-head": "(declare-const x Int)(assert (= ((_ int2bv 8) x) x))",
    "real-sort": "(declare-const r Real)(assert (> r 0))",
    "decimal": "(declare-const x Int)(assert (> x 1.5))",
    "string-literal": '(declare-const x Int)(assert (= x "a"))',
    "string-op": "(declare-const x Int)(assert (= (str.len x) 1))",
    "array-sort": "(declare-const a (Array Int Int))(assert (= (select a 0) 1))",
    "float-sort": "(declare-const f Float64)(assert (fp.isNaN f))",
    "ascription": "(declare-const x Int)(assert (= x (as x Int)))",
    "lambda": "(declare-const x Int)(assert (= x (select (lambda ((y Int)) y) 0)))",
    "macro": "(define-fun f ((y Int)) Int (+ y y))(assert (> (f 1) 0))",
    "undeclared": "(assert (> x 0))",
    "builtin-constant": "(declare-const x Int)(assert (= x re.allchar))",
    "unknown-function": "(declare-const x Int)(assert (= x (bvmul x x)))",
    "variable-as-function": "(declare-const x Int)(assert (forall ((f Int)) (= (f 1) x)))",
    "constant-as-function": "(declare-const c Int)(assert (= (c 1) 0))",
    "declares-operator": "(declare-fun + (Int Int) Int)(assert true)",
    "declares-sort-name": "(declare-const Int Int)(assert true)",
    "binds-reserved": "(assert (let ((and true)) and))",
    "bad-attribute": "(declare-const x Int)(assert (! (> x 0) :no-pattern x))",
    "keyword-atom": "(declare-const x Int)(assert (= x :k))",
    "parametric-declared-sort": "(declare-sort U 0)(declare-const x (U Int))(assert true)",
    "sort-of-arity-1": "(declare-sort U 1)(assert true)",
    "quoted-operator-declared": "(declare-fun |and| (Bool Bool) Bool)(assert true)",
}


@pytest.mark.req("N6")
@pytest.mark.parametrize("text", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_constructs_outside_the_fragment_are_forbidden(text: str) -> None:
    with pytest.raises(ForbiddenConstructError) as info:
        check_smt_text(text)
    assert info.value.rule_id == "N6"


MALFORMED = [
    "(assert)",
    "(assert true true)",
    "(declare-const x)",
    "(declare-const 5 Int)",
    "(declare-fun f Int Int)",
    "(declare-sort U)",
    "(declare-sort U x)",
    "(define-fun c Int 1)",
    "(declare-const x Int)(assert (let () x))",
    "(declare-const x Int)(assert (let ((y)) x))",
    "(assert (forall ((y Int)) ))",
    "(assert (! true))",
    "(assert (! true :named))",
    "(declare-fun f (Int) Int)(assert (forall ((a Int)) (! (> (f a) 0) :pattern ())))",
    "(assert (! true :weight heavy))",
    "(assert ())",
    "(assert (not))",
]


@pytest.mark.req("N6")
@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_commands_are_syntax_errors(text: str) -> None:
    with pytest.raises(SmtSyntaxError):
        check_smt_text(text)


def test_reserved_words_cover_the_operators() -> None:
    assert OPERATORS <= RESERVED
    assert {"Int", "Bool", "true", "false", "let", "forall", "exists", "!", "_", "as"} <= RESERVED
