"""The negative space of proof texts: what the allowed SMT-LIB subset excludes is invalid, with
the reason the spec names, and every limit is inclusive (N6; spec/proofs.md, "The allowed
SMT-LIB subset" and "Limits").

A proof whose text breaks the subset is still a well-formed proof object: the verifier answers
it with the verdict ``invalid`` and the reason of the first check it fails (``text-limit``,
``parse-error``, ``forbidden-command``, ``forbidden-construct``), never with a refusal, an error
or a timeout. Texts are sent through the implementation's ``verifier.verify_proof``.

* every forbidden sort, operator class, construct and command, one case each;
* every text limit: at the limit accepted, one past it refused with ``text-limit``;
* the lexical edges the spec fixes (numerals, ``|x|`` and ``x``, quoted symbols, comments,
  whitespace), the budget's range and every reason code;
* hostile texts generated from the grammar of :mod:`conformance.suite.smt_grammar`, seeded from
  the run's ``--seed``: each failure prints the text and the seed and index that replay it.
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.encoding import Domain, KeyPair
from aethel.proofs.model import Outcome, ProofKind, sign_proof
from aethel.proofs.verifier import verify_proof as pinned_verify
from conformance.adapters.api import VerifierAPI
from conformance.adapters.errors import Rejected
from conformance.checks import Divergence, MustReject, expect_equal, expect_rejected
from conformance.suite import smt_grammar as grammar

pytestmark = pytest.mark.capability("verifier")
KEY = KeyPair.from_seed(bytes([11] * 32))
#: Hostile texts generated per run: ten of each kind.
GENERATED_PER_KIND = 10
DECLARED = "(declare-sort U 0)(declare-const x Int)(declare-const p Bool)"


def _signed(smt: str, claimed: str = "unsat", budget: int = 1_000_000) -> dict[str, Any]:
    return sign_proof(
        KEY, kind=ProofKind.GENERIC, smt=smt, claimed=Outcome(claimed), budget=budget
    ).to_json()


def _short(text: str, limit: int = 300) -> str:
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit // 2]!r} ... {text[-limit // 2 :]!r} ({len(text):,} characters)"


def verdict_of(verifier_api: VerifierAPI, proof: dict[str, Any], what: str) -> dict[str, Any]:
    """Return the verification result; a refusal of a well-formed proof is a divergence."""
    try:
        result: dict[str, Any] = verifier_api.verify_proof(proof)
    except Rejected as exc:
        raise Divergence(
            what, "", "a verdict (the proof object is well formed)", f"refused: {exc}"
        ) from None
    return result


def expect_invalid(result: dict[str, Any], reason: str, what: str) -> None:
    """The verdict must be ``invalid`` with ``reason``, no effort and no difficulty."""
    if result.get("verdict") == "valid":
        raise MustReject(f"{what}: must be invalid ({reason}), but it verified as valid")
    expect_equal(
        {k: result.get(k) for k in ("verdict", "reason", "effort", "difficulty")},
        {"verdict": "invalid", "reason": reason, "effort": 0, "difficulty": 0},
        f"{what}: the verdict",
    )


# --------------------------------------------------------------------------- the fragment

FORBIDDEN_SORTS = {
    "Real": "Real",
    "String": "String",
    "RegLan": "RegLan",
    "RoundingMode": "RoundingMode",
    "Float32": "Float32",
    "Float64": "Float64",
    "FloatingPoint": "(_ FloatingPoint 8 24)",
    "BitVec": "(_ BitVec 8)",
    "Array": "(Array Int Int)",
    "Seq": "(Seq Int)",
    "datatype": "Pair",  # a datatype needs declare-datatypes, itself forbidden
    "parametric-declared": "(U Int)",
    "undeclared": "Unit",
}

#: Operator classes outside the fragment: each term stands where an Int (or a Bool) goes.
FORBIDDEN_OPERATORS = {
    "bit-vector:bvadd": "(bvadd x x)",
    "bit-vector:bvudiv": "(bvudiv x x)",
    "bit-vector:extract": "((_ extract 3 0) x)",
    "bit-vector:int2bv": "((_ int2bv 8) x)",
    "bit-vector:bv2nat": "(bv2nat x)",
    "real-division": "(/ x 2)",
    "to_real": "(to_real x)",
    "to_int": "(to_int x)",
    "is_int": "(ite (is_int x) 1 0)",
    "power": "(^ x 2)",
    "rem": "(rem x 2)",
    "string:str.len": '(str.len "a")',
    "string:str.to_int": "(str.to_int x)",
    "string:str.++": "(str.len (str.++ x x))",
    "regex:re.range": '(ite (str.in_re "a" (re.range "a" "z")) 1 0)',
    "regex:re.allchar": "(ite (= x re.allchar) 1 0)",
    "array:select": "(select x 0)",
    "array:store": "(select (store x 0 1) 0)",
    "array:const": "(select ((as const (Array Int Int)) 0) 0)",
    "fp:fp.abs": "(fp.abs x)",
    "fp:fp.isNaN": "(ite (fp.isNaN x) 1 0)",
    "fp:fp.to_sbv": "(fp.to_sbv 8 RNE x)",
    "fp:RNE": "(ite (= RNE RNE) 1 0)",
    "as": "(as x Int)",
    "indexed:bv-literal": "(_ bv5 8)",
    "indexed:divisible": "(ite ((_ divisible 3) x) 1 0)",
    "match": "(match x ((y 1)))",
    "lambda:select": "(select (lambda ((y Int)) y) 0)",
    "lambda:applied": "((lambda ((y Int)) y) 1)",
}

FORBIDDEN_CONSTRUCTS = {
    "define-fun-with-parameters": "(define-fun f ((y Int)) Int (+ y 1))(assert (> (f x) 0))",
    "define-fun-with-two-parameters": "(define-fun f ((a Bool) (b Bool)) Bool (and a b))"
    "(assert (f p p))",
    "declare-sort-of-arity-1": "(declare-sort U 1)(assert p)",
    "decimal": "(assert (> x 1.5))",
    "decimal-zero": "(assert (> x 0.0))",
    "hexadecimal": "(assert (> x #x0F))",
    "binary": "(assert (> x #b0101))",
    "string-literal": '(assert (= x "a"))',
    "undeclared-constant": "(assert (> y 0))",
    "undeclared-function": "(assert (> (f x) 0))",
    "constant-applied": "(assert (> (x 1) 0))",
    "bound-variable-applied": "(assert (forall ((v Int)) (> (v 1) 0)))",
    "keyword-as-term": "(assert (= x :k))",
    "unknown-attribute": "(assert (! p :no-pattern x))",
}


def _fragment_cases() -> list[Any]:
    cases: list[Any] = []
    for name, sort in FORBIDDEN_SORTS.items():
        cases.append(
            pytest.param(f"{DECLARED}(declare-const h {sort})(assert p)", id=f"sort:{name}")
        )
    cases.append(
        pytest.param(f"{DECLARED}(declare-fun h (Int Real) Int)(assert p)", id="sort:Real-argument")
    )
    cases.append(
        pytest.param(f"{DECLARED}(assert (exists ((h String)) p))", id="sort:String-bound")
    )
    for name, term in FORBIDDEN_OPERATORS.items():
        cases.append(pytest.param(f"{DECLARED}(assert (= x {term}))", id=f"operator:{name}"))
    for name, text in FORBIDDEN_CONSTRUCTS.items():
        cases.append(pytest.param(DECLARED + text, id=f"construct:{name}"))
    for word in grammar.RESERVED_WORDS:
        text = f"{DECLARED}(declare-const {word} Int)(assert p)"
        cases.append(pytest.param(text, id=f"reserved:{word}"))
    for word in ("and", "Int", "let"):
        text = f"{DECLARED}(declare-const |{word}| Int)(assert p)"
        cases.append(pytest.param(text, id=f"reserved:|{word}|"))
    return cases


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
@pytest.mark.parametrize("text", _fragment_cases())
def test_a_construct_outside_the_fragment_is_invalid(verifier_api: VerifierAPI, text: str) -> None:
    """Sorts, operators, literals, definitions and names outside Int/Bool logic with
    uninterpreted sorts and functions are a ``forbidden-construct`` (claimed sat: Z3 alone
    reads most of them and answers sat)."""
    result = verdict_of(verifier_api, _signed(text, "sat"), _short(text))
    expect_invalid(result, "forbidden-construct", _short(text))


def _command_cases() -> list[Any]:
    commands = [c.replace("{i}", "x").replace("{b}", "p") for c in grammar.FORBIDDEN_COMMANDS]
    return [
        pytest.param(f"{DECLARED}{command}(assert p)", id=command[1:-1][:40])
        for command in commands
    ]


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
@pytest.mark.parametrize("text", _command_cases())
def test_a_command_outside_the_five_is_invalid(verifier_api: VerifierAPI, text: str) -> None:
    """Every command but declare-sort, declare-const, declare-fun, define-fun and assert is a
    ``forbidden-command``, wherever it stands."""
    result = verdict_of(verifier_api, _signed(text, "sat"), _short(text))
    expect_invalid(result, "forbidden-command", _short(text))


# --------------------------------------------------------------------------- limits


def _at_limit(limit: str, value: int) -> str:
    """A satisfiable text exactly at ``limit`` (``value`` = the limit plus 0 or 1)."""
    if limit == "text bytes":
        body = "(declare-const a Bool)(assert a);"
        return body + "p" * (value - len(body))
    if limit == "text bytes, one character of two":
        body = "(declare-const a Bool)(assert a);"
        return body + "p" * (value - len(body) - 2) + "\u00e9"
    if limit == "nesting depth":  # the assert is one level; an odd number of nots of false
        nots = value - 1
        return "(assert " + "(not " * nots + ("false" if nots % 2 else "true") + ")" * value
    if limit == "tokens":  # 5 + 6 tokens around the a's
        return "(declare-const a Bool)(assert (and " + "a " * (value - 11) + "))"
    if limit == "commands":
        return "(declare-const a Bool)" + "(assert a)" * (value - 1)
    if limit == "distinct symbols":  # declare-const, Bool, assert and true are symbols too
        names = "".join(f"(declare-const s{i} Bool)" for i in range(value - 4))
        return names + "(assert true)"
    if limit == "distinct symbols, |x| and x once":  # declare-const, Bool, assert, and
        names = "".join(f"(declare-const s{i} Bool)" for i in range(value - 4))
        return names + "(assert (and s0 |s0|))"
    if limit == "symbol length":
        name = "h" * value
        return f"(declare-const {name} Int)(assert (> {name} 0))"
    if limit == "quoted symbol length":  # the bars are not part of the name
        name = "|" + "h" * (value - 1) + " |"
        return f"(declare-const {name} Int)(assert (> {name} 0))"
    if limit == "literal length":
        return "(declare-const x Int)(assert (> x " + "9" * value + "))"
    if limit == "string length":  # quotes included
        return '(declare-const x Int)(assert (= x "' + "s" * (value - 2) + '"))'
    if limit == "keyword length":  # the colon included
        return f"(assert (! true :{'k' * (value - 1)} x))"
    raise ValueError(limit)


#: The limits whose texts are inside the fragment at the limit (claimed sat, so valid); a
#: string or an unknown keyword is outside the fragment: at its limit it is a
#: forbidden-construct, one past it a text-limit (step 3 comes before step 7).
ACCEPTED_AT_LIMIT = {
    "text bytes": "valid",
    "text bytes, one character of two": "parse-error",
    "nesting depth": "valid",
    "tokens": "valid",
    "commands": "valid",
    "distinct symbols": "valid",
    "distinct symbols, |x| and x once": "valid",
    "symbol length": "valid",
    "quoted symbol length": "valid",
    "literal length": "valid",
    "string length": "forbidden-construct",
    "keyword length": "forbidden-construct",
}


def _limit_cases() -> list[Any]:
    cases = []
    for limit in ACCEPTED_AT_LIMIT:
        value = grammar.LIMIT_VALUES.get(limit, grammar.MAX_SYMBOLS)
        cases.append(pytest.param(limit, value, id=f"{limit}:at-{value:,}"))
        cases.append(pytest.param(limit, value + 1, id=f"{limit}:over-{value + 1:,}"))
    return cases


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
@pytest.mark.parametrize(("limit", "value"), _limit_cases())
def test_text_limits_are_inclusive(verifier_api: VerifierAPI, limit: str, value: int) -> None:
    """At each limit of spec/proofs.md ("Limits") the text passes the limit checks; one past
    it the proof is invalid with ``text-limit``."""
    text = _at_limit(limit, value)
    what = f"{limit} {value:,}: {_short(text, 120)}"
    result = verdict_of(verifier_api, _signed(text, "sat"), what)
    if value > grammar.LIMIT_VALUES.get(limit, grammar.MAX_SYMBOLS):
        expect_invalid(result, "text-limit", what)
        return
    expected = ACCEPTED_AT_LIMIT[limit]
    if expected == "valid":
        expect_equal(result.get("verdict"), "valid", f"{what}: the verdict at the limit")
    else:
        expect_invalid(result, expected, what)


# --------------------------------------------------------------------------- lexical edges

#: Text -> (claimed, the verdict or invalid reason spec/proofs.md gives it).
LEXICAL_EDGES: dict[str, tuple[str, str, str]] = {
    "numeral-zero": ("(declare-const x Int)(assert (= x 0))", "sat", "valid"),
    "numeral-leading-zero": ("(declare-const x Int)(assert (= x 007))", "sat", "parse-error"),
    "numeral-double-zero": ("(declare-const x Int)(assert (= x 00))", "sat", "parse-error"),
    "numeral-touching-symbol": ("(declare-const x Int)(assert (= x 12ab))", "sat", "parse-error"),
    "numeral-exponent": ("(declare-const x Int)(assert (= x 1e3))", "sat", "parse-error"),
    "numeral-trailing-dot": ("(declare-const x Int)(assert (= x 1.))", "sat", "parse-error"),
    "negative-numeral-is-a-symbol": (
        "(declare-const x Int)(assert (= x -5))",
        "sat",
        "forbidden-construct",
    ),
    "unary-minus": ("(declare-const x Int)(assert (= x (- 5)))", "sat", "valid"),
    "quoted-and-simple-are-one-symbol": (
        "(declare-const |x| Int)(assert (= x 1))(assert (= |x| 1))",
        "sat",
        "valid",
    ),
    "quoted-with-space": ("(declare-const |a b| Int)(assert (= |a b| 1))", "sat", "valid"),
    "quoted-with-parentheses-and-semicolon": (
        "(declare-const |a(;)| Int)(assert (= |a(;)| 1))",
        "sat",
        "valid",
    ),
    "quoted-operator": ("(declare-const x Int)(assert (|>| x 0))", "sat", "valid"),
    "quoted-command": ("(declare-const x Int)(|assert| (> x 0))", "sat", "valid"),
    "quoted-forbidden-command": ("(declare-const x Int)(|push| 1)", "sat", "forbidden-command"),
    "quoted-symbol-with-backslash": (
        "(declare-const |a\\b| Int)(assert true)",
        "sat",
        "parse-error",
    ),
    "quoted-symbol-unterminated": ("(declare-const |ab Int)(assert true)", "sat", "parse-error"),
    "quoted-symbol-with-tab": ("(declare-const |a\tb| Int)(assert true)", "sat", "valid"),
    "quoted-symbol-with-control-character": (
        "(declare-const |a\x01b| Int)(assert true)",
        "sat",
        "parse-error",
    ),
    "quoted-symbol-with-non-ascii": (
        "(declare-const |a\u00e9| Int)(assert true)",
        "sat",
        "parse-error",
    ),
    "comment-holding-forbidden-text": (
        '(declare-const x Int) ; (check-sat) (_ BitVec 8) "s" |q 1.5\n(assert (> x 0))',
        "sat",
        "valid",
    ),
    "comment-at-the-end-without-newline": (
        "(declare-const x Int)(assert (> x 0)) ; (push 1)",
        "sat",
        "valid",
    ),
    "comment-only": ("; (declare-const x Int)", "sat", "parse-error"),
    "empty-text": ("", "sat", "parse-error"),
    "crlf-and-tabs": ("(declare-const\tx\r\nInt)\r\n(assert\t(> x 0))\r\n", "sat", "valid"),
    "form-feed": ("(declare-const x Int)\x0c(assert (> x 0))", "sat", "parse-error"),
    "no-space-between-lists": ("(declare-const x Int)(assert(>(+ x 1)0))", "sat", "valid"),
    "z3-operator-name-declared": (
        "(declare-fun select (Int Int) Int)(assert (= (select 1 2) 3))",
        "sat",
        "valid",
    ),
    "real-division-name-declared": (  # Z3 takes the declaration: 1/2 = 1 is satisfiable
        "(declare-fun / (Int Int) Int)(assert (= (/ 1 2) 1))",
        "sat",
        "valid",
    ),
    "string-with-escaped-quote": (
        '(declare-const x Int)(assert (= x "a""b"))',
        "sat",
        "forbidden-construct",
    ),
}


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
@pytest.mark.parametrize("edge", sorted(LEXICAL_EDGES))
def test_lexical_edges_get_the_verdict_the_spec_gives(verifier_api: VerifierAPI, edge: str) -> None:
    text, claimed, expected = LEXICAL_EDGES[edge]
    result = verdict_of(verifier_api, _signed(text, claimed), f"{edge}: {text!r}")
    if expected == "valid":
        expect_equal(result.get("verdict"), "valid", f"{edge}: the verdict of {text!r}")
    else:
        expect_invalid(result, expected, f"{edge}: {text!r}")


# --------------------------------------------------------------------------- budget and reasons


def _raw_proof(budget: int) -> dict[str, Any]:
    """A proof object with any budget, signed over its members (the builder refuses these)."""
    body = {
        "budget": budget,
        "claimed": "sat",
        "ghost": False,
        "kind": "generic",
        "smt": "(declare-const x Int)(assert (> x 0))",
        "subjects": [],
        "submitter": KEY.public_key.hex(),
    }
    return {**body, "signature": KEY.sign(Domain.PROOF, body).hex()}


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
@pytest.mark.parametrize("budget", [0, -1, 1_000_001, 2**63 - 1], ids=str)
def test_a_budget_outside_1_to_the_maximum_makes_no_proof(
    verifier_api: VerifierAPI, budget: int
) -> None:
    """A budget of 0 or above MAX_PROOF_BUDGET (1,000,000) is outside the proof object's
    range: the object is malformed and refused, it gets no verdict."""
    expect_rejected(
        lambda: verifier_api.verify_proof(_raw_proof(budget)), f"a proof with budget {budget}"
    )


@pytest.mark.req("N6", "R1.4")
@pytest.mark.parametrize("budget", [1, 1_000_000], ids=str)
def test_the_budget_bounds_are_inclusive(verifier_api: VerifierAPI, budget: int) -> None:
    """Budgets 1 and 1,000,000 are proofs: they get a verdict (valid, or unknown when the
    budget runs out) and the effort of the pinned solver."""
    proof = _raw_proof(budget)
    result = verdict_of(verifier_api, proof, f"a proof with budget {budget}")
    pinned = pinned_verify(
        sign_proof(
            KEY, kind=ProofKind.GENERIC, smt=proof["smt"], claimed=Outcome.SAT, budget=budget
        )
    )
    expect_equal(
        {k: result.get(k) for k in ("verdict", "effort")},
        {"verdict": pinned.verdict.value, "effort": pinned.effort},
        f"the verdict of a proof with budget {budget}",
    )


@pytest.mark.req("N6", "R1.5", "R7.5")
@pytest.mark.rejects("N6", "R1.5", "R7.5")
@pytest.mark.parametrize(
    "reason", ["bad-signature", "parse-error-from-z3", "wrong-outcome"], ids=str
)
def test_every_invalid_reason_is_named(verifier_api: VerifierAPI, reason: str) -> None:
    """The reasons the text checks give are covered above; these are the others: a bad
    signature (nothing else runs), an error Z3 reports while loading an accepted text (a
    sort error: the fragment check does not type terms), and a false claim."""
    if reason == "bad-signature":
        proof = _signed("(declare-const x Int)(assert (> x 0))", "sat")
        proof["signature"] = ("00" if proof["signature"][:2] != "00" else "01") + proof[
            "signature"
        ][2:]
        expect_invalid(verdict_of(verifier_api, proof, reason), "bad-signature", reason)
        return
    if reason == "parse-error-from-z3":
        text = "(declare-const x Int)(assert x)"  # an Int asserted: Z3 refuses it
        result = verdict_of(verifier_api, _signed(text, "sat"), reason)
        expect_invalid(result, "parse-error", f"{reason}: {text}")
        return
    text = "(declare-const x Int)(assert (> x 0))"  # sat, claimed unsat
    result = verdict_of(verifier_api, _signed(text, "unsat"), reason)
    pinned = pinned_verify(sign_proof(KEY, kind=ProofKind.GENERIC, smt=text, budget=1_000_000))
    expect_equal(
        {k: result.get(k) for k in ("verdict", "reason", "effort", "difficulty")},
        {"verdict": "invalid", "reason": "wrong-outcome", "effort": pinned.effort, "difficulty": 0},
        "a false claim",
    )


# --------------------------------------------------------------------------- generated texts


@pytest.mark.req("N6", "R1.1")
@pytest.mark.rejects("N6")
def test_generated_hostile_texts_are_invalid_with_their_reason(
    verifier_api: VerifierAPI, seed: int
) -> None:
    """Texts of the fragment's grammar with one forbidden piece each (a sort, operator,
    literal, construct, command, bad token or character, broken shape, or a limit one past its
    value), ten of each kind, drawn from the run's seed."""
    kinds = sorted(grammar.HOSTILE_KINDS)
    for index in range(GENERATED_PER_KIND * len(kinds)):
        kind = kinds[index % len(kinds)]
        hostile = grammar.HOSTILE_KINDS[kind].make(grammar.seeded(seed, index))
        what = (
            f"generated text {index} ({kind}: {hostile.piece!r}) {_short(hostile.text)}; replay "
            f"with --seed {seed}, or in Python: conformance.suite.smt_grammar.HOSTILE_KINDS"
            f"[{kind!r}].make(seeded({seed}, {index})).text"
        )
        result = verdict_of(verifier_api, _signed(hostile.text), what)
        expect_invalid(result, hostile.reason, what)
