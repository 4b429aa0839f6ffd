"""The shareable HTML report, opened in a real browser: headless Chromium loads the vTaiwan report
with no console message, its DOM holds the statements' text, a screenshot of it is not blank, and
printing it to PDF works. A statement containing ``<script>`` is shown as text and runs nothing.
``Analysis.to_html()`` is the CLI's ``--format html`` byte for byte, and ``_repr_html_`` a compact
card.

Without Chromium these tests report themselves skipped, and fail under CI (``CI=true``), where
``.ci/run`` installs Debian's ``chromium`` and ``fonts-noto-cjk``.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, List

import pandas as pd
import pytest

import commonground as cg

from conftest import EXAMPLE, skip_or_fail

CHROMIUM = next((p for p in map(shutil.which, ["chromium", "chromium-browser", "google-chrome"]) if p), None)


def _require(found: Any, what: str) -> Any:
    if found is None:
        skip_or_fail(f"{what} not found: the report's browser tests need it (Debian: apt-get install chromium fonts-noto-cjk)")
    return found


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs headless Chromium on a fresh profile, logging the pages' console to stderr."""
    browser = _require(CHROMIUM, "chromium")
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr", "--v=0", *args,
    ]
    return subprocess.run(command, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)


def console_messages(stderr: str) -> List[str]:
    """What the pages wrote to the console (errors, warnings, blocked scripts or fetches): Chromium
    logs each as an ``INFO:CONSOLE`` line."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report(vtaiwan_analysis: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "vtaiwan.html"
    vtaiwan_analysis.to_html(path)
    return path


def test_to_html_is_the_cli_report_byte_for_byte(vtaiwan_analysis: Any, run_cli: Callable[..., str]) -> None:
    assert vtaiwan_analysis.to_html() == run_cli("analyze", str(EXAMPLE), "--format", "html")


def test_the_report_is_one_small_file_that_names_every_section(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert report.stat().st_size < 3_000_000
    for section in ["overview", "map", "groups", "agreement", "uncertain", "bridging", "data"]:
        assert f'<section id="{section}"' in html


def test_repr_html_is_a_compact_card(vtaiwan_analysis: Any) -> None:
    card = vtaiwan_analysis._repr_html_()
    assert card.startswith('<div class="commonground-card"') and len(card) < 5000
    assert "vtaiwan.uberx" in card and "1,921 participants" in card and "Group 0" in card


def test_the_console_scan_sees_a_console_error(tmp_path: Path) -> None:
    # The control for the tests below: a page that logs is caught.
    page = tmp_path / "logs.html"
    page.write_text("<!DOCTYPE html><title>t</title><script>console.error('report-test')</script>")
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert any("report-test" in m for m in console_messages(result.stderr)), result.stderr


def test_chromium_renders_the_vtaiwan_report_with_its_statements_and_no_console_message(
    report: Path, vtaiwan_analysis: Any, tmp_path: Path
) -> None:
    result = chromium(tmp_path, "--dump-dom", report.as_uri())
    assert console_messages(result.stderr) == []
    dom = result.stdout
    for text in vtaiwan_analysis.repness["text"].dropna():
        assert text in dom
    common = vtaiwan_analysis.common_ground(3)
    assert len(common) == 3
    for text in common["text"]:
        assert text in dom
    assert "Opinion map" in dom and "About the data" in dom


def test_a_screenshot_of_the_report_is_not_blank(report: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = tmp_path / "report.png"
    result = chromium(tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", report.as_uri())
    assert console_messages(result.stderr) == []
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1600)
    # A blank page has one colour and no variance; the report has the dark header, the map's
    # group colours and text.
    assert max(ImageStat.Stat(image.convert("L")).stddev) > 20
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 200


def test_the_report_prints_to_pdf(report: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    result = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri())
    assert console_messages(result.stderr) == []
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 50_000
    # Several pages (one `/Type /Page` object each): the report flows onto pages, not clipped to one.
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3


def test_a_statement_with_a_script_is_shown_in_the_browser_and_runs_nothing(tmp_path: Path) -> None:
    attack = "<script>document.body.setAttribute('data-pwned', '1')</script><img src=x onerror=\"document.body.setAttribute('data-pwned', '2')\">"
    votes = pd.DataFrame(
        [(p, s, 1 if s == 0 or (p < 10) == (s % 2 == 0) else -1) for p in range(20) for s in range(4)],
        columns=["participant", "statement", "vote"],
    )
    conversation = cg.Conversation.from_votes(votes, statements={0: attack, 1: "free buses", 2: "more trams", 3: "bike lanes"})
    page = tmp_path / "attack.html"
    conversation.analyze().to_html(page, title="<script>alert(1)</script>")
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    # A blocked script or fetch would be logged; nothing was even attempted.
    assert console_messages(result.stderr) == []
    dom = result.stdout
    assert "data-pwned=" not in dom
    assert "&lt;script&gt;document.body.setAttribute('data-pwned', '1')&lt;/script&gt;" in dom
    assert "<img" not in dom and "<script" not in dom


def test_a_cjk_font_is_installed_for_the_chinese_statements() -> None:
    fc_match = _require(shutil.which("fc-match"), "fc-match (fontconfig)")
    font = subprocess.run([fc_match, "sans-serif:lang=zh-tw"], check=True, stdout=subprocess.PIPE, text=True).stdout
    if "CJK" not in font:
        message = f"no CJK font for Chinese text (fc-match gives {font.strip()!r}); install fonts-noto-cjk"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_a_pickled_analysis_writes_the_same_report(vtaiwan_analysis: Any) -> None:
    # The report's data notes (what was read, the reader's notes) survive pickling.
    restored = pickle.loads(pickle.dumps(vtaiwan_analysis))
    assert restored.to_html() == vtaiwan_analysis.to_html()
    assert "Polis export (votes.csv + comments.csv)" in restored.to_html()
