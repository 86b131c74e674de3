"""JUnit XML of a run, for CI systems: one testcase per case, rule IDs as properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.report.model import FAILED, Report


def render_junit(report: Report) -> bytes:
    """Return JUnit XML (one testsuite) for the report."""
    totals = report.footer.totals
    suite = ET.Element(
        "testsuite",
        name=f"aethel-conformance:{report.header.implementation.name}",
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
        ET.SubElement(properties, "property", name=name, value=value)
    for case in report.cases:
        area, _, name = case.case_id.partition("::")
        element = ET.SubElement(
            suite,
            "testcase",
            classname=area,
            name=name or case.case_id,
            time=f"{case.duration_s:.3f}",
        )
        props = ET.SubElement(element, "properties")
        ET.SubElement(props, "property", name="rules", value=",".join(case.rules))
        ET.SubElement(props, "property", name="level", value=case.level)
        message = (case.message or "")[:2000]
        if case.status == "fail":
            ET.SubElement(
                element, "failure", message=message.splitlines()[0] if message else ""
            ).text = message
        elif case.status in FAILED:
            ET.SubElement(
                element,
                "error",
                type=case.status,
                message=message.splitlines()[0] if message else "",
            ).text = message
        elif case.status in ("skip", "unknown"):
            ET.SubElement(element, "skipped", message=f"{case.status}: {message}")
        if case.impl_stderr:
            ET.SubElement(element, "system-err").text = case.impl_stderr
    ET.indent(suite)
    document = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    assert isinstance(document, bytes)
    return document
