"""The outcome of a run and its exit code: what a CI gate reads.

=================  ====  ==================================================================
outcome            exit  when
=================  ====  ==================================================================
conformant         0     every MUST case selected passed (or is a known failure listed in
                         ``--expectations``); a full run says so in its verdict
non-conformant     1     a MUST case failed, errored or timed out; a ``--require-capability``
                         is not declared; with ``--strict``, a MUST case was skipped (for an
                         undeclared capability) or ended inconclusive
unusable           2     a usage error: an unknown option value, filter, file or case; the
                         implementation cannot start (no such command, import error, hello
                         missing or wrong); the run could not complete. No report is written
                         when it is known before the run
inconclusive       3     no MUST case failed, but one reached no verdict (``unknown``: a timing
                         check missed on a busy machine); rerun on a quiet machine
nothing checked    4     the implementation declares no capability, so no case can run
=================  ====  ==================================================================

A filtered run (``--req``, ``--area``, ``--capability``, ``--case``, ``-k``, ``-m``) exits by the
same rules over the cases it selected, and its verdict is never "conformant". With several
implementations the run exits with the most severe code among them, in the order 2, 1, 4, 3, 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.report.model import FAILED, SCALE_SKIP_PREFIX, Report

CONFORMANT = 0
NON_CONFORMANT = 1
UNUSABLE = 2
INCONCLUSIVE = 3
NOTHING_CHECKED = 4
#: Most severe first: the exit code of a run over several implementations.
SEVERITY = (UNUSABLE, NON_CONFORMANT, NOTHING_CHECKED, INCONCLUSIVE, CONFORMANT)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A run's outcome: its name, exit code and the reason in one line."""

    name: str
    code: int
    reason: str


def outcome_of(report: Report) -> Outcome:
    """Return the outcome of one implementation's run, as the module's table says."""
    header, footer = report.header, report.footer
    options = header.options
    strict = bool(options.get("strict", False))
    declared = set(header.implementation.capabilities)
    missing = sorted(set(options.get("require_capabilities", [])) - declared)
    must = [c for c in report.cases if c.level == "MUST" and not c.known_failure]
    unknown = [c for c in must if c.status == "unknown"]
    skipped = [
        c
        for c in must
        if c.status == "skip" and not (c.message or "").startswith(SCALE_SKIP_PREFIX)
    ]
    if not report.cases:
        return Outcome("unusable", UNUSABLE, "no case ran: the selection matches none")
    if footer.must_failures or any(c.status in FAILED for c in must):
        return Outcome("non-conformant", NON_CONFORMANT, footer.verdict)
    if missing:
        return Outcome(
            "non-conformant", NON_CONFORMANT, f"required capabilities not declared: {missing}"
        )
    if not declared:
        return Outcome("nothing checked", NOTHING_CHECKED, "the implementation declares none")
    if strict and (unknown or skipped):
        return Outcome(
            "non-conformant",
            NON_CONFORMANT,
            f"--strict: {len(skipped)} MUST case(s) skipped, {len(unknown)} inconclusive",
        )
    if unknown:
        return Outcome(
            "inconclusive",
            INCONCLUSIVE,
            f"{len(unknown)} MUST case(s) reached no verdict: rerun on a quiet machine",
        )
    if not header.full_run:
        return Outcome("conformant", CONFORMANT, "the selected cases pass (a filtered run)")
    return Outcome("conformant", CONFORMANT, footer.verdict)


def combined_code(codes: list[int]) -> int:
    """Return the exit code of a run over several implementations: the most severe."""
    for code in SEVERITY:
        if code in codes:
            return code
    return CONFORMANT
