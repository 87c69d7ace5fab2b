import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LETTER = "/2021/07/19/letter-to-the-foreign-secretary/"


@pytest.fixture
def demo(transactional_db):
    from clarion.posts.demo import load_demo

    load_demo()


def overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("path", ["/", LETTER])
def test_pages_fit_the_screen_without_errors(live_server, demo, open_page, tmp_path, path, width):
    page = open_page(live_server.url + path, width=width)
    assert overflow(page) <= 0, f"{path} overflows horizontally at {width}px"
    assert page.problems == []
    assert page.locator("main h1, main h2").first.is_visible()
    name = f"{'home' if path == '/' else 'letter'}-{width}.png"
    page.screenshot(path=tmp_path / name, full_page=True)
    assert (tmp_path / name).stat().st_size > 10_000


def test_the_reference_post_reads_and_shares_in_a_browser(live_server, demo, open_page):
    page = open_page(live_server.url + LETTER, width=375)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Letter to the Foreign")
    assert page.get_by_role("link", name="Uncategorized").first.is_visible()
    share = page.get_by_role("region", name="Share This")
    for label in ("X", "Facebook", "LinkedIn", "WhatsApp", "Telegram", "Bluesky", "Mastodon"):
        assert share.get_by_role("link", name=label).is_visible(), label
    # Social icon links have accessible names, though only an icon shows.
    social = page.get_by_role("region", name="Social Media")
    assert social.get_by_role("link", name="Facebook").is_visible()
    # The skip link is the first thing a keyboard reaches, and it is visible when focused.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"


def test_the_copy_link_button_appears_with_javascript(live_server, demo, open_page):
    page = open_page(live_server.url + LETTER)
    assert page.locator(".copy-button").is_visible()


def test_searching_from_the_sidebar_goes_to_the_results_page(live_server, demo, open_page):
    page = open_page(live_server.url + "/")
    page.get_by_label("Search this site").fill("Shenyang")
    page.get_by_label("Search this site").press("Enter")
    page.wait_for_load_state("load")
    assert "/search/?q=Shenyang" in page.url
    first = page.locator("main h2 a").first
    assert first.inner_text().startswith("Letter to the Foreign Secretary")
    assert page.locator("main mark").first.inner_text() == "Shenyang"
    # A suggestion request still in flight when Enter leaves the page is cancelled, not failed.
    assert [p for p in page.problems if "/search/suggest/" not in p] == []
