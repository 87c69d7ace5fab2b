"""The Content-Security-Policy in a real browser: pages load with no violation, and the
Mastodon share handoff (a form whose answer redirects to another site) still works."""

import pytest

from tests.helpers import clarion_env
from tests.server import free_port, serving

from .sites import python

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABLE_POST = """
from django.utils import timezone
from clarion.posts import services
from clarion.posts.models import Post
post = Post.objects.create(
    title="Figures", slug="figures", status="published",
    published_at=timezone.now() - timezone.timedelta(hours=1),
    body="| left | centre | right |\\n|:--|:-:|--:|\\n| 1 | 2 | 3 |\\n\\n## A heading\\n",
)
services.post_saved(post=post, was_live=False)
print(post.get_absolute_url())
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    site = tmp_path_factory.mktemp("browser") / "site"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clarion_env(site, CLARION_SITE_URL=base)
    with serving("--demo", "--workers", "1", "--no-worker", port=port, env=env, stop_timeout=30):
        table_url = python(site, TABLE_POST).strip()  # after --demo, which needs an empty site
        python(
            site,
            "from django.contrib.auth.models import User\n"
            "User.objects.create_superuser('ops-admin', '', 'a-long-test-password-9')\n",
        )
        yield {"base": base, "table_url": base + table_url}


@pytest.fixture
def page(browser, served):
    context = browser.new_context()
    page = context.new_page()
    page.console_messages_seen = []
    page.on("console", lambda m: page.console_messages_seen.append(f"{m.type}: {m.text}"))
    # Injected by the browser itself, so the page's policy does not block it.
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    yield page
    context.close()


def test_it_loads_the_home_page_and_posts_without_a_policy_violation(page, served):
    letter = served["base"] + "/2021/07/19/letter-to-the-foreign-secretary/"
    for url in (served["base"] + "/", letter, served["table_url"]):
        response = page.goto(url)
        assert response.status == 200
        page.wait_for_load_state("load")
        assert page.evaluate("window.__violations") == [], url
        # site.js ran (it carries the nonce): it reveals the copy button on posts.
        if url != served["base"] + "/":
            assert page.locator(".copy-button").is_visible()
    # The table's alignment styles were applied, not blocked.
    align = page.eval_on_selector("td:last-child", "td => getComputedStyle(td).textAlign")
    assert align == "right"
    assert not [m for m in page.console_messages_seen if "Content Security Policy" in m]
    # The JSON-LD data block is there, and is not something the policy reports.
    assert page.locator('script[type="application/ld+json"]').count() == 1


def test_it_hands_a_share_over_to_the_readers_mastodon_server(page, served):
    page.route(
        "https://mastodon.example/**",
        lambda route: route.fulfill(status=200, body="<p>shared</p>", content_type="text/html"),
    )
    letter = served["base"] + "/2021/07/19/letter-to-the-foreign-secretary/"
    page.goto(f"{served['base']}/share/mastodon/?url={letter}&text=Read+this")
    page.fill("#mastodon-server", "mastodon.example")
    page.click("button[type=submit]")
    page.wait_for_url("https://mastodon.example/share?**", timeout=10_000)
    assert "Read+this" in page.url or "Read%20this" in page.url
    assert not [m for m in page.console_messages_seen if "Content Security Policy" in m]


def test_it_keeps_the_admin_working_under_the_policy(page, served):
    base = served["base"]
    page.goto(base + "/admin/login/")
    page.fill("#id_username", "ops-admin")
    page.fill("#id_password", "a-long-test-password-9")
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/")
    for path in ("/admin/", "/admin/posts/post/", "/admin/posts/post/add/"):
        assert page.goto(base + path).status == 200
        page.wait_for_load_state("load")
        assert page.evaluate("window.__violations") == [], path
