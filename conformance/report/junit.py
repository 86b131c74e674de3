"""JUnit XML of a run, for CI systems: one testcase per case, rule IDs as properties.

The file is well-formed whatever the implementation wrote: every text an implementation chose
(messages, stderr, its name) goes through :func:`~conformance.report.text.visible`, which writes
the characters XML 1.0 forbids (NUL, BEL, ESC of ANSI colours...) as visible escapes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.report.failures import unsettled_cases
from conformance.report.model import FAILED, Report
from conformance.report.text import visible


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: visible(v, keep="") for k, v in attributes.items()})
    if text is not None:
        element.text = visible(text)
    return element


def render_junit(report: Report) -> bytes:
    """Return JUnit XML (one testsuite) for the report."""
    totals = report.footer.totals
    suite = ET.Element(
        "testsuite",
        name=visible(f"aethel-conformance:{report.header.implementation.name}", keep=""),
        tests=str(len(report.cases)),
        failures=str(totals.get("fail", 0)),
        errors=str(totals.get("error", 0) + totals.get("timeout", 0)),
        skipped=str(totals.get("skip", 0) + totals.get("unknown", 0)),
        time=f"{report.footer.duration_s:.3f}",
        timestamp=report.header.started,
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        (
            "implementation",
            f"{report.header.implementation.name} {report.header.implementation.version}",
        ),
        ("suite_hash", str(report.header.suite.get("hash"))),
        ("full_run", str(report.header.full_run).lower()),
        ("verdict", report.footer.verdict),
    ):
        _sub(properties, "property", name=name, value=value)
    reruns = {u.case.case_id: u.rerun for u in unsettled_cases(report)}
    for case in report.cases:
        area, _, name = case.case_id.partition("::")
        element = _sub(
            suite,
            "testcase",
            classname=area,
            name=name or case.case_id,
            time=f"{case.duration_s:.3f}",
        )
        props = _sub(element, "properties")
        _sub(props, "property", name="rules", value=",".join(case.rules))
        _sub(props, "property", name="level", value=case.level)
        message = (case.message or "")[:2000]
        first = message.splitlines()[0] if message.strip() else ""
        if case.case_id in reruns:
            message += f"\nrerun: {reruns[case.case_id]}"
        if case.status == "fail":
            _sub(element, "failure", message, message=first)
        elif case.status in FAILED:
            _sub(element, "error", message, type=case.status, message=first)
        elif case.status in ("skip", "unknown"):
            _sub(element, "skipped", message=f"{case.status}: {message}")
        if case.impl_transcript:
            _sub(element, "system-out", "\n".join(case.impl_transcript))
        if case.impl_stderr:
            _sub(element, "system-err", case.impl_stderr)
    ET.indent(suite)
    document = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    assert isinstance(document, bytes)
    return document
