"""A real headless browser for tests: Debian's chromium driven by Playwright, launched once per module.

Tests that need it take the ``browser`` fixture (import it into the test module with
``from tests.browser_support import browser  # noqa: F401``) and call :func:`open_page`. Without
chromium they skip with the reason, except under CI (the ``CI`` environment variable set),
where the project's set-up installs it and a missing browser is a failure. No browser is ever
downloaded: Playwright is pointed at the system executable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """The system chromium, from ``DDRISK_CHROMIUM`` or the usual Debian names."""
    configured = os.environ.get("DDRISK_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for the whole test module; every test opens its own context."""
    executable = chromium_path()
    if executable is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class PageReport:
    """What happened while a page loaded: dialogs opened, errors thrown, requests made."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def evaluate(self, script: str) -> Any:
        return self.page.evaluate(script)


def open_page(browser: Any, html: str, *, settle_ms: int = 300) -> PageReport:
    """Load ``html`` from a file URL with network requests blocked and every event recorded.

    Dialogs are recorded and dismissed; any request other than ``data:``/``file:``/``about:`` is
    recorded and aborted, so a payload cannot reach out either. The page is given ``settle_ms``
    for timers and image errors to fire, then returned still open (its context closes with the
    browser).
    """
    import tempfile

    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    report = PageReport(page)

    def on_dialog(dialog: Any) -> None:
        report.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "file:", "about:")):
            route.continue_()
        else:
            report.requests.append(url)
            route.abort()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: report.page_errors.append(str(error)))
    page.route("**/*", on_route)
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as f:
        f.write(html)
        path = Path(f.name)
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(settle_ms)
        # Hover and click everything, so mouse-event handlers would fire if any existed.
        page.evaluate(
            """() => { for (const el of document.querySelectorAll('body *')) {
                for (const type of ['mouseover', 'click', 'focus']) {
                    el.dispatchEvent(new MouseEvent(type, {bubbles: true}));
                } } }"""
        )
        page.wait_for_timeout(50)
    finally:
        path.unlink(missing_ok=True)
    return report
