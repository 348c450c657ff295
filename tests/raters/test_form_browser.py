"""The rating form in a real headless browser (Debian chromium driven by Playwright).

Catalog text with HTML in it must show as text and run nothing; a filled-in form must save a
rater file that ddrisk's own reader accepts. Skips when chromium or playwright is missing,
except under CI (where both are installed and a skip would hide a failure).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddrisk.catalog import Catalog
from ddrisk.io.raterfile import parse_rater_text
from ddrisk.report.raters_form import render_rater_form

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = "<img src=x onerror=window.__pwned=1>"


def _browser_or_skip() -> Any:
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright package is not installed"
    if reason is None and not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        reason = f"chromium is not installed at {CHROMIUM}"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def page_factory() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _hostile_catalog() -> Catalog:
    return Catalog(
        id="hostile",
        version="1",
        title=f"Title {HOSTILE}",
        references=[
            {"key": "ref", "citation": f"Cited <script>window.__pwned=3</script> {HOSTILE}"}
        ],
        raters=[{"id": "r", "name": "r"}],
        techniques=[
            {
                "id": "T0",
                "name": HOSTILE,
                "category": "c",
                "safety_tax": "low",
                "references": ["ref"],
            },
            {"id": "T1", "name": "plain", "category": "c", "safety_tax": "high"},
        ],
        failure_modes=[
            {
                "id": "M0",
                "name": "mode <b>bold</b>",
                "definition": "</script><script>window.__pwned=2</script>",
            },
            {"id": "M1", "name": "second"},
        ],
        ratings=[
            {"technique": t, "failure_mode": m, "level": "prone", "rater": "r"}
            for t in ("T0", "T1")
            for m in ("M0", "M1")
        ],
    )


def _open(browser: Any, tmp_path: Path, catalog: Catalog) -> tuple[Any, Any]:
    path = tmp_path / "form.html"
    path.write_text(render_rater_form(catalog, rater_id="alice"), encoding="utf-8")
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    assert page.get_attribute("#form-ready", "data-ready") == "1", (
        errors
    )  # the script ran (CSP allows it)
    return context, page


def test_catalog_html_shows_as_text_and_nothing_runs(page_factory, tmp_path):
    context, page = _open(page_factory, tmp_path, _hostile_catalog())
    try:
        assert page.evaluate("window.__pwned === undefined")
        assert page.locator("img").count() == 0 and page.locator("b").count() == 0
        body = page.inner_text("body")
        assert HOSTILE in body and "mode <b>bold</b>" in body
        assert "</script><script>window.__pwned=2</script>" in body
        assert "<script>window.__pwned=3</script>" in body
        assert page.locator("script").count() == 2  # the JSON data block and the form's own script
    finally:
        context.close()


def test_fill_in_save_and_validate_the_file(page_factory, tmp_path):
    catalog = _hostile_catalog()
    context, page = _open(page_factory, tmp_path, catalog)
    try:
        first = page.locator('[data-technique="T0"][data-mode="M0"]')
        first.locator(".level").select_option("not_prone")
        first.locator(".probability").fill("0.15")
        first.locator(".confidence").select_option("high")
        first.locator(".rationale").fill('Quote " and colon: and\nnewline <i>x</i> #comment')
        second = page.locator('[data-technique="T1"][data-mode="M1"]')
        second.locator(".probability").fill("0.7")
        page.fill("#rater-name", 'Alice: "A" O\'Neil')
        with page.expect_download() as info:
            page.click("#save-yaml")
        download = info.value
        assert download.suggested_filename == "alice.yaml"
        saved = tmp_path / "alice.yaml"
        download.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        assert page.input_value("#output") == text
        rater_file = parse_rater_text(text, label="alice.yaml", catalog=catalog)
        assert rater_file.rater.name == 'Alice: "A" O\'Neil'
        cell = rater_file.cell("T0", "M0")
        assert cell is not None and cell.level.value == "not_prone" and cell.probability == 0.15
        assert cell.confidence.value == "high"
        assert cell.rationale == 'Quote " and colon: and\nnewline <i>x</i> #comment'
        assert rater_file.cell("T1", "M1").probability == 0.7
        assert rater_file.cell("T0", "M1").blank  # untouched cells stay blank
        assert rater_file.catalog.sha256 == catalog.content_hash
        with page.expect_download() as info:
            page.click("#save-json")
        json_text = Path(info.value.path()).read_text(encoding="utf-8")
        assert (
            parse_rater_text(json_text, label="alice.json", catalog=catalog).ratings
            == rater_file.ratings
        )
    finally:
        context.close()


def test_bad_input_is_refused_in_the_page(page_factory, tmp_path):
    context, page = _open(page_factory, tmp_path, _hostile_catalog())
    try:
        page.locator('[data-technique="T0"][data-mode="M1"] .probability').fill("1.5")
        page.fill("#rater-id", "9bad")
        page.click("#save-yaml")
        status = page.inner_text("#status")
        assert "Not saved" in status and "rater id" in status and "T0 x M1" in status
        assert page.input_value("#output") == ""
    finally:
        context.close()
