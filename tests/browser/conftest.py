import os
import shutil

import pytest

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CLARION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """Open a page at a given viewport width; collect console errors and failed requests."""
    contexts = []

    def open_(url: str, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on(
            "console",
            lambda msg: (
                page.problems.append(f"console {msg.type}: {msg.text}")
                if msg.type in {"error", "warning"}
                else None
            ),
        )
        page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: page.problems.append(f"request failed: {req.url}"))
        page.on(
            "response",
            lambda resp: (
                page.problems.append(f"HTTP {resp.status}: {resp.url}")
                if resp.status >= 400
                else None
            ),
        )
        page.goto(url, wait_until="load")
        return page

    yield open_
    for context in contexts:
        context.close()
