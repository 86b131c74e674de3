"""Mutants of the proof verifier's text check (N6), written as an outside implementer's bugs.

Each keeps the reference's signature check, solver run and result cache, and replaces the check
of a proof's text before the solver with a plausible independent one:

* ``no-fragment-check``: the implementer read "forbidden commands" and stopped there. Its check
  bounds the size and the nesting, requires balanced parentheses and refuses the commands that
  change the solver's state or output; everything else goes to Z3, which happily reads
  bit-vectors, reals, strings, arrays, macros and any number of tokens.
* ``depth-limit-off-by-one``: the nesting limit is compared with ``>=``, so a text exactly 64
  deep (allowed) is refused.
* ``size-in-characters``: the 65,536-byte limit is compared with the number of characters, so
  a text of 65,536 characters holding one two-byte character passes the size check and is
  refused later, for the character, with another reason.
* ``define-fun-with-parameters``: ``define-fun`` with parameters is accepted as a macro (its
  body checked with the parameters bound), though Z3 expands macros while parsing, outside any
  budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aethel.proofs.errors import ForbiddenCommandError, SmtLimitError, SmtSyntaxError
from aethel.proofs.model import Proof, proof_from_json
from aethel.proofs.parallel import Verifier
from aethel.proofs.smt_fragment import Node, _declared_name, _Scope
from aethel.proofs.smt_text import LIMITS, SmtLimits, check_smt_text
from aethel.proofs.verifier import VerificationResult, verify_proof
from conformance.adapters.api import JSON
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import (
    ReferenceVerifier,
    ReferenceVerifierObject,
    result_to_json,
)
from conformance.mutants import Mutant

TextCheck = Callable[[str], None]

# --------------------------------------------------------------------------- the text checks

#: What an implementer who guards the solver's state (and nothing else) refuses.
STATE_COMMANDS = re.compile(
    r"\(\s*(push|pop|reset|reset-assertions|exit|set-option|set-info|set-logic|check-sat\S*"
    r"|get-[^\s()]*|echo|eval|simplify|include)(?=[\s()]|$)"
)


def state_commands_only(text: str) -> None:
    """Size, balanced parentheses, depth and no state-changing command; Z3 reads the rest."""
    if len(text.encode("utf-8", "surrogatepass")) > 65_536:
        raise SmtLimitError("N6", "text over 65,536 bytes")
    depth = 0
    for character in text:
        if character == "(":
            depth += 1
            if depth > 64:
                raise SmtLimitError("N6", "nesting deeper than 64")
        elif character == ")":
            depth -= 1
            if depth < 0:
                raise SmtSyntaxError("N6", "unbalanced parentheses")
    if depth:
        raise SmtSyntaxError("N6", "unbalanced parentheses")
    found = STATE_COMMANDS.search(text)
    if found:
        raise ForbiddenCommandError("N6", f"command {found.group(1)} is not allowed")


def depth_refused_at_the_limit(text: str) -> None:
    """The reference's check with the depth limit compared by ``>=`` (one level short)."""
    check_smt_text(text, SmtLimits(max_depth=LIMITS.max_depth - 1))


def size_in_characters(text: str) -> None:
    """The reference's check, with the size limit compared with the number of characters."""
    if len(text) > LIMITS.max_bytes:
        raise SmtLimitError("N6", f"text of {len(text)} characters")
    check_smt_text(text, SmtLimits(max_bytes=4 * LIMITS.max_bytes))


class _MacroScope(_Scope):
    """The fragment with ``(define-fun NAME ((p SORT) ...) SORT BODY)`` accepted as a macro."""

    def process_command(self, command: list[Node]) -> None:
        parameters = command[2] if len(command) == 5 else None
        if command[0] != "define-fun" or not isinstance(parameters, list) or not parameters:
            super().process_command(command)
            return
        name = _declared_name(command[1])
        bound = []
        for parameter in parameters:
            if not isinstance(parameter, list) or len(parameter) != 2:
                raise SmtSyntaxError("N6", "(define-fun NAME ((p SORT) ...) SORT TERM) expected")
            bound.append(_declared_name(parameter[0]))
            self.check_sort(parameter[1])
        self.check_sort(command[3])
        self.check_term(command[4], frozenset(bound))
        self.functions[name] = len(parameters)


def _macros_allowed(commands: list[list[Node]]) -> None:
    scope = _MacroScope()
    for command in commands:
        scope.process_command(command)


def macros_allowed(text: str) -> None:
    """The reference's check with parameterized definitions accepted."""
    check_smt_text(text, fragment=_macros_allowed)


# --------------------------------------------------------------------------- the adapters


class _CheckedVerifier(Verifier):
    """The reference's verifier and cache around another text check."""

    def __init__(self, text_check: TextCheck) -> None:
        super().__init__()
        self.text_check = text_check

    def verify(self, proof: Proof) -> VerificationResult:
        cached = self.cache.get(proof)
        if cached is not None:
            return cached
        result = verify_proof(proof, text_check=self.text_check)
        self.cache.put(proof, result)
        return result


class _CheckedVerifierObject(ReferenceVerifierObject):
    def __init__(self, text_check: TextCheck) -> None:
        self.verifier = _CheckedVerifier(text_check)


class _CheckedVerifierAPI(ReferenceVerifier):
    text_check: TextCheck

    @rejecting
    def verify_proof(self, proof: JSON) -> JSON:
        return result_to_json(verify_proof(proof_from_json(proof), text_check=self.text_check))

    @rejecting
    def verify_block(self, proofs: list[JSON], parallel: bool) -> list[JSON]:
        checker = _CheckedVerifier(self.text_check)
        return [result_to_json(checker.verify(proof_from_json(p))) for p in proofs]

    @rejecting
    def new(self) -> Any:
        return _CheckedVerifierObject(self.text_check)


class _NoFragmentCheckAPI(_CheckedVerifierAPI):
    text_check = staticmethod(state_commands_only)


class _DepthOffByOneAPI(_CheckedVerifierAPI):
    text_check = staticmethod(depth_refused_at_the_limit)


class _SizeInCharactersAPI(_CheckedVerifierAPI):
    text_check = staticmethod(size_in_characters)


class _MacrosAllowedAPI(_CheckedVerifierAPI):
    text_check = staticmethod(macros_allowed)


class NoFragmentCheckImplementation(ReferenceImplementation):
    name = "mutant-no-fragment-check"

    def make_verifier(self) -> object:
        return _NoFragmentCheckAPI()


class DepthOffByOneImplementation(ReferenceImplementation):
    name = "mutant-depth-limit-off-by-one"

    def make_verifier(self) -> object:
        return _DepthOffByOneAPI()


class SizeInCharactersImplementation(ReferenceImplementation):
    name = "mutant-size-in-characters"

    def make_verifier(self) -> object:
        return _SizeInCharactersAPI()


class MacrosAllowedImplementation(ReferenceImplementation):
    name = "mutant-define-fun-with-parameters"

    def make_verifier(self) -> object:
        return _MacrosAllowedAPI()


MUTANTS = [
    Mutant(
        name="no-fragment-check",
        defect="the text check bounds size and nesting, balances parentheses and refuses "
        "state-changing commands only; bit-vectors, reals, strings, arrays, macros, undeclared "
        "names and unbounded token counts go to Z3",
        breaks=("N6",),
        capabilities=("verifier",),
        build=NoFragmentCheckImplementation,
    ),
    Mutant(
        name="depth-limit-off-by-one",
        defect="the nesting limit is compared with >=: a text exactly 64 deep is refused",
        breaks=("N6",),
        capabilities=("verifier",),
        build=DepthOffByOneImplementation,
    ),
    Mutant(
        name="size-in-characters",
        defect="the 65,536-byte text limit counts characters: 65,536 characters of 65,537 "
        "bytes pass it and are refused as a parse-error instead of text-limit",
        breaks=("N6",),
        capabilities=("verifier",),
        build=SizeInCharactersImplementation,
    ),
    Mutant(
        name="define-fun-with-parameters",
        defect="define-fun with parameters is accepted (a macro Z3 expands while parsing, "
        "outside the budget)",
        breaks=("N6",),
        capabilities=("verifier",),
        build=MacrosAllowedImplementation,
    ),
]
