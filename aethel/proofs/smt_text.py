"""The accepted subset of SMT-LIB2 text: a small S-expression tokenizer and checker (N6).

A proof's SMT text is hostile input. It reaches the solver only after :func:`check_smt_text`
accepted it, and the check needs no solver. The accepted text is:

* printable ASCII plus tab, line feed and carriage return, at most ``LIMITS.max_bytes`` bytes;
* tokens of the SMT-LIB 2.6 lexicon: parentheses, numerals, decimals, ``#x``/``#b`` literals,
  string literals (``""`` escapes a quote), simple symbols, ``|quoted symbols|``, keywords, and
  ``;`` comments to the end of the line. An atom must be followed by whitespace, a parenthesis,
  a comment or the end (so ``12ab`` is one bad token, not two);
* a sequence of top-level commands, each a parenthesized list whose first element is one of
  :data:`ALLOWED_COMMANDS`: ``declare-sort``, ``declare-const``, ``declare-fun``, ``define-fun``
  and ``assert``. These only declare symbols and add assertions: none changes the solver's
  configuration, its assertion stack or its output, so the solver's effort on the text is a
  function of the text alone (R1.4). Everything else is rejected before the solver sees the text,
  in particular ``push``, ``pop``, ``reset``, ``reset-assertions``, ``exit``, ``set-option``,
  ``set-info``, ``set-logic`` (it would pick another solver configuration), ``check-sat`` and
  its variants (the verifier checks once, itself), ``get-*``, ``echo``, ``include``, ``eval``,
  ``simplify``, ``define-fun-rec`` (unbounded unfolding) and any solver-specific extension;
* commands whose sorts, terms and declarations stay inside the logical fragment of
  :mod:`aethel.proofs.smt_fragment` (Int, Bool, uninterpreted sorts and functions,
  quantifiers), where the budget bounds the solver's CPU time.

Limits (all in :data:`LIMITS`, one place): text size, nesting depth, token count, command count,
distinct symbols, symbol length, numeral/literal length and string length. A violation raises
:class:`SmtLimitError`; bad tokens, malformed commands and unbalanced parentheses raise
:class:`SmtSyntaxError`; a command outside the subset raises :class:`ForbiddenCommandError`; a
construct outside the fragment raises :class:`ForbiddenConstructError`. All carry rule N6
(hostile input is rejected with bounded work, without crash or hang).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from aethel.proofs.errors import ForbiddenCommandError, SmtLimitError, SmtSyntaxError
from aethel.proofs.smt_fragment import Node, check_commands

RULE = "N6"


@dataclass(frozen=True, slots=True)
class SmtLimits:
    """Every size limit on accepted SMT text (the numbers are part of the protocol)."""

    #: Bytes of text (the judge's largest standard proof, a 32-transfer batch, is ~12 KiB).
    max_bytes: int = 65_536
    #: Parenthesis nesting depth (the judge's obligations nest at most 6 deep).
    max_depth: int = 64
    #: Tokens, parentheses included.
    max_tokens: int = 20_000
    #: Top-level commands.
    max_commands: int = 2_048
    #: Distinct symbols (simple and quoted), command names and reserved words included.
    max_symbols: int = 1_024
    #: Characters of one symbol or keyword.
    max_symbol_length: int = 128
    #: Characters of one numeral, decimal or ``#x``/``#b`` literal (2**256 has 78 digits).
    max_literal_length: int = 80
    #: Characters of one string literal, quotes included.
    max_string_length: int = 1_024


LIMITS = SmtLimits()

ALLOWED_COMMANDS = frozenset(
    ("declare-sort", "declare-const", "declare-fun", "define-fun", "assert")
)

_SYMBOL_CHARS = r"A-Za-z0-9~!@$%^&*_\-+=<>.?/"
_END = r"(?=[ \t\r\n();]|\Z)"
_SYMBOL = rf"[A-Za-z~!@$%^&*_\-+=<>.?/][{_SYMBOL_CHARS}]*+"
_KEYWORD = rf":[{_SYMBOL_CHARS}]++"
_LITERAL = r"(?:\#x[0-9A-Fa-f]++|\#b[01]++|(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+)"
_STRING = r'"(?:[^"]|"")*+"'
_QUOTED = r"\|[^|\\]*+\|"
_SKIP = r"[ \t\r\n]++|;[^\r\n]*+"
_ATOM_PATTERNS = {"symbol": _SYMBOL, "keyword": _KEYWORD, "literal": _LITERAL}
_ALL_ATOMS = "|".join(
    [_STRING + _END, _QUOTED + _END] + [p + _END for p in _ATOM_PATTERNS.values()]
)
#: The whole lexicon in one pattern. Possessive quantifiers and atomic groups keep matching
#: linear in the text length even on hostile input (no catastrophic backtracking).
_LEXICON = re.compile(rf"(?:(?>{_SKIP}|\(|\)|{_ALL_ATOMS}))*+")
#: One token at a time: used only to locate the error in text the lexicon rejected.
_TOKEN = re.compile(rf"{_SKIP}|\(|\)|{_ALL_ATOMS}")
#: Token splitter for text that passed the lexicon (comments come out as ``;`` tokens).
_SPLIT = re.compile(rf"{_STRING}|{_QUOTED}|;[^\r\n]*+|[()]|[^ \t\r\n()\";|]++")
#: Distinct bare atoms joined by line feeds (fast path: text without strings, quoted symbols
#: or comments).
_BARE_ATOMS = re.compile(rf"(?:(?:{_SYMBOL}|{_KEYWORD}|{_LITERAL})\n)*+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARENS = ("(", ")")


def _locate_bad_token(text: str) -> SmtSyntaxError:
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            break
        position = match.end()
    return SmtSyntaxError(
        RULE, f"bad token at offset {position}: {text[position : position + 20]!r}"
    )


def _kind(token: str) -> str:
    """Return the lexical class of one token of text that passed the lexicon."""
    first = token[0]
    if first == '"':
        return "string"
    if first == "|":
        return "quoted"
    if first == ":":
        return "keyword"
    if first == "#" or first.isdigit():
        return "literal"
    return "symbol"


def _tokenize(text: str) -> list[str]:
    """Return the tokens of ``text`` (comments dropped) or raise :class:`SmtSyntaxError`."""
    if '"' not in text and "|" not in text and ";" not in text:
        # Fast path for the common case: whitespace and parentheses delimit every token.
        tokens = text.replace("(", " ( ").replace(")", " ) ").split()
        atoms = set(tokens)
        atoms.discard("(")
        atoms.discard(")")
        if _BARE_ATOMS.fullmatch("".join(atom + "\n" for atom in atoms)) is None:
            raise _locate_bad_token(text)
        return tokens
    if _LEXICON.fullmatch(text) is None:
        raise _locate_bad_token(text)
    return [token for token in _SPLIT.findall(text) if token[0] != ";"]


def _check_atom_lengths(tokens: list[str], limits: SmtLimits) -> None:
    for token in set(tokens):
        if token in _PARENS:
            continue
        kind = _kind(token)
        # A quoted symbol's length is that of its name, without the bars (|x| is x).
        length = len(token) - 2 if kind == "quoted" else len(token)
        if kind in ("symbol", "quoted", "keyword") and length > limits.max_symbol_length:
            raise SmtLimitError(
                RULE, f"symbol of {length} characters exceeds {limits.max_symbol_length}"
            )
        if kind == "literal" and len(token) > limits.max_literal_length:
            raise SmtLimitError(
                RULE, f"literal of {len(token)} characters exceeds {limits.max_literal_length}"
            )
        if kind == "string" and len(token) > limits.max_string_length:
            raise SmtLimitError(
                RULE, f"string of {len(token)} characters exceeds {limits.max_string_length}"
            )


def check_smt_text(
    text: str,
    limits: SmtLimits = LIMITS,
    *,
    fragment: Callable[[list[list[Node]]], None] = check_commands,
) -> None:
    """Accept ``text`` if it is in the subset of the module docstring; otherwise raise.

    Raises :class:`SmtLimitError`, :class:`SmtSyntaxError`, :class:`ForbiddenCommandError` or
    :class:`ForbiddenConstructError` (all :class:`SmtTextError`, rule N6). Runs in time linear
    in ``len(text)``. ``fragment`` is the last check, on the command trees (the protocol's is
    :func:`aethel.proofs.smt_fragment.check_commands`; the suite's self-test passes others).
    """
    if not isinstance(text, str):
        raise SmtSyntaxError(RULE, f"SMT text must be a string, got {type(text).__name__}")
    # The limit is in UTF-8 bytes: a character is at least one byte, and ASCII exactly one.
    size = len(text)
    if size <= limits.max_bytes and not text.isascii():
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise SmtLimitError(RULE, f"SMT text of {size:,} bytes or more exceeds {limits.max_bytes}")
    if not text.isascii() or _CONTROL.search(text) is not None:
        offset = next(i for i, ch in enumerate(text) if not (" " <= ch <= "~" or ch in "\t\n\r"))
        raise SmtSyntaxError(
            RULE, f"character U+{ord(text[offset]):04X} at offset {offset} is not allowed"
        )
    tokens = _tokenize(text)
    if len(tokens) > limits.max_tokens:
        raise SmtLimitError(RULE, f"{len(tokens)} tokens exceed {limits.max_tokens}")
    shortest_limit = min(
        limits.max_symbol_length, limits.max_literal_length, limits.max_string_length
    )
    if tokens and max(map(len, tokens)) > shortest_limit:
        _check_atom_lengths(tokens, limits)
    commands = _build_tree(tokens, limits)
    for command in commands:
        head = command[0] if command else None
        if not isinstance(head, str) or _kind(head) not in ("symbol", "quoted"):
            raise SmtSyntaxError(RULE, "every command must start with a command name")
        name = _symbol(head)
        if name not in ALLOWED_COMMANDS:
            raise ForbiddenCommandError(
                RULE,
                f"command {name[:40]!r} is not allowed; accepted: "
                + ", ".join(sorted(ALLOWED_COMMANDS)),
            )
    distinct = set(tokens)
    if len(distinct) > limits.max_symbols:
        # |x| and x are one symbol: count the names, not their spellings.
        symbols = {
            _symbol(t) for t in distinct if t not in _PARENS and _kind(t) in ("symbol", "quoted")
        }
        if len(symbols) > limits.max_symbols:
            raise SmtLimitError(
                RULE, f"{len(symbols)} distinct symbols exceed {limits.max_symbols}"
            )
    fragment(commands)


def _symbol(token: str) -> str:
    """Return the name a simple or quoted symbol token denotes (``|x|`` and ``x`` are one)."""
    return token[1:-1] if token[0] == "|" else token


def _build_tree(tokens: list[str], limits: SmtLimits) -> list[list[Node]]:
    """Return the top-level commands as nested lists; check balance, depth and command count."""
    commands: list[list[Node]] = []
    stack: list[list[Node]] = []
    for token in tokens:
        if token == "(":
            node: list[Node] = []
            if stack:
                stack[-1].append(node)
            else:
                commands.append(node)
                if len(commands) > limits.max_commands:
                    raise SmtLimitError(RULE, f"more than {limits.max_commands} commands")
            stack.append(node)
            if len(stack) > limits.max_depth:
                raise SmtLimitError(RULE, f"nesting deeper than {limits.max_depth}")
        elif token == ")":
            if not stack:
                raise SmtSyntaxError(RULE, "unbalanced: ')' without '('")
            stack.pop()
        elif stack:
            stack[-1].append(token)
        else:
            raise SmtSyntaxError(RULE, f"top-level atom {token[:40]!r}: commands are lists")
    if stack:
        raise SmtSyntaxError(RULE, f"unbalanced: {len(stack)} '(' never closed")
    if not commands:
        raise SmtSyntaxError(RULE, "no commands")
    return commands
