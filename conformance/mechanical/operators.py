"""The mutation operators of a mechanical campaign: cosmic-ray's, plus two it lacks.

Every operator is a ``cosmic_ray.operators.operator.Operator`` (``mutation_positions`` and
``mutate`` over a parso tree), applied by cosmic-ray's own ``MutationVisitor``. Most come from
cosmic-ray's core provider by name (:data:`COSMIC_RAY_OPERATORS`). cosmic-ray has no operator that
removes a statement, a ``raise`` or a ``return``, which the issue asks for; :class:`RemoveStatement`
and :class:`RemoveRaiseOrReturn` fill that gap on the same ``Operator`` interface (they replace a
statement with ``pass``), so cosmic-ray's visitor applies them like its own.

Mutations inside annotations are never made: with ``from __future__ import annotations`` an
annotation is not evaluated, so ``int | None`` -> ``int & None`` changes nothing observable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cosmic_ray.plugins
import parso as untyped_parso
from cosmic_ray.operators.operator import Example, Operator
from parso.python import tree

parso: Any = untyped_parso

#: cosmic-ray core operators used, by the issue's kinds (each name is ``core/<class name>``).
COSMIC_RAY_OPERATORS: dict[str, tuple[str, ...]] = {
    "boundary": (
        "ReplaceComparisonOperator_Lt_LtE",
        "ReplaceComparisonOperator_LtE_Lt",
        "ReplaceComparisonOperator_Gt_GtE",
        "ReplaceComparisonOperator_GtE_Gt",
    ),
    "comparison": (
        "ReplaceComparisonOperator_Eq_NotEq",
        "ReplaceComparisonOperator_NotEq_Eq",
        "ReplaceComparisonOperator_Lt_GtE",
        "ReplaceComparisonOperator_GtE_Lt",
        "ReplaceComparisonOperator_Gt_LtE",
        "ReplaceComparisonOperator_LtE_Gt",
        "ReplaceComparisonOperator_Is_IsNot",
        "ReplaceComparisonOperator_IsNot_Is",
    ),
    "constant": (
        "NumberReplacer",
        "ReplaceTrueWithFalse",
        "ReplaceFalseWithTrue",
    ),
    "condition": (
        "AddNot",
        "ReplaceUnaryOperator_Delete_Not",
        "ReplaceAndWithOr",
        "ReplaceOrWithAnd",
    ),
    "arithmetic": (
        "ReplaceBinaryOperator_Add_Sub",
        "ReplaceBinaryOperator_Sub_Add",
        "ReplaceBinaryOperator_Mul_Add",
        "ReplaceBinaryOperator_FloorDiv_Mul",
        "ReplaceBinaryOperator_Mod_FloorDiv",
    ),
    "loop": (
        "ReplaceBreakWithContinue",
        "ReplaceContinueWithBreak",
        "ZeroIterationForLoop",
    ),
    "handler": ("ExceptionReplacer",),
}

#: The statement kinds :class:`RemoveStatement` removes (a call for its effect, an update of
#: state, a ``del``): removing a plain local assignment only raises NameError later.
_REMOVABLE_EXPR = ("atom_expr", "power")


def _is_annotation(node: Any) -> bool:
    """Return True if ``node`` lies inside a parameter, return or variable annotation."""
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, tree.Param) and parent.annotation is child:
            return True
        if isinstance(parent, tree.Function) and parent.annotation is child:
            return True
        if parent.type == "annassign" and len(parent.children) > 1 and parent.children[1] is child:
            return True
        child, parent = parent, parent.parent
    return False


def _is_bare_star(node: Any) -> bool:
    """Return True for the ``*`` that ends positional parameters (``def f(a, *, b)``)."""
    return bool(
        node.type == "operator"
        and node.value == "*"
        and node.parent is not None
        and node.parent.type in ("parameters", "typedargslist", "lambdef", "varargslist", "param")
    )


def _statement_body(node: Any) -> Any:
    """Return the one statement of a ``simple_stmt`` line, or None if it holds several."""
    statements = [c for c in node.children if c.type not in ("newline", "operator")]
    return statements[0] if len(statements) == 1 else None


class _StatementToPass(Operator):  # type: ignore[misc]
    """Replace the one statement of a line with ``pass`` where :meth:`removes` says so."""

    def removes(self, statement: Any) -> bool:
        """Return True if this operator replaces ``statement`` (a line's only statement)."""
        raise NotImplementedError

    def mutation_positions(self, node: Any) -> Iterator[tuple[Any, Any]]:
        if node.type != "simple_stmt":
            return
        body = _statement_body(node)
        if body is not None and self.removes(body):
            yield (body.start_pos, body.end_pos)

    def mutate(self, node: Any, index: int) -> Any:
        return _replace_with_pass(node)


class RemoveStatement(_StatementToPass):
    """Replace a statement done for its effect with ``pass``.

    Removed: a bare call (``store.commit()``), an augmented assignment (``total += x``), an
    assignment to an attribute or item (``self.height = h``, ``votes[v] = s``), a ``del``.
    """

    def removes(self, statement: Any) -> bool:
        return bool(
            (statement.type in _REMOVABLE_EXPR and statement.children[-1].type == "trailer")
            or statement.type == "del_stmt"
            or (statement.type == "expr_stmt" and _updates_state(statement))
        )

    @classmethod
    def examples(cls) -> tuple[Example, ...]:
        return (
            Example("f(x)\n", "pass\n"),
            Example("total += x\n", "pass\n"),
            Example("self.h = 1\n", "pass\n"),
        )


def _updates_state(expr_stmt: Any) -> bool:
    operator = expr_stmt.children[1]
    if operator.type == "operator" and operator.value not in ("=",):
        return bool(operator.value.endswith("="))  # augmented: +=, -=, |=, ...
    if operator.type == "annassign":
        return False
    target = expr_stmt.children[0]
    return bool(target.type in _REMOVABLE_EXPR and target.children[-1].type == "trailer")


class RemoveRaiseOrReturn(_StatementToPass):
    """Replace a ``raise`` or a ``return`` statement with ``pass``: the code falls through."""

    def removes(self, statement: Any) -> bool:
        return bool(statement.type in ("raise_stmt", "return_stmt"))

    @classmethod
    def examples(cls) -> tuple[Example, ...]:
        return (
            Example("def f():\n    raise E\n", "def f():\n    pass\n"),
            Example("def f():\n    return 1\n", "def f():\n    pass\n"),
        )


def _replace_with_pass(simple_stmt: Any) -> Any:
    body = _statement_body(simple_stmt)
    prefix = body.get_first_leaf().prefix
    index = simple_stmt.children.index(body)
    replacement = parso.parse("pass").children[0]
    replacement.prefix = prefix
    simple_stmt.children[index] = replacement
    replacement.parent = simple_stmt
    return simple_stmt


#: Our operators, by the issue's kinds.
OWN_OPERATORS: dict[str, tuple[type[Operator], ...]] = {
    "statement": (RemoveStatement,),
    "raise-return": (RemoveRaiseOrReturn,),
}


class NoAnnotations(Operator):  # type: ignore[misc]
    """Wrap an operator so it never mutates inside an annotation (see the module docstring)."""

    def __init__(self, inner: Operator) -> None:
        self.inner = inner

    def mutation_positions(self, node: Any) -> Iterator[tuple[Any, Any]]:
        positions = list(self.inner.mutation_positions(node))
        if positions and (_is_annotation(node) or _is_bare_star(node)):
            return iter(())
        return iter(positions)

    def mutate(self, node: Any, index: int) -> Any:
        return self.inner.mutate(node, index)

    @classmethod
    def examples(cls) -> tuple[Example, ...]:
        return ()


def operator_names() -> tuple[str, ...]:
    """Return every operator name of a campaign, cosmic-ray's first, in a fixed order."""
    names = [name for group in COSMIC_RAY_OPERATORS.values() for name in group]
    names += [op.__name__ for group in OWN_OPERATORS.values() for op in group]
    return tuple(names)


def kind_of(name: str) -> str:
    """Return the kind (boundary, comparison, constant, ...) of an operator name."""
    for kind, names in COSMIC_RAY_OPERATORS.items():
        if name in names:
            return kind
    for kind, ops in OWN_OPERATORS.items():
        if any(op.__name__ == name for op in ops):
            return kind
    raise KeyError(name)


def make_operator(name: str) -> Operator:
    """Return an instance of the operator ``name`` that skips annotations."""
    for ops in OWN_OPERATORS.values():
        for op in ops:
            if op.__name__ == name:
                return NoAnnotations(op())
    return NoAnnotations(cosmic_ray.plugins.get_operator(f"core/{name}")())
