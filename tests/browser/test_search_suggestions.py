"""The search box's suggestions in a real Chromium, under a strict Content-Security-Policy."""

import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def search_server(transactional_db):
    """A live server on a port of this app's range (8200-8299), like pytest-django's."""
    from pytest_django.live_server_helper import LiveServer

    for port in range(8200, 8300):
        try:
            server = LiveServer(f"127.0.0.1:{port}")
        except OSError:
            continue
        break
    else:
        pytest.fail("No free port in 8200-8299 for the live server")
    server._live_server_modified_settings.enable()
    yield server
    server._live_server_modified_settings.disable()
    server.stop()


CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"


@pytest.fixture
def letter(transactional_db):
    from clarion.posts.demo import load_demo
    from clarion.posts.models import Post

    load_demo()  # indexed on commit, through the signal handlers
    return Post.objects.get(slug="letter-to-the-foreign-secretary")


@pytest.fixture
def strict_page(browser):
    """A page whose every response carries a CSP allowing only this site's own scripts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))

    def add_csp(route):
        # Only a document's CSP applies; the suggestions' fetches go straight through. A
        # navigation can still cancel a document being fetched here (pressing Enter while
        # the results page loads): Playwright then refuses to fulfil it, which is no
        # failure of the page, and the test's own waits see what did load.
        if route.request.resource_type != "document":
            route.continue_()
            return
        try:
            response = route.fetch()
            route.fulfill(
                response=response, headers={**response.headers, "content-security-policy": CSP}
            )
        except PlaywrightError as error:
            if "disposed" not in str(error) and "closed" not in str(error):
                raise

    page.route("**/*", add_csp)
    yield page
    context.close()


def test_it_suggests_titles_and_opens_the_chosen_one(search_server, letter, strict_page):
    page = strict_page
    page.goto(search_server.url + "/", wait_until="load")
    box = page.get_by_role("combobox", name="Search this site")
    box.press_sequentially("letter to the for", delay=20)
    option = page.get_by_role("option")
    option.first.wait_for(state="visible", timeout=5000)
    assert option.all_inner_texts() == [letter.title]
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == option.first.get_attribute("id")
    box.press("Enter")
    page.wait_for_url(search_server.url + letter.get_absolute_url())
    assert page.problems == []


def test_escape_closes_the_suggestions_and_enter_still_searches(search_server, letter, strict_page):
    page = strict_page
    page.goto(search_server.url + "/", wait_until="load")
    box = page.get_by_role("combobox", name="Search this site")
    box.press_sequentially("lett", delay=20)
    page.get_by_role("option").first.wait_for(state="visible", timeout=5000)
    box.press("Escape")
    assert page.get_by_role("listbox").is_hidden()
    box.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/search/?q=lett"))
    results = page.locator(".search-hit")
    assert results.count() == 0  # "lett" is not a word; the page says what to try
    assert "No posts found" in page.content()
    box = page.get_by_role("combobox", name="Search the posts")
    box.fill("escapee")
    box.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/search/?q=escapee"))
    assert page.locator(".search-hit mark").first.inner_text().lower().startswith("escapee")
    assert page.problems == []
