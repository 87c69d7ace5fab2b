from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import connection

from clarion.importers.models import WordPressObject
from clarion.posts.models import Author, Category, Page, Post, Redirect, Tag
from clarion.posts.signals import post_published
from tests.importers.conftest import EDGE

LETTER_SLUG = "letter-to-the-foreign-secretary-on-the-forced-repatriation-of-north-korean-escapees"


def test_it_imports_posts_with_their_fields(run_import, sample_wxr):
    output = run_import(sample_wxr)
    assert "WordPress import" in output
    letter = Post.objects.get(slug=LETTER_SLUG)
    assert letter.title == (
        "Letter to the Foreign Secretary on the forced repatriation of North Korean escapees"
    )
    assert letter.status == Post.Status.PUBLISHED
    assert letter.published_at == datetime(2021, 7, 19, 13, 5, tzinfo=UTC)
    assert letter.get_absolute_url() == f"/2021/07/19/{LETTER_SLUG}/"
    assert letter.author.display_name == "David Alton" and letter.author.slug == "dalton"
    assert {c.slug for c in letter.categories.all()} == {"china", "north-korea"}
    assert {t.slug for t in letter.tags.all()} == {"china", "dominic-raab", "refugees"}
    assert letter.excerpt.startswith("In advance of the launch tomorrow")
    assert "<p>Dear Foreign Secretary,</p>" in letter.body_html
    assert "<p>King Charles Street</p>" in letter.body_html
    assert letter.sticky is False
    assert Post.objects.get(slug="about-this-campaign-pinned").sticky is True
    report = Post.objects.get(slug="appg-report-on-forced-repatriation-launched")
    assert report.author.display_name == "Timothy Cho"
    assert "<cite>Winston Churchill</cite>" in report.body_html


def test_it_imports_categories_with_their_hierarchy_and_tags(run_import, sample_wxr):
    run_import(sample_wxr)
    north_korea = Category.objects.get(slug="north-korea")
    assert north_korea.name == "North Korea" and north_korea.parent.slug == "human-rights"
    assert Category.objects.get(slug="china").parent.slug == "human-rights"
    assert Category.objects.get(slug="parliament").parent is None
    assert Tag.objects.get(slug="인권").name == "인권"
    assert Tag.objects.get(slug="declaration").name == "déclaration"
    assert Author.objects.count() == 2


def test_it_maps_statuses_and_reports_private_posts(run_import, sample_wxr):
    output = run_import(sample_wxr)
    draft = Post.objects.get(title="Draft: reply from the Foreign Office")
    assert draft.status == Post.Status.DRAFT and draft.published_at is None
    assert draft.slug == "draft-reply-from-the-foreign-office"
    scheduled = Post.objects.get(slug="scheduled-anniversary-statement")
    assert scheduled.status == Post.Status.SCHEDULED
    assert scheduled.published_at == datetime(2030, 7, 14, 8, 0, tzinfo=UTC)
    private = Post.objects.get(slug="private-note-to-the-group")
    assert private.status == Post.Status.DRAFT
    assert "private posts imported as drafts (1): post 14" in output
    assert set(Post.objects.live().values_list("pk", flat=True)) == set(
        Post.objects.filter(status=Post.Status.PUBLISHED).values_list("pk", flat=True)
    )


def test_it_gives_uncategorised_posts_the_default_category(run_import, sample_wxr, site):
    run_import(EDGE)
    post = Post.objects.get(title="Привет, мир")
    assert [c.pk for c in post.categories.all()] == [site.get_default_category().pk]


def test_it_imports_pages_at_their_old_paths(run_import, sample_wxr, client):
    run_import(sample_wxr)
    about = Page.objects.get(path="/about/")
    contact = Page.objects.get(path="/about/contact/")
    assert contact.parent == about and about.status == Page.Status.PUBLISHED
    response = client.get("/about/contact/")
    assert response.status_code == 200
    assert "Write to the House of Lords, London SW1A 0PW." in response.content.decode()
    assert client.get("/about").headers["Location"] == "/about/"


def test_it_does_not_serve_draft_pages(run_import, client):
    run_import(EDGE)
    team = Page.objects.get(title="Team")
    assert team.status == Page.Status.DRAFT and team.path == "/team/"
    assert client.get("/team/").status_code == 404


def test_it_serves_posts_with_non_ascii_slugs(run_import, sample_wxr, client):
    run_import(sample_wxr)
    post = Post.objects.get(slug="declaration-commune-북한-인권")
    response = client.get("/2021/04/01/declaration-commune-북한-인권/")
    assert response.status_code == 200
    assert "북한 인권에 관한 공동 성명." in response.content.decode()
    # WordPress's own (lower-case) percent-encoding of the same address
    encoded = "/2021/04/01/declaration-commune-%eb%b6%81%ed%95%9c-%ec%9d%b8%ea%b6%8c/"
    assert client.get(encoded).status_code == 200
    assert client.get("/tag/%ec%9d%b8%ea%b6%8c/").status_code == 200
    assert post.get_absolute_url().endswith("-%EB%B6%81%ED%95%9C-%EC%9D%B8%EA%B6%8C/")


def test_a_second_import_changes_nothing(run_import, sample_wxr, uploads):
    run_import(sample_wxr, "--uploads", uploads)
    before = {
        "posts": list(Post.objects.order_by("pk").values_list("pk", "updated_at", "body_html")),
        "pages": list(Page.objects.order_by("pk").values_list("pk", "updated_at")),
        "redirects": list(
            Redirect.objects.order_by("pk").values_list("pk", "old_path", "post", "target")
        ),
        "categories": list(Category.objects.order_by("pk").values_list("pk", "name", "parent")),
        "tags": Tag.objects.count(),
        "authors": Author.objects.count(),
        "mappings": list(WordPressObject.objects.order_by("pk").values_list("pk", "digest")),
    }
    output = run_import(sample_wxr, "--uploads", uploads)
    after = {
        "posts": list(Post.objects.order_by("pk").values_list("pk", "updated_at", "body_html")),
        "pages": list(Page.objects.order_by("pk").values_list("pk", "updated_at")),
        "redirects": list(
            Redirect.objects.order_by("pk").values_list("pk", "old_path", "post", "target")
        ),
        "categories": list(Category.objects.order_by("pk").values_list("pk", "name", "parent")),
        "tags": Tag.objects.count(),
        "authors": Author.objects.count(),
        "mappings": list(WordPressObject.objects.order_by("pk").values_list("pk", "digest")),
    }
    assert after == before
    for kind in ("posts", "pages", "redirects", "categories", "tags", "authors", "attachments"):
        row = next(line for line in output.splitlines() if f" {kind} " in line)
        created, updated = [int(n) for n in row.split("│")[2:4]]
        assert (created, updated) == (0, 0), row


def test_a_changed_export_updates_in_place_and_keeps_the_old_address(
    run_import, sample_wxr, tmp_path, client
):
    run_import(sample_wxr)
    count = Post.objects.count()
    changed = tmp_path / "changed.xml"
    changed.write_text(
        sample_wxr.read_text(encoding="utf-8")
        .replace("<![CDATA[speech-in-the-house-of-lords]]>", "<![CDATA[maiden-speech]]>")
        .replace("[CDATA[Speech in the House of Lords]]", "[CDATA[Maiden speech]]"),
        encoding="utf-8",
    )
    output = run_import(changed)
    assert Post.objects.count() == count
    post = Post.objects.get(slug="maiden-speech")
    assert post.title == "Maiden speech"
    row = next(line for line in output.splitlines() if " posts " in line)
    assert [int(n) for n in row.split("│")[2:4]] == [0, 1]
    response = client.get("/2021/05/11/speech-in-the-house-of-lords/")
    assert response.status_code == 301
    assert response.headers["Location"] == "/2021/05/11/maiden-speech/"


def test_a_dry_run_changes_nothing(run_import, sample_wxr, uploads, media_root):
    output = run_import(sample_wxr, "--dry-run", "--uploads", uploads)
    assert "Dry run: what the import would do" in output
    assert "Dry run: nothing was written." in output
    row = next(line for line in output.splitlines() if " posts " in line)
    assert int(row.split("│")[2]) == 10
    assert Post.objects.count() == 0
    assert Page.objects.count() == Redirect.objects.count() == Category.objects.count() == 0
    assert WordPressObject.objects.count() == 0
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_importing_announces_nothing(run_import, sample_wxr, django_capture_on_commit_callbacks):
    announced = []

    def receiver(sender, post, **kwargs):
        announced.append(post.pk)

    post_published.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run_import(sample_wxr)
    finally:
        post_published.disconnect(receiver)
    assert Post.objects.filter(status=Post.Status.PUBLISHED).count() == 7
    assert announced == []
    assert mail.outbox == []


def test_it_adopts_existing_terms_and_authors_instead_of_duplicating(run_import, sample_wxr, alice):
    existing = Category.objects.create(name="Parliament (ours)", slug="parliament")
    Author.objects.create(display_name="Tim C", slug="tcho")
    run_import(sample_wxr)
    assert Category.objects.filter(slug="parliament").count() == 1
    assert Category.objects.get(slug="parliament").name == "Parliament (ours)"
    assert Post.objects.get(slug="speech-in-the-house-of-lords").categories.get() == existing
    assert Author.objects.get(slug="tcho").display_name == "Tim C"


def test_it_never_overwrites_a_clarion_post_with_the_same_slug(run_import, make_post, sample_wxr):
    mine = make_post("Mine", slug=LETTER_SLUG, body="My own words.")
    run_import(sample_wxr)
    mine.refresh_from_db()
    assert mine.body == "My own words."
    imported = WordPressObject.objects.get(kind="post", wp_id="5").post
    assert imported.slug == f"{LETTER_SLUG}-2"


def test_it_reports_a_page_whose_address_clarion_already_uses(run_import, sample_wxr, tmp_path):
    export = tmp_path / "feed-page.xml"
    export.write_text(
        sample_wxr.read_text(encoding="utf-8").replace(
            "<link>https://wxr-sample.test/about/</link>",
            "<link>https://wxr-sample.test/feed/</link>",
        ),
        encoding="utf-8",
    )
    output = run_import(export)
    assert "pages at an address Clarion uses itself (change the path in the admin) (1): " in output
    assert Page.objects.filter(path="/feed/").exists()


def test_the_fixture_bodies_render_faithfully(run_import, sample_wxr, uploads, client):
    run_import(sample_wxr, "--uploads", uploads)
    table = Post.objects.get(slug="a-table-of-detention-centres").body_html
    assert "<th>Place</th>" in table and "<td>Tumen</td>" in table and "<td>50</td>" in table
    photo = Post.objects.get(slug="photographs-from-the-border").body_html
    assert '<figure class="wp-caption aligncenter"><img alt="A detention centre"' in photo
    assert 'src="/media/wp/2021/07/shenyang.jpg"' in photo
    assert "<figcaption>The Shenyang detention centre</figcaption></figure>" in photo
    assert "<p>Pictures taken by a researcher in 2020.</p>" in photo
    speech = Post.objects.get(slug="speech-in-the-house-of-lords")
    assert (
        "This is classic-editor text with auto paragraphs.<br>\nA single line" in speech.body_html
    )
    assert (
        '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ" rel="noopener noreferrer">'
        in speech.body_html
    )
    page = client.get(speech.get_absolute_url()).content.decode()
    assert "<p>My Lords, I beg to move.</p>" in page
    assert "[embed]" not in page and "wp:paragraph" not in page


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner statistics")
def test_an_import_leaves_the_planner_statistics_fresh(run_import, sample_wxr):
    # Otherwise the home page of a site imported with thousands of posts sorts them all
    # until the worker's hourly refresh (tests/ops/test_planner_statistics.py).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone()[0] == 0  # a new database has none
    run_import(sample_wxr)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'posts_post'")
        assert cursor.fetchone()[0] > 0
