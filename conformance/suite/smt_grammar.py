"""SMT-LIB texts from a grammar of the proof fragment, and hostile variants with known reasons.

Spec: N6 (spec/proofs.md, "The allowed SMT-LIB subset"). One grammar serves two users: the
conformance suite draws from it with a :class:`RandomChooser` seeded from the run's ``--seed``,
and the project's fuzzers (``tests/fuzz``) draw from it with Hypothesis, which shrinks a failing
text to a small one. Every choice goes through :meth:`Chooser.integer`, so the same code makes
both.

* :func:`fragment_text` is a well-typed text inside the fragment (Int, Bool, declared sorts and
  functions, ``define-fun`` constants, quantifiers, ``let``, annotations), rendered with the
  lexical edges the spec allows: ``|x|`` for ``x``, comments holding forbidden words, tabs,
  CR LF, numerals of up to 80 digits. The text check accepts it and Z3 loads it.
* :func:`hostile_text` is such a text with one forbidden piece spliced in: a sort, an operator,
  a literal, a construct, a command, a bad token or character, a broken shape or a limit one
  past its value. It carries the invalid reason the spec's order of checks gives it.
* :func:`mutated_text` splices, deletes, repeats and swaps pieces at random: no known reason,
  only the promise that a verifier answers with a verdict (or a typed refusal), never a crash.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")
Sexp = str | list["Sexp"]

TEXT_LIMIT = "text-limit"
PARSE_ERROR = "parse-error"
FORBIDDEN_COMMAND = "forbidden-command"
FORBIDDEN_CONSTRUCT = "forbidden-construct"

#: The limits of spec/proofs.md ("Limits"); the grammar goes one past each.
MAX_BYTES = 65_536
MAX_DEPTH = 64
MAX_TOKENS = 20_000
MAX_COMMANDS = 2_048
MAX_SYMBOLS = 1_024
MAX_SYMBOL_LENGTH = 128
MAX_LITERAL_LENGTH = 80
MAX_STRING_LENGTH = 1_024


class Chooser(Protocol):
    """The source of every choice: an integer in ``[low, high]``."""

    def integer(self, low: int, high: int) -> int: ...


@dataclass
class RandomChooser:
    """Choices from a seeded :class:`random.Random` (the suite's generator)."""

    rng: random.Random

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


def seeded(seed: int, index: int) -> RandomChooser:
    """Return the chooser of generated case ``index`` of a run with root seed ``seed``."""
    return RandomChooser(random.Random(f"smt-grammar:{seed}:{index}"))


def pick(chooser: Chooser, options: Sequence[T]) -> T:
    """Return one of ``options``."""
    return options[chooser.integer(0, len(options) - 1)]


def chance(chooser: Chooser, one_in: int) -> bool:
    """Return True with probability 1 / ``one_in``."""
    return chooser.integer(1, one_in) == 1


# --------------------------------------------------------------------------- forbidden pieces
# Placeholders: {i} an Int constant, {b} a Bool constant of the text the piece goes into.

#: Sorts outside the fragment (spec: "no parametric or indexed sort ...").
FORBIDDEN_SORTS: tuple[str, ...] = (
    "Real",
    "String",
    "RegLan",
    "RoundingMode",
    "Float16",
    "Float32",
    "Float64",
    "Float128",
    "(_ BitVec 8)",
    "(_ BitVec 64)",
    "(_ FloatingPoint 11 53)",
    "(Array Int Int)",
    "(Array Int Bool)",
    "(Seq Int)",
    "(List Int)",
    "Pair",
    "(U Int)",
    "Unit",
)

#: Terms of Int position outside the fragment, by operator class.
FORBIDDEN_INT_TERMS: tuple[str, ...] = (
    # bit-vectors
    "(bvadd {i} {i})",
    "(bvudiv {i} {i})",
    "(bvmul {i} {i})",
    "(bv2nat {i})",
    "(bv2int {i})",
    "((_ int2bv 8) {i})",
    "((_ extract 3 0) {i})",
    "(_ bv5 8)",
    "#x0F",
    "#b0101",
    # reals and mixed arithmetic
    "(/ {i} 2)",
    "(to_real {i})",
    "(to_int {i})",
    "1.5",
    "0.0",
    "(^ {i} 2)",
    "(rem {i} 2)",
    "pi",
    # strings, sequences and regular expressions
    '"abc"',
    '""',
    '(str.len "a")',
    "(str.to_int {i})",
    "(str.len {i})",
    "(seq.len {i})",
    '(re.range "a" "z")',
    "re.allchar",
    # arrays
    "(select {i} 0)",
    "(store {i} 0 1)",
    "((as const (Array Int Int)) 0)",
    # floating point
    "(fp #b0 #b00000 #b0000000000)",
    "RNE",
    "(fp.abs {i})",
    "(fp.to_sbv 8 RNE {i})",
    # qualified and indexed heads, match, lambda
    "(as {i} Int)",
    "(_ bv1 1)",
    "(match {i} ((x 1)))",
    "(select (lambda ((y Int)) y) 0)",
    "((lambda ((y Int)) y) 1)",
    # names: undeclared, a constant applied, a keyword outside an annotation
    "undeclared",
    "(undeclared {i})",
    ".5",
    "({i} 1)",
    ":k",
)

#: Terms of Bool position outside the fragment.
FORBIDDEN_BOOL_TERMS: tuple[str, ...] = (
    "(is_int {i})",
    "(fp.isNaN {i})",
    "((_ divisible 3) {i})",
    '(str.in_re "a" re.all)',
    "(bvult {i} {i})",
    "(exists ((y Real)) true)",
    "(forall ((y (_ BitVec 4))) (= y y))",
    "(forall ((y (Array Int Int))) true)",
    "(! {b} :no-pattern {i})",
    "(! {b} :lblpos l)",
    "(= {i} 1.0)",
    "({b})",
)

#: Commands outside the five allowed ones (spec: "Every other command is forbidden").
FORBIDDEN_COMMANDS: tuple[str, ...] = (
    "(check-sat)",
    "(check-sat-assuming ({b}))",
    "(check-sat-using smt)",
    "(push 1)",
    "(pop 1)",
    "(reset)",
    "(reset-assertions)",
    "(exit)",
    "(set-option :timeout 1)",
    "(set-option :rlimit 1000000000)",
    "(set-info :status sat)",
    "(set-logic QF_BV)",
    "(get-model)",
    "(get-value ({i}))",
    "(get-assertions)",
    "(get-proof)",
    "(get-unsat-core)",
    "(get-info :reason-unknown)",
    "(get-option :timeout)",
    '(echo "x")',
    "(eval {i})",
    "(simplify {i})",
    '(include "other.smt2")',
    "(define-fun-rec r ((y Int)) Int (r y))",
    "(define-funs-rec ((r ((y Int)) Int)) ((r y)))",
    "(declare-datatypes ((P 0)) (((mk (fst Int)))))",
    "(declare-datatype P ((mk (fst Int))))",
    "(define-sort I () Int)",
    "(minimize {i})",
    "(maximize {i})",
    "(assert-soft {b})",
    "(apply simplify)",
    "(display {i})",
    "(define-const k Int 5)",
    "(declare-var v Int)",
    "(get-objectives)",
    "(|check-sat|)",
)

#: Declarations a fragment check must refuse as constructs.
FORBIDDEN_DECLARATIONS: tuple[str, ...] = (
    "(define-fun h ((y Int)) Int (+ y {i}))",
    "(define-fun h ((p Bool) (q Bool)) Bool (and p q))",
    "(define-fun h ((y Int)) Bool (> y 0))",
    "(declare-sort T 1)",
    "(declare-sort T 2)",
)

#: Words a declaration may not take (spec: "A declaration may not take a reserved word").
RESERVED_WORDS: tuple[str, ...] = (
    "Int", "Bool", "not", "and", "or", "xor", "=>", "=", "distinct", "ite", "+", "-", "*",
    "div", "mod", "abs", "<=", "<", ">=", ">", "let", "forall", "exists", "true", "false",
    "!", "_", "as", "par", "match", "lambda", "NUMERAL", "DECIMAL", "STRING",
    "declare-sort", "declare-const", "declare-fun", "define-fun", "assert",
)  # fmt: skip

#: Atoms the SMT-LIB lexicon does not have, or that touch another atom (spec: tokens).
BAD_TOKENS: tuple[str, ...] = (
    "12ab",
    "007",
    "00",
    "1.",
    "1.5.2",
    "1e3",
    "#xG1",
    "#x",
    "#b2",
    "#b",
    "#o17",
    "#t",
    '"unterminated',
    "|unterminated",
    "|back\\slash|",
    "a|b|",
    "'x",
    "`x",
    "[x]",
    "{x}",
    ",",
    "\\x",
    'x"s"',
    "-#x1",
    "#",
)

#: Characters outside printable ASCII, tab, LF and CR.
BAD_CHARACTERS: tuple[str, ...] = (
    "\x00",
    "\x07",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x7f",
    "\u00e9",
    "\u00a0",
    "\u2028",
    "\ufeff",
    "\U0001f600",
)

#: Commands of the wrong shape (spec: "a command of the wrong shape is a parse-error").
COMMAND_SHAPES: tuple[str, ...] = (
    "(assert)",
    "(assert {b} {b})",
    "(declare-const h)",
    "(declare-const h Int Int)",
    "(declare-const 5 Int)",
    "(declare-const (h) Int)",
    "(declare-const :k Int)",
    "(declare-fun h Int Int)",
    "(declare-fun h (Int))",
    "(declare-sort T)",
    "(declare-sort T 0 0)",
    "(declare-sort T x)",
    "(define-fun h Int 1)",
    "(define-fun h () Int)",
    "()",
    "((assert true))",
    "(5)",
    "(:named x)",
    '("assert" true)',
)

#: Terms of the wrong shape in a Bool position.
TERM_SHAPES: tuple[str, ...] = (
    "(! {b} ({b}) :named)",
    "(! {b} ({b}) z)",
    "(! {b})",
    "(! {b} :named)",
    "(! {b} :weight heavy)",
    "(! {b} :qid 5)",
    "(! {b} :named ({b}))",
    "(! {b} :pattern ())",
    "(! {b} :pattern {b})",
    "(let () {b})",
    "(let ((y)) {b})",
    "(let ((y 1) 2) {b})",
    "(let ((5 1)) {b})",
    "(forall ((y Int)))",
    "(forall (y Int) {b})",
    "(exists () {b})",
    "(not)",
    "(and)",
    "()",
    "(5 {b})",
    "(:k {b})",
)

#: Atoms and lists that may not stand between commands.
TOP_LEVEL_ATOMS: tuple[str, ...] = ("x", "0", '"s"', ":k", "|q|", "assert")

INT_OPS = ("+", "-", "*", "div", "mod")
COMPARISONS = ("<=", "<", ">=", ">", "=", "distinct")
NAME_SHAPES = ("c{}", "c_{}", "c-{}", "c.{}", "c?{}", "C{}", "c~{}", "c!{}")
QUOTED_ONLY = ("|c {}|", "|c({})|", "|c;{}|", "|c#{}|", "|{}c|")
#: Comments that look like forbidden text: a comment is whitespace, whatever it holds.
COMMENTS = (
    "; (check-sat) (push 1)",
    "; (declare-const r Real) #x0F 1.5",
    ";;; ((((",
    ";))",
    ";",
    "; 12ab 'x [x]",
)


# --------------------------------------------------------------------------- valid texts


@dataclass
class _Symbols:
    """Names declared so far, by sort; functions with their signatures."""

    sorts: list[str] = field(default_factory=list)
    constants: dict[str, list[str]] = field(default_factory=dict)
    functions: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)
    spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    named: int = 0

    def of(self, sort: str) -> list[str]:
        return self.constants.setdefault(sort, [])


@dataclass
class _Hole:
    """Where a forbidden term goes: the ``countdown``-th term of ``sort`` generated."""

    sort: str
    piece: str
    countdown: int
    used: bool = False


class _Builder:
    """Build the command trees of one text."""

    def __init__(self, chooser: Chooser, plain: bool, depth: int) -> None:
        self.chooser = chooser
        self.plain = plain
        self.depth = depth
        self.symbols = _Symbols()
        self.counter = 0
        self.hole: _Hole | None = None

    # names --------------------------------------------------------------------------------

    def fresh(self) -> str:
        """Declare a fresh name; return its canonical (unquoted) form."""
        self.counter += 1
        if not self.plain and chance(self.chooser, 6):
            spelling = pick(self.chooser, QUOTED_ONLY).format(self.counter)
            name = spelling[1:-1]
            self.symbols.spellings[name] = (spelling,)
            return name
        name = pick(self.chooser, NAME_SHAPES).format(self.counter)
        self.symbols.spellings[name] = (name,) if self.plain else (name, f"|{name}|")
        return name

    def spell(self, name: str) -> str:
        """Return one spelling of ``name``: ``x`` or ``|x|`` (the same symbol)."""
        spellings = self.symbols.spellings.get(name, (name,))
        if len(spellings) > 1 and chance(self.chooser, 4):
            return spellings[1]
        return spellings[0]

    # sorts and declarations ---------------------------------------------------------------

    def sort(self) -> str:
        options = ["Int", "Int", "Bool", *self.symbols.sorts]
        return pick(self.chooser, options)

    def declarations(self) -> list[Sexp]:
        commands: list[Sexp] = []
        for _ in range(self.chooser.integer(0, 2)):
            name = self.fresh()
            self.symbols.sorts.append(name)
            commands.append(["declare-sort", self.spell(name), "0"])
        # One Int and one Bool constant always exist (the forbidden pieces refer to them), and
        # one constant of each declared sort (so every sort has a leaf term).
        sorts = ["Int", "Bool", *self.symbols.sorts]
        for sort in sorts + [self.sort() for _ in range(self.chooser.integer(0, 3))]:
            name = self.fresh()
            commands.append(["declare-const", self.spell(name), self.spell_sort(sort)])
            self.symbols.of(sort).append(name)
        for _ in range(self.chooser.integer(0, 2)):
            name = self.fresh()
            arguments = tuple(self.sort() for _ in range(self.chooser.integer(1, 2)))
            result = self.sort()
            self.symbols.functions.append((name, arguments, result))
            commands.append(
                [
                    "declare-fun",
                    self.spell(name),
                    [self.spell_sort(s) for s in arguments],
                    self.spell_sort(result),
                ]
            )
        return commands

    def spell_sort(self, sort: str) -> str:
        if sort in ("Int", "Bool"):
            return f"|{sort}|" if not self.plain and chance(self.chooser, 8) else sort
        return self.spell(sort)

    def definition(self) -> Sexp:
        sort = pick(self.chooser, ("Int", "Bool"))
        body = self.term(sort, 2, {})
        name = self.fresh()
        self.symbols.of(sort).append(name)
        return ["define-fun", self.spell(name), [], sort, body]

    # terms --------------------------------------------------------------------------------

    def _take_hole(self, sort: str) -> str | None:
        hole = self.hole
        if hole is None or hole.used or hole.sort != sort:
            return None
        if hole.countdown > 0:
            hole.countdown -= 1
            return None
        hole.used = True
        return hole.piece

    def numeral(self) -> str:
        kind = self.chooser.integer(0, 5)
        if kind == 0:
            return "0"
        if kind == 1:  # long numerals, up to the 80-digit limit
            digits = self.chooser.integer(2, MAX_LITERAL_LENGTH)
            return str(self.chooser.integer(1, 9)) + "7" * (digits - 1)
        return str(self.chooser.integer(1, 1000))

    def term(self, sort: str, depth: int, bound: dict[str, str]) -> Sexp:
        piece = self._take_hole(sort)
        if piece is not None:
            return piece
        leaves = [n for n, s in bound.items() if s == sort] + self.symbols.of(sort)
        if depth <= 0 or chance(self.chooser, 3):
            return self.leaf(sort, leaves)
        if sort == "Int":
            return self.int_term(depth, bound)
        if sort == "Bool":
            return self.bool_term(depth, bound)
        return self.other_term(sort, depth, bound, leaves)

    def leaf(self, sort: str, leaves: list[str]) -> Sexp:
        if sort == "Int" and (not leaves or chance(self.chooser, 3)):
            return self.numeral()
        if sort == "Bool" and (not leaves or chance(self.chooser, 4)):
            return pick(self.chooser, ("true", "false"))
        return self.spell(pick(self.chooser, leaves))

    def application(self, sort: str, depth: int, bound: dict[str, str]) -> Sexp | None:
        candidates = [f for f in self.symbols.functions if f[2] == sort]
        if not candidates:
            return None
        name, arguments, _ = pick(self.chooser, candidates)
        return [self.spell(name), *[self.term(s, depth - 1, bound) for s in arguments]]

    def int_term(self, depth: int, bound: dict[str, str]) -> Sexp:
        kind = self.chooser.integer(0, 7)
        below = depth - 1
        if kind == 0:
            return ["-", self.term("Int", below, bound)]
        if kind == 1:
            return ["abs", self.term("Int", below, bound)]
        if kind == 2:
            return [
                "ite",
                self.term("Bool", below, bound),
                self.term("Int", below, bound),
                self.term("Int", below, bound),
            ]
        if kind == 3:
            return self.let("Int", depth, bound)
        if kind == 4:
            found = self.application("Int", depth, bound)
            if found is not None:
                return found
        operator = pick(self.chooser, INT_OPS)
        count = self.chooser.integer(2, 3) if operator in ("+", "*", "-") else 2
        return [operator, *[self.term("Int", below, bound) for _ in range(count)]]

    def bool_term(self, depth: int, bound: dict[str, str]) -> Sexp:
        kind = self.chooser.integer(0, 9)
        below = depth - 1
        if kind == 0:
            return ["not", self.term("Bool", below, bound)]
        if kind == 1:
            operator = pick(self.chooser, ("and", "or", "xor", "=>"))
            count = self.chooser.integer(2, 3) if operator in ("and", "or") else 2
            return [operator, *[self.term("Bool", below, bound) for _ in range(count)]]
        if kind == 2:
            return self.quantifier(depth, bound)
        if kind == 3:
            return self.let("Bool", depth, bound)
        if kind == 4:
            sort = self.sort()
            operator = pick(self.chooser, ("=", "distinct"))
            count = self.chooser.integer(2, 3)
            return [operator, *[self.term(sort, below, bound) for _ in range(count)]]
        if kind == 5:
            return [
                "ite",
                self.term("Bool", below, bound),
                self.term("Bool", below, bound),
                self.term("Bool", below, bound),
            ]
        if kind == 6:
            found = self.application("Bool", depth, bound)
            if found is not None:
                return found
        operator = pick(self.chooser, COMPARISONS)
        return [operator, self.term("Int", below, bound), self.term("Int", below, bound)]

    def other_term(self, sort: str, depth: int, bound: dict[str, str], leaves: list[str]) -> Sexp:
        if chance(self.chooser, 2):
            found = self.application(sort, depth, bound)
            if found is not None:
                return found
        if chance(self.chooser, 3) and leaves:
            return [
                "ite",
                self.term("Bool", depth - 1, bound),
                self.spell(pick(self.chooser, leaves)),
                self.spell(pick(self.chooser, leaves)),
            ]
        return self.leaf(sort, leaves)

    def let(self, sort: str, depth: int, bound: dict[str, str]) -> Sexp:
        bindings: list[Sexp] = []
        inner = dict(bound)
        for _ in range(self.chooser.integer(1, 2)):
            name = self.fresh()
            value_sort = pick(self.chooser, ("Int", "Bool"))
            bindings.append([self.spell(name), self.term(value_sort, depth - 1, bound)])
            inner[name] = value_sort
        return ["let", bindings, self.term(sort, depth - 1, inner)]

    def quantifier(self, depth: int, bound: dict[str, str]) -> Sexp:
        binder = pick(self.chooser, ("forall", "exists"))
        name = self.fresh()
        sort = self.sort()
        inner = {**bound, name: sort}
        body = self.term("Bool", depth - 1, inner)
        attributes: list[Sexp] = []
        unary = [f for f in self.symbols.functions if f[1] == (sort,)]
        if unary and chance(self.chooser, 3):
            function = pick(self.chooser, unary)[0]
            attributes += [":pattern", [[self.spell(function), self.spell(name)]]]
        if chance(self.chooser, 4):
            attributes += [":qid", self.spell(self.fresh())]
        if chance(self.chooser, 4):
            attributes += [":weight", str(self.chooser.integer(0, 9))]
        if attributes:
            body = ["!", body, *attributes]
        return [binder, [[self.spell(name), self.spell_sort(sort)]], body]

    def assertion(self) -> Sexp:
        term = self.term("Bool", self.depth, {})
        if chance(self.chooser, 5):
            self.symbols.named += 1
            term = ["!", term, ":named", f"named{self.symbols.named}"]
        return ["assert", term]

    def commands(self) -> list[Sexp]:
        commands = self.declarations()
        if chance(self.chooser, 2):
            commands.append(self.definition())
        for _ in range(self.chooser.integer(1, 3)):
            commands.append(self.assertion())
        return commands


def _render(node: Sexp, chooser: Chooser, plain: bool) -> str:
    if isinstance(node, str):
        return node
    separator = " "
    if not plain:
        separator = pick(chooser, (" ", " ", " ", "\n  ", "\t", "\r\n", "  "))
    return "(" + separator.join(_render(item, chooser, plain) for item in node) + ")"


def render(commands: Sequence[Sexp], chooser: Chooser, plain: bool = False) -> str:
    """Return the text of ``commands``, with whitespace and comments between them."""
    parts = []
    for command in commands:
        parts.append(_render(command, chooser, plain))
        if plain:
            continue
        gap = chooser.integer(0, 5)
        if gap == 0:
            parts.append(" " + pick(chooser, COMMENTS) + "\n")
        elif gap == 1:
            parts.append("\n")
    return "".join(parts)


def fragment_commands(chooser: Chooser, plain: bool = False, depth: int = 3) -> list[Sexp]:
    """Return the command trees of a text inside the fragment."""
    return _Builder(chooser, plain, depth).commands()


def fragment_text(chooser: Chooser, plain: bool = False, depth: int = 3) -> str:
    """Return a well-typed text inside the fragment; ``plain`` leaves out quoting and comments."""
    return render(fragment_commands(chooser, plain, depth), chooser, plain)


# --------------------------------------------------------------------------- hostile texts


@dataclass(frozen=True, slots=True)
class Hostile:
    """A text outside the allowed subset, the invalid reason it must get, and what it holds."""

    text: str
    reason: str
    kind: str
    piece: str


def _fill(piece: str, builder: _Builder) -> str:
    int_name = builder.spell(builder.symbols.of("Int")[0])
    bool_name = builder.spell(builder.symbols.of("Bool")[0])
    return piece.replace("{i}", int_name).replace("{b}", bool_name)


def _with_term(chooser: Chooser, sort: str, template: str, plain: bool = False) -> str:
    """A fragment text with ``template`` in place of one of its terms of ``sort``."""
    builder = _Builder(chooser, plain, 3)
    commands = builder.declarations()
    piece = _fill(template, builder)
    builder.hole = _Hole(sort, piece, chooser.integer(0, 6))
    for _ in range(chooser.integer(1, 3)):
        commands.append(builder.assertion())
    if not builder.hole.used:
        int_name = builder.spell(builder.symbols.of("Int")[0])
        commands.append(["assert", ["=", int_name, piece] if sort == "Int" else piece])
    return render(commands, chooser, plain)


def _with_command(chooser: Chooser, template: str, plain: bool = False) -> str:
    """A fragment text with the command ``template`` after one of its commands."""
    builder = _Builder(chooser, plain, 3)
    commands = builder.commands()
    position = chooser.integer(2, len(commands))  # after the Int and Bool constants
    commands.insert(position, _fill(template, builder))
    return render(commands, chooser, plain)


SORT_FORMS = (
    "(declare-const h {s})",
    "(declare-fun h ({s}) Int)",
    "(declare-fun h (Int {s}) Bool)",
    "(declare-fun h (Int) {s})",
    "(define-fun h () {s} {i})",
    "(assert (forall ((h {s})) true))",
    "(assert (exists ((h Int) (g {s})) true))",
)
RESERVED_FORMS = (
    "(declare-const {w} Int)",
    "(declare-fun {w} (Int) Bool)",
    "(declare-sort {w} 0)",
    "(define-fun {w} () Int 1)",
    "(assert (forall (({w} Int)) true))",
    "(assert (let (({w} 1)) true))",
)


def _forbidden_sort(chooser: Chooser, sort: str) -> str:
    return _with_command(chooser, pick(chooser, SORT_FORMS).replace("{s}", sort))


def _forbidden_term(chooser: Chooser, piece: str) -> str:
    return _with_term(chooser, "Bool" if piece in FORBIDDEN_BOOL_TERMS else "Int", piece)


def _reserved_name(chooser: Chooser, word: str) -> str:
    spelling = f"|{word}|" if chance(chooser, 3) else word
    return _with_command(chooser, pick(chooser, RESERVED_FORMS).replace("{w}", spelling))


def _bad_token(chooser: Chooser, piece: str) -> str:
    """A plain text (no strings, quoted symbols or comments) with ``piece`` before a
    parenthesis inside it."""
    text = fragment_text(chooser, plain=True)
    at = pick(chooser, [i for i, ch in enumerate(text) if ch in "()"][1:])
    return text[:at] + " " + piece + " " + text[at:]


def _bad_character(chooser: Chooser, piece: str) -> str:
    text = fragment_text(chooser)
    at = chooser.integer(0, len(text))
    return text[:at] + piece + text[at:]


def _unbalanced(chooser: Chooser, way: str) -> str:
    text = fragment_text(chooser, plain=True)
    if way == "a '(' never closed":
        return text + "("
    wanted = "(" if "'('" in way else ")"
    at = pick(chooser, [i for i, ch in enumerate(text) if ch == wanted])
    if way.endswith("removed"):
        return text[:at] + text[at + 1 :]
    return text[:at] + ")" + text[at:]


def _top_level_atom(chooser: Chooser, piece: str) -> str:
    commands = _Builder(chooser, True, 3).commands()
    at = chooser.integer(0, len(commands))
    return (
        render(commands[:at], chooser, True) + f" {piece} " + render(commands[at:], chooser, True)
    )


#: One past each text limit (spec/proofs.md, "Limits").
LIMIT_PIECES: dict[str, Callable[[int], str]] = {
    "nesting depth": lambda n: "(assert " + "(not " * (n - 1) + "true" + ")" * n,
    "symbol length": lambda n: f"(declare-const {'h' * n} Int)",
    "quoted symbol length": lambda n: f"(declare-const |{'h' * n}| Int)",
    "literal length": lambda n: "(assert (> " + "9" * n + " 0))",
    "string length": lambda n: '(assert (= 0 "' + "s" * (n - 2) + '"))',
    "keyword length": lambda n: f"(assert (! true :{'k' * (n - 1)} x))",
    "tokens": lambda n: "(assert (and " + "t " * n + "))",
    "commands": lambda n: "(assert true)" * n,
    "distinct symbols": lambda n: "".join(f"(declare-const s{i} Int)" for i in range(n)),
}
LIMIT_VALUES = {
    "nesting depth": MAX_DEPTH,
    "symbol length": MAX_SYMBOL_LENGTH,
    "quoted symbol length": MAX_SYMBOL_LENGTH,
    "literal length": MAX_LITERAL_LENGTH,
    "string length": MAX_STRING_LENGTH,
    "keyword length": MAX_SYMBOL_LENGTH,
    "tokens": MAX_TOKENS,
    "commands": MAX_COMMANDS,
    "distinct symbols": MAX_SYMBOLS,
    "text bytes": MAX_BYTES,
    "text bytes, one character of two": MAX_BYTES,
}


def _over_limit(chooser: Chooser, limit: str) -> str:
    text = fragment_text(chooser, plain=True)
    over = LIMIT_VALUES[limit] + chooser.integer(1, 3)
    if limit == "text bytes":
        return text + ";" + "p" * (over - len(text) - 1)
    if limit == "text bytes, one character of two":
        # 65,536 characters, 65,537 UTF-8 bytes: size (in bytes) comes before characters.
        return text + ";" + "p" * (MAX_BYTES - len(text) - 2) + "\u00e9"
    return text + LIMIT_PIECES[limit](over)


@dataclass(frozen=True, slots=True)
class HostileKind:
    """A class of hostile texts: its reason, its pieces, and how a text gets one of them."""

    name: str
    reason: str
    pieces: tuple[str, ...]
    build: Callable[[Chooser, str], str]

    def make(self, chooser: Chooser, piece: str | None = None) -> Hostile:
        """Return a text holding ``piece`` (or one of the kind's pieces, chosen)."""
        chosen = piece if piece is not None else pick(chooser, self.pieces)
        return Hostile(self.build(chooser, chosen), self.reason, self.name, chosen)


#: Every kind of hostile text.
HOSTILE_KINDS: dict[str, HostileKind] = {
    kind.name: kind
    for kind in (
        HostileKind("forbidden-sort", FORBIDDEN_CONSTRUCT, FORBIDDEN_SORTS, _forbidden_sort),
        HostileKind(
            "forbidden-term",
            FORBIDDEN_CONSTRUCT,
            FORBIDDEN_INT_TERMS + FORBIDDEN_BOOL_TERMS,
            _forbidden_term,
        ),
        HostileKind(
            "forbidden-declaration", FORBIDDEN_CONSTRUCT, FORBIDDEN_DECLARATIONS, _with_command
        ),
        HostileKind("reserved-name", FORBIDDEN_CONSTRUCT, RESERVED_WORDS, _reserved_name),
        HostileKind("forbidden-command", FORBIDDEN_COMMAND, FORBIDDEN_COMMANDS, _with_command),
        HostileKind("bad-token", PARSE_ERROR, BAD_TOKENS, _bad_token),
        HostileKind("bad-character", PARSE_ERROR, BAD_CHARACTERS, _bad_character),
        HostileKind(
            "unbalanced",
            PARSE_ERROR,
            ("a '(' removed", "a ')' removed", "a ')' added", "a '(' never closed"),
            _unbalanced,
        ),
        HostileKind("command-shape", PARSE_ERROR, COMMAND_SHAPES, _with_command),
        HostileKind(
            "term-shape",
            PARSE_ERROR,
            TERM_SHAPES,
            lambda chooser, piece: _with_term(chooser, "Bool", piece),
        ),
        HostileKind("top-level-atom", PARSE_ERROR, TOP_LEVEL_ATOMS, _top_level_atom),
        HostileKind("limit", TEXT_LIMIT, tuple(LIMIT_VALUES), _over_limit),
    )
}


def hostile_text(chooser: Chooser, kind: str | None = None) -> Hostile:
    """Return a text outside the subset with its reason (of ``kind``, or any kind)."""
    name = kind if kind is not None else pick(chooser, sorted(HOSTILE_KINDS))
    return HOSTILE_KINDS[name].make(chooser)


def every_piece() -> list[tuple[str, str]]:
    """Return every ``(kind, piece)`` pair, for exhaustive runs."""
    return [(kind.name, piece) for kind in HOSTILE_KINDS.values() for piece in kind.pieces]


# --------------------------------------------------------------------------- random mutation

_ALL_PIECES: tuple[str, ...] = (
    FORBIDDEN_SORTS
    + FORBIDDEN_INT_TERMS
    + FORBIDDEN_BOOL_TERMS
    + FORBIDDEN_COMMANDS
    + FORBIDDEN_DECLARATIONS
    + RESERVED_WORDS
    + BAD_TOKENS
    + BAD_CHARACTERS
    + COMMAND_SHAPES
    + TERM_SHAPES
    + TOP_LEVEL_ATOMS
    + COMMENTS
    + ("(", ")", "|", '"', ";", "\n", ":named", ":pattern", "!", "(!", "(_", "((", "))")
)


def mutated_text(chooser: Chooser) -> str:
    """Return a fragment text changed by a few random splices, deletions, repeats and swaps."""
    text = fragment_text(chooser, plain=chance(chooser, 2))
    for _ in range(chooser.integer(1, 4)):
        size = len(text)
        at = chooser.integer(0, size)
        way = chooser.integer(0, 4)
        if way == 0:
            text = text[:at] + pick(chooser, _ALL_PIECES) + text[at:]
        elif way == 1:
            end = min(size, at + chooser.integer(1, 12))
            text = text[:at] + text[end:]
        elif way == 2:
            end = min(size, at + chooser.integer(1, 24))
            text = text[:at] + text[at:end] * chooser.integer(2, 3) + text[at:]
        elif way == 3:
            other = chooser.integer(0, size)
            low, high = sorted((at, other))
            text = text[:low] + text[high:] + text[low:high]
        else:
            text = text[:at]
    return text
