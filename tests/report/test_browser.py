"""The reports open in a real headless chromium and nothing from the payload corpus executes.

The HTML report is opened as written; the Markdown report (and ``show --format markdown``) is
first rendered to HTML with raw HTML allowed, the most a Markdown renderer would do. A control
test shows that the same harness does catch a payload that is not escaped.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from ddrisk.analysis import analyze
from ddrisk.cli import main
from ddrisk.report.build import build_report
from tests.browser_support import browser, open_page  # noqa: F401
from tests.report.payloads import PAYLOADS, hostile_catalog, hostile_outcome_matrix

FIXED = "2026-01-01T00:00:00+00:00"
pytestmark = pytest.mark.slow  # one chromium start and a few page loads: ~10 s of CPU

_FIND_ACTIVE = """() => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'iframe', 'object', 'embed'].includes(tag)) found.push(tag);
        for (const attr of el.attributes) {
            const value = attr.value.trim().toLowerCase();
            if (attr.name.toLowerCase().startsWith('on')) found.push(tag + '[' + attr.name + ']');
            if (value.startsWith('javascript:')) found.push(tag + '[' + attr.name + '=javascript:]');
        }
    }
    return found;
}"""


def _markdown_page(text: str) -> str:
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}</body></html>"


def assert_nothing_ran(report, *, visible: list[str]) -> None:
    assert report.dialogs == []
    assert report.page_errors == []
    assert report.evaluate("() => typeof window.__pwned") == "undefined"
    assert report.evaluate(_FIND_ACTIVE) == []
    assert report.requests == []
    shown = report.evaluate("() => document.body.innerText")
    for text in visible:
        assert text in shown, text


@pytest.fixture(scope="module")
def hostile_report():
    from ddrisk.stress.statistics import analyze_outcomes

    catalog = hostile_catalog()
    stress = analyze_outcomes(hostile_outcome_matrix(), seed=1, n_bootstrap=30)
    analysis = analyze(catalog, stack=["AL_GEN", "x.y-z"])
    return build_report(catalog=catalog, analysis=analysis, stress=stress, created=FIXED)


def test_the_harness_catches_an_unescaped_payload(browser):  # noqa: F811
    page = open_page(browser, "<html><body>" + PAYLOADS["img_onerror"] + "</body></html>")
    assert page.evaluate("() => window.__pwned") == 1
    assert page.dialogs == ["alert: 2"]
    raw_markdown = open_page(browser, _markdown_page(PAYLOADS["script"]))
    assert raw_markdown.evaluate("() => window.__pwned") == 1


def test_html_report_runs_nothing(browser, hostile_report):  # noqa: F811
    html = hostile_report.html()
    # Escaping alone must hold: the check runs without the report's Content-Security-Policy too.
    assert html.count('http-equiv="Content-Security-Policy"') == 1
    without_policy = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert_nothing_ran(
        open_page(browser, without_policy),
        visible=[PAYLOADS["script"], PAYLOADS["rich_close"], PAYLOADS["md_javascript_link"]],
    )
    page = open_page(browser, html)
    assert_nothing_ran(
        page,
        visible=[PAYLOADS["script"], PAYLOADS["rich_close"], PAYLOADS["md_javascript_link"]],
    )
    # The policy still lets the inline SVG figures show.
    sizes = page.evaluate("() => [...document.images].map(image => image.naturalWidth)")
    assert len(sizes) == len(hostile_report.figure_blocks()) and all(sizes)


def test_markdown_report_runs_nothing(browser, hostile_report):  # noqa: F811
    page = open_page(browser, _markdown_page(hostile_report.markdown()))
    assert_nothing_ran(page, visible=[PAYLOADS["script"], PAYLOADS["md_javascript_link"]])


def test_show_markdown_runs_nothing(browser, tmp_path):  # noqa: F811
    path = tmp_path / "hostile.json"
    path.write_text(hostile_catalog().model_dump_json(), encoding="utf-8")
    out = CliRunner().invoke(main, ["show", "--catalog", str(path), "--format", "markdown"])
    assert out.exit_code == 0, out.output
    page = open_page(browser, _markdown_page(out.output))
    assert_nothing_ran(page, visible=["AL_GEN", "x.y-z"])


def test_every_payload_escaped_in_markdown(browser):  # noqa: F811
    from ddrisk.report.escape import markdown_text

    paragraphs = "\n\n".join(markdown_text(text) for text in PAYLOADS.values())
    table = "| payload |\n|---|\n" + "\n".join(f"| {markdown_text(t)} |" for t in PAYLOADS.values())
    page = open_page(browser, _markdown_page(paragraphs + "\n\n" + table))
    assert_nothing_ran(page, visible=[PAYLOADS["script"], PAYLOADS["svg_onload"]])
