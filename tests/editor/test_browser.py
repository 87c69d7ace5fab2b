"""An author writes, illustrates, previews and publishes a post in a real Chromium."""

import time

import pytest

from clarion.posts.models import Post

from .conftest import PASSWORD, jpeg_with_gps


def wait_until(page, expression: str, timeout: float = 10.0):
    """Poll a JS expression with page.evaluate: Playwright's wait_for_function compiles
    its predicate with eval, which the site's Content-Security-Policy rightly refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.1)


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drop(page, name, data, mime, alt):
    """Drop a file onto the Markdown field, answering the alt-text question."""
    import base64

    transfer = page.evaluate_handle(
        """([name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            return transfer;
        }""",
        [name, base64.b64encode(data).decode(), mime],
    )
    page.once("dialog", lambda dialog: dialog.accept(alt))
    page.dispatch_event("#id_body", "drop", {"dataTransfer": transfer})


def sign_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/posts/post/add/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/posts/post/add/")


def test_an_author_writes_illustrates_previews_and_publishes(
    browser, live_server, make_user, tmp_path, settings
):
    # As if the newsletter had three confirmed subscribers: publishing must ask first.
    settings.CLARION_SUBSCRIBER_COUNT = "tests.editor.test_publishing.confirmed_subscribers_three"
    make_user("ada", "Author")
    photo = tmp_path / "card.jpg"
    photo.write_bytes(jpeg_with_gps(1800, 1000))
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "ada")

    page.fill("#id_title", "Letter on forced repatriation")
    page.fill("#id_body", "Dear Foreign Secretary,\n\nWe write about **fifty** escapees.\n")
    preview = page.locator(".clarion-preview")
    preview.locator("strong", has_text="fifty").wait_for()
    assert page.locator(".clarion-wordcount").inner_text() == "8 words"

    # The file field uploads at once and asks for the alt text.
    page.once("dialog", lambda dialog: dialog.accept("A red and blue test card"))
    page.set_input_files("#id_image_upload", str(photo))
    wait_until(
        page, "document.getElementById('id_body').value.includes('![A red and blue test card](')"
    )
    image = preview.locator("img[alt='A red and blue test card']")
    image.wait_for()
    assert "480w" in image.get_attribute("srcset")
    wait_until(
        page,
        "document.querySelector('.clarion-preview img') && "
        "document.querySelector('.clarion-preview img').naturalWidth > 0",
    )

    # Dropping files onto the text uploads them too; a non-image is refused with a reason.
    drop(page, "dropped.png", jpeg_with_gps(500, 300, "PNG"), "image/png", "A dropped chart")
    wait_until(page, "document.getElementById('id_body').value.includes('![A dropped chart](')")
    drop(page, "notes.png", b"just some text", "image/png", "Notes")
    page.locator(
        ".clarion-upload-status.clarion-error", has_text="“notes.png” is not an image"
    ).wait_for()
    page.screenshot(path=str(tmp_path / "editor-1280.png"), full_page=True)
    page.locator(".clarion-split").screenshot(path=str(tmp_path / "editor-split-1280.png"))

    page.click("input[name=_save_draft]")
    page.locator(".messagelist", has_text="saved").wait_for()
    post = Post.objects.get(title="Letter on forced repatriation")
    assert post.status == Post.Status.DRAFT
    assert "![A red and blue test card](" in post.body

    with context.expect_page() as opened:
        page.click("button[name=_preview]")
    preview_page = opened.value
    preview_page.wait_for_load_state()
    assert preview_page.url == base + post.get_preview_url()
    assert "Only signed-in staff can see it" in preview_page.content()
    assert preview_page.locator("h1.post-title").inner_text() == "Letter on forced repatriation"
    preview_page.screenshot(path=str(tmp_path / "preview-1280.png"), full_page=True)
    preview_page.close()

    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.click("input[name=_publish]")
    page.locator(".messagelist", has_text="is published").wait_for()
    page.screenshot(path=str(tmp_path / "published-1280.png"), full_page=True)
    assert questions == ["Publishing this post will email 3 subscribers. Go ahead?"]
    page.click("text=Revisions (3)")  # save draft, save for preview, publish
    page.locator("h2", has_text="Changes from").wait_for()
    page.screenshot(path=str(tmp_path / "revisions-1280.png"), full_page=True)

    home = context.new_page()
    home.goto(f"{base}/")
    home.click("text=Letter on forced repatriation")
    home.wait_for_load_state()
    public_image = home.locator(".post-body img").first
    assert public_image.get_attribute("alt") == "A red and blue test card"
    assert "1600w" in public_image.get_attribute("srcset")
    assert home.locator(".post-body img[alt='A dropped chart']").count() == 1
    wait_until(home, "[...document.querySelectorAll('.post-body img')].every(i => i.complete)")
    widths = home.evaluate(
        "[...document.querySelectorAll('.post-body img')].map(i => i.naturalWidth)"
    )
    assert len(widths) == 2 and all(w > 0 for w in widths)
    assert errors == []
    for name in ("editor-1280.png", "editor-split-1280.png", "preview-1280.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    context.close()


def test_the_editor_works_without_javascript(browser, live_server, make_user):
    make_user("cora", "Contributor")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    sign_in(page, live_server.url, "cora")
    page.fill("#id_title", "Written with scripts off")
    page.fill("#id_body", "Plain *words*.")
    page.click("input[name=_save_draft]")
    page.locator(".messagelist", has_text="saved").wait_for()
    post = Post.objects.get(title="Written with scripts off")
    assert (post.slug, post.status) == ("written-with-scripts-off", Post.Status.DRAFT)
    context.close()
