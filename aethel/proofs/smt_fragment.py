"""The logical fragment accepted in proofs: Int, Bool, uninterpreted sorts and functions (N6).

Spec: N6, R1.4. :func:`check_commands` walks the S-expression tree of an SMT text (built by
:mod:`aethel.proofs.smt_text`) and accepts only:

* sorts ``Int``, ``Bool`` and sorts declared by ``(declare-sort NAME 0)``; no parametric or
  indexed sort (so no bit-vectors, arrays, reals, floats, strings, sequences, datatypes);
* terms built from numerals, ``true``/``false``, declared constants and functions, variables
  bound by ``let``/``forall``/``exists``, the operators :data:`OPERATORS` (core Boolean
  connectives, ``=``, ``distinct``, ``ite``, integer ``+ - * div mod abs <= < >= >``), and
  ``(! TERM ATTRIBUTE...)`` with ``:named``, ``:pattern``, ``:qid`` or ``:weight``;
* commands ``(declare-sort NAME 0)``, ``(declare-const NAME SORT)``,
  ``(declare-fun NAME (SORT...) SORT)``, ``(define-fun NAME () SORT TERM)`` (constants only:
  Z3 inlines parameterized definitions at parse time, outside any budget, and a chain of 20
  doubling definitions already runs for minutes) and ``(assert TERM)``;
* declared names that are not reserved words, operators, sorts or commands.

Why a fragment, not the whole of Z3: the budget (``rlimit``) must bound the CPU a proof can
take, and for several theories it does not. Measured with z3 4.15.4 on this machine, with
budgets of 100,000 units: 50 chained 64-bit ``bvudiv``/``bvurem`` constraints ran 13 s, 100
``bvmul`` ones 4.6 s, a 1024-bit ``bvmul`` 18.6 s at 1M units, a string/regex length puzzle
1.2 s; inside this fragment (with the simplex arithmetic solver, see
:mod:`aethel.proofs.solver`) every hostile shape tried (integer programs, nonlinear products and
divisions, quantifier matching loops, pigeonhole formulas, 2,000-way ``distinct``) spent at
least 0.3 units per microsecond, so the largest budget bounds a proof to a few seconds.

Anything else raises :class:`ForbiddenConstructError` (or :class:`SmtSyntaxError` for a
malformed command), rule N6.
"""

from __future__ import annotations

from aethel.proofs.errors import ForbiddenConstructError, SmtSyntaxError

RULE = "N6"

Node = str | list["Node"]

SORTS = frozenset(("Int", "Bool"))
OPERATORS = frozenset(
    (
        "not", "and", "or", "xor", "=>", "=", "distinct", "ite",
        "+", "-", "*", "div", "mod", "abs", "<=", "<", ">=", ">",
    )
)  # fmt: skip
CONSTANTS = frozenset(("true", "false"))
BINDERS = frozenset(("let", "forall", "exists"))
ATTRIBUTES = frozenset((":named", ":pattern", ":qid", ":weight"))
#: Words a declaration may not take as its name.
RESERVED = (
    SORTS
    | OPERATORS
    | CONSTANTS
    | BINDERS
    | frozenset(("!", "_", "as", "par", "match", "lambda", "NUMERAL", "DECIMAL", "STRING"))
    | frozenset(("declare-sort", "declare-const", "declare-fun", "define-fun", "assert"))
)


def _forbidden(message: str) -> ForbiddenConstructError:
    return ForbiddenConstructError(RULE, message)


def _name(node: Node, what: str) -> str:
    """Return the symbol a name node denotes (``|x|`` and ``x`` are the same symbol)."""
    if not isinstance(node, str):
        raise SmtSyntaxError(RULE, f"{what} must be a symbol")
    if node[0] == "|":
        return node[1:-1]
    if node[0].isdigit() or node[0] in '#:"':
        raise SmtSyntaxError(RULE, f"{what} must be a symbol, got {node[:40]!r}")
    return node


def _declared_name(node: Node) -> str:
    name = _name(node, "a declared name")
    if name in RESERVED:
        raise _forbidden(f"{name!r} is reserved and cannot be declared")
    return name


class _Scope:
    """Declared sorts and functions (name -> arity) of one text."""

    __slots__ = ("functions", "sorts")

    def __init__(self) -> None:
        self.sorts: set[str] = set()
        self.functions: dict[str, int] = {}

    def check_sort(self, node: Node) -> None:
        if isinstance(node, list):
            raise _forbidden("parametric and indexed sorts are outside the fragment")
        name = _name(node, "a sort")
        if name not in SORTS and name not in self.sorts:
            raise _forbidden(f"sort {name[:40]!r} is outside the fragment (Int, Bool, declared)")

    def check_term(self, node: Node, bound: frozenset[str]) -> None:
        if isinstance(node, str):
            self._check_atom(node, bound)
            return
        if not node:
            raise SmtSyntaxError(RULE, "empty list in a term")
        if isinstance(node[0], list):
            raise _forbidden("indexed or qualified function heads are outside the fragment")
        head = _name(node[0], "the head of a term")
        if head in OPERATORS:
            if len(node) < 2:
                raise SmtSyntaxError(RULE, f"{head!r} needs arguments")
            for argument in node[1:]:
                self.check_term(argument, bound)
        elif head in BINDERS:
            self._check_binder(head, node, bound)
        elif head == "!":
            self._check_annotation(node, bound)
        else:
            if self.functions.get(head, 0) < 1 or head in bound:
                raise _forbidden(f"function {head[:40]!r} is not declared or not in the fragment")
            for argument in node[1:]:
                self.check_term(argument, bound)

    def _check_atom(self, token: str, bound: frozenset[str]) -> None:
        first = token[0]
        if first.isdigit():
            if not token.isdigit():
                raise _forbidden(f"literal {token[:40]!r}: only integer numerals are allowed")
            return
        if first in '#"':
            raise _forbidden(f"literal {token[:40]!r}: only integer numerals are allowed")
        if first == ":":
            raise _forbidden(f"keyword {token[:40]!r} outside an annotation")
        name = token[1:-1] if first == "|" else token
        if name in bound or name in CONSTANTS or self.functions.get(name) == 0:
            return
        raise _forbidden(f"symbol {name[:40]!r} is not declared or not in the fragment")

    def _check_binder(self, head: str, node: list[Node], bound: frozenset[str]) -> None:
        if len(node) != 3 or not isinstance(node[1], list) or not node[1]:
            raise SmtSyntaxError(RULE, f"{head} needs a non-empty binding list and a body")
        names = []
        for binding in node[1]:
            if not isinstance(binding, list) or len(binding) != 2:
                raise SmtSyntaxError(
                    RULE, f"{head} binds (name {'term' if head == 'let' else 'sort'})"
                )
            names.append(_declared_name(binding[0]))
            if head == "let":
                self.check_term(binding[1], bound)
            else:
                self.check_sort(binding[1])
        self.check_term(node[2], bound | frozenset(names))

    def _check_annotation(self, node: list[Node], bound: frozenset[str]) -> None:
        if len(node) < 4 or len(node) % 2:
            raise SmtSyntaxError(RULE, "(! TERM :attribute value ...) expected")
        self.check_term(node[1], bound)
        for index in range(2, len(node), 2):
            keyword, value = node[index], node[index + 1]
            # A list where a keyword belongs is hostile shape, not an attribute: checking it for
            # membership of a set would raise TypeError (unhashable), untyped.
            if not isinstance(keyword, str) or not keyword.startswith(":"):
                raise SmtSyntaxError(RULE, "(! TERM :attribute value ...) expected")
            if keyword not in ATTRIBUTES:
                raise _forbidden(f"attribute {keyword[:40]!r} is outside the fragment")
            if keyword == ":pattern":
                if not isinstance(value, list) or not value:
                    raise SmtSyntaxError(RULE, ":pattern takes a list of terms")
                for term in value:
                    self.check_term(term, bound)
            elif keyword == ":weight":
                if not isinstance(value, str) or not value.isdigit():
                    raise SmtSyntaxError(RULE, ":weight takes a numeral")
            else:
                _name(value, f"the value of {keyword}")

    def process_command(self, command: list[Node]) -> None:
        head = _name(command[0], "a command name")
        size = len(command)
        if head == "assert":
            if size != 2:
                raise SmtSyntaxError(RULE, "(assert TERM) expected")
            self.check_term(command[1], frozenset())
        elif head == "declare-const":
            if size != 3:
                raise SmtSyntaxError(RULE, "(declare-const NAME SORT) expected")
            name = _declared_name(command[1])
            self.check_sort(command[2])
            self.functions[name] = 0
        elif head == "declare-fun":
            if size != 4 or not isinstance(command[2], list):
                raise SmtSyntaxError(RULE, "(declare-fun NAME (SORT...) SORT) expected")
            name = _declared_name(command[1])
            for sort in command[2]:
                self.check_sort(sort)
            self.check_sort(command[3])
            self.functions[name] = len(command[2])
        elif head == "define-fun":
            if size != 5 or not isinstance(command[2], list):
                raise SmtSyntaxError(RULE, "(define-fun NAME () SORT TERM) expected")
            if command[2]:
                raise _forbidden(
                    "only (define-fun NAME () SORT TERM) without parameters is allowed"
                )
            name = _declared_name(command[1])
            self.check_sort(command[3])
            self.check_term(command[4], frozenset())
            self.functions[name] = 0
        elif head == "declare-sort":
            arity = command[2] if size == 3 else None
            if not isinstance(arity, str) or not arity.isdigit():
                raise SmtSyntaxError(RULE, "(declare-sort NAME 0) expected")
            name = _declared_name(command[1])
            if arity != "0":
                raise _forbidden(f"sort {name[:40]!r} of arity {arity[:20]}: parametric sorts")
            self.sorts.add(name)
        else:  # the tokenizer admits only the commands above
            raise _forbidden(f"command {str(head)[:40]!r}")


def check_commands(commands: list[list[Node]]) -> None:
    """Accept the command trees if every one is in the fragment; otherwise raise (N6)."""
    scope = _Scope()
    for command in commands:
        scope.process_command(command)
