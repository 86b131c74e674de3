"""The accepted SMT-LIB2 subset: hostile text is rejected before the solver sees it (N6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.proofs.errors import (
    ForbiddenCommandError,
    SmtLimitError,
    SmtSyntaxError,
    SmtTextError,
)
from aethel.proofs.smt_text import ALLOWED_COMMANDS, LIMITS, check_smt_text

OK = "(declare-const x Int)(assert (> x 0))"

FORBIDDEN = [
    "push",
    "pop",
    "reset",
    "reset-assertions",
    "exit",
    "set-option",
    "set-info",
    "set-logic",
    "check-sat",
    "check-sat-assuming",
    "get-model",
    "get-value",
    "get-assertions",
    "get-proof",
    "get-info",
    "get-option",
    "echo",
    "include",
    "eval",
    "simplify",
    "define-fun-rec",
    "define-funs-rec",
    "declare-datatypes",
    "minimize",
    "apply",
]


@pytest.mark.req("N6")
@pytest.mark.parametrize("command", FORBIDDEN)
def test_state_changing_and_output_commands_are_forbidden(command: str) -> None:
    for text in (f"({command})", f"{OK}({command} 1)", f"{OK}\n  ( {command} :x 1)\n{OK}"):
        with pytest.raises(ForbiddenCommandError) as info:
            check_smt_text(text)
        assert info.value.rule_id == "N6"
        assert command in str(info.value)


@pytest.mark.req("N6")
def test_allowed_commands_pass() -> None:
    text = (
        "; a comment (push 1)\n"
        "(declare-sort U 0)(declare-const u U)(declare-const x Int)"
        "(declare-fun f (Int) Int)(define-fun g () Int (+ (f x) 1))"
        "(declare-const |odd name| Int)(assert (= |odd name| (- 5)))"
        "(assert (! (> g 0) :named a1))(assert (forall ((y Int)) (! (> (f y) y) :pattern ((f y)))))"
    )
    check_smt_text(text)
    assert {
        "declare-sort",
        "declare-const",
        "declare-fun",
        "define-fun",
        "assert",
    } == ALLOWED_COMMANDS


@pytest.mark.req("N6")
@pytest.mark.parametrize(
    "text",
    [
        "(assert (> x 0)",
        "(assert (> x 0)))",
        ")(assert x)",
        "(assert x)(",
        "((assert x))",
        "(1 2)",
        "(:assert x)",
        "x",
        "(assert x) y",
        "",
        "   ; nothing but a comment",
        "(assert 12ab)",
        "(assert 012)",
        '(assert "unterminated)',
        "(assert |unterminated)",
        "(assert |back\\slash|)",
        "(assert #xZZ)",
        "(assert x)'",
        "(assert [x])",
        "(assert x)\x00",
        "(assert caf\u00e9)",
        "(assert x)\x0b",
        # A list where an attribute keyword belongs: it raised an untyped TypeError (unhashable
        # list) out of verify_proof, the mempool and a replica's proposal handler.
        "(declare-const x Int)(assert (! x (x) :named))",
        "(declare-const x Int)(assert (! x (:named) y))",
        "(declare-const x Int)(assert (! x x :named))",
    ],
)
def test_malformed_text_is_a_syntax_error(text: str) -> None:
    with pytest.raises(SmtSyntaxError) as info:
        check_smt_text(text)
    assert info.value.rule_id == "N6"


@pytest.mark.req("N6")
@pytest.mark.parametrize(
    "text",
    [
        OK + " " * LIMITS.max_bytes,
        "(assert " + "(not " * LIMITS.max_depth + "true" + ")" * (LIMITS.max_depth + 1),
        "".join(f"(declare-const x{i} Int)" for i in range(LIMITS.max_symbols)),
        "(assert (and " + "x " * LIMITS.max_tokens + "))",
        "(assert true)" * (LIMITS.max_commands + 1),
        f"(declare-const {'x' * (LIMITS.max_symbol_length + 1)} Int)",
        f"(declare-const |{'x' * (LIMITS.max_symbol_length + 1)}| Int)",
        f"(assert (> {'9' * (LIMITS.max_literal_length + 1)} 0))",
        f'(assert (= s "{"a" * LIMITS.max_string_length}"))',
    ],
    ids=[
        "huge",
        "deep",
        "symbols",
        "tokens",
        "commands",
        "long-symbol",
        "long-quoted",
        "long-numeral",
        "long-string",
    ],
)
def test_texts_over_a_limit_are_rejected(text: str) -> None:
    with pytest.raises(SmtLimitError) as info:
        check_smt_text(text)
    assert info.value.rule_id == "N6"


@pytest.mark.req("N6")
def test_limits_are_inclusive_bounds() -> None:
    depth = LIMITS.max_depth - 1  # the assert itself is one level
    check_smt_text("(assert " + "(not " * depth + "true" + ")" * (depth + 1))
    symbols = LIMITS.max_symbols - 2  # "declare-const" and "Int" are symbols too
    check_smt_text("".join(f"(declare-const x{i} Int)" for i in range(symbols)))


@pytest.mark.req("N6")
@pytest.mark.parametrize(
    "text",
    [
        "(assert x)" + " " * 60_000 + "'",
        "(assert " + "a" * 60_000,
        '(assert "' + '""' * 30_000,
        "(assert |" + " " * 60_000,
        "(" * 30_000,
        "; " + "(" * 60_000,
    ],
    ids=["spaces-then-bad", "long-atom", "quotes", "open-quoted", "opens", "comment"],
)
def test_pathological_text_is_rejected_or_accepted_without_backtracking(text: str) -> None:
    # These shapes make naive regex tokenizers backtrack exponentially; a hang fails the run.
    with pytest.raises(SmtTextError):
        check_smt_text(text)


def _verdict(text: str) -> str:
    try:
        check_smt_text(text)
    except SmtTextError as error:
        return type(error).__name__
    return "ok"


smt_alphabet = st.sampled_from(
    [
        "(",
        ")",
        " ",
        "\n",
        "assert",
        "declare-const",
        "x",
        "Int",
        "1",
        "0",
        "push",
        '"',
        "|",
        ";",
        "#x",
        ":k",
        "é",
        "12a",
    ]
)


@pytest.mark.req("N6")
@given(st.lists(smt_alphabet, max_size=40).map("".join))
def test_any_text_is_accepted_or_rejected_with_a_typed_error(text: str) -> None:
    assert _verdict(text) in {
        "ok",
        "SmtSyntaxError",
        "ForbiddenCommandError",
        "ForbiddenConstructError",
        "SmtLimitError",
    }


@pytest.mark.req("N6")
@given(st.lists(smt_alphabet.filter(lambda t: t not in ('"', "|", ";")), max_size=40).map("".join))
def test_fast_and_general_tokenizer_paths_agree(text: str) -> None:
    # A trailing comment forces the general path; it must not change the verdict.
    assert _verdict(text) == _verdict(text + "\n; comment")


@pytest.mark.req("N6")
def test_the_size_limit_counts_utf8_bytes_before_characters() -> None:
    body = "(declare-const a Bool)(assert a);"
    at_limit = body + "p" * (LIMITS.max_bytes - len(body) - 2) + "\u00e9"  # 65,536 bytes
    over = body + "p" * (LIMITS.max_bytes - len(body) - 1) + "\u00e9"  # 65,536 characters
    assert len(at_limit.encode()) == LIMITS.max_bytes and len(over) == LIMITS.max_bytes
    with pytest.raises(SmtSyntaxError):  # within the size: the character is the problem
        check_smt_text(at_limit)
    with pytest.raises(SmtLimitError):  # 65,537 bytes: size comes first
        check_smt_text(over)
