import pytest


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
