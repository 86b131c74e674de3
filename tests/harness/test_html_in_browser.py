"""The HTML report opens in a real browser: headless Chromium renders it and takes a screenshot.

Skipped (with the reason) where no Chromium is installed (`apt-get install -y chromium`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from conformance.report.model import Measurement, write_report
from conformance.report.render import render_report
from tests.harness.test_report import case, report_of

BROWSER = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)


@pytest.mark.skipif(
    BROWSER is None, reason="no Chromium on this machine (apt-get install -y chromium)"
)
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    assert BROWSER is not None
    measured = Measurement(
        metric="finality",
        value=0.8,
        unit="s",
        rule="R6.1",
        comparison="<=",
        threshold=10,
        holds=True,
        x=1000,
        series="finality by validators",
    )
    cases = [
        case("encoding::a", "pass", measurements=[measured]),
        case(
            "encoding::b",
            "fail",
            message="boom",
            divergence={"path": "x", "expected": "1", "actual": "2"},
        ),
    ]
    report = report_of(cases)
    path = tmp_path / "report.jsonl"
    write_report(path, report.header, report.cases, report.footer)
    render_report(path)
    html = tmp_path / "report.html"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    text = html.read_text(encoding="utf-8")
    assert "Requirement matrix" in text and text.count("data:image/png;base64,") >= 2
    shot = tmp_path / "shot.png"
    subprocess.run(
        [BROWSER, *flags, "--window-size=1400,1800", f"--screenshot={shot}", html.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = matplotlib.image.imread(shot)[:, :, :3]
    colours = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert pixels.shape[0] >= 1000 and len(colours) > 100, "the page rendered blank"
    pass_green = np.array([0x2E, 0x7D, 0x32])
    assert (np.abs(colours.astype(int) - pass_green).sum(axis=1) < 12).any(), "no pass badge drawn"
