from clarion.importers.models import WordPressObject
from clarion.posts.models import Post
from tests.importers.conftest import EDGE


def test_it_copies_media_and_rewrites_its_addresses(run_import, uploads, media_root, client):
    run_import(EDGE, "--uploads", uploads)
    post = Post.objects.get(slug="shortcodes-and-media")
    assert post.featured_image.name == "wp/2022/02/border.png"
    assert post.featured_image_alt == "The border at dawn"
    assert (media_root / "wp/2022/02/border.png").read_bytes() == (
        uploads / "2022/02/border.png"
    ).read_bytes()
    assert 'src="/media/wp/2022/02/border-300x200.png"' in post.body_html
    assert 'href="/media/wp/2022/02/border.png"' in post.body_html
    assert "<figcaption>The border, <em>at dawn</em></figcaption>" in post.body_html
    assert "edge.test/wp-content/uploads/2022/02/border" not in post.body
    # (The /media/ route fixes its folder when urls.py loads, so check the copy itself.)
    assert (media_root / "wp/2022/02/border-300x200.png").is_file()
    old = client.get("/wp-content/uploads/2022/02/border.png")
    assert (old.status_code, old.headers["Location"]) == (301, "/media/wp/2022/02/border.png")
    assert (
        WordPressObject.objects.get(kind="attachment", wp_id="30").file == "wp/2022/02/border.png"
    )


def test_missing_media_is_reported_not_fatal(run_import, uploads):
    output = run_import(EDGE, "--uploads", uploads)
    assert "media file not found in --uploads (the body keeps the old address) (2): " in output
    assert "2022/02/lost.png (attachment 31)" in output
    post = Post.objects.get(slug="shortcodes-and-media")
    assert 'src="https://edge.test/wp-content/uploads/2022/02/lost.png"' in post.body_html
    row = next(line for line in output.splitlines() if " attachments " in line)
    assert [int(n) for n in row.split("│")[2:6]] == [1, 0, 0, 1]


def test_without_an_uploads_folder_media_keeps_its_old_address(run_import, sample_wxr, media_root):
    output = run_import(sample_wxr)
    assert "media not copied: no --uploads folder given" in output
    post = Post.objects.get(slug="photographs-from-the-border")
    assert 'src="https://wxr-sample.test/wp-content/uploads/2021/07/shenyang.jpg"' in post.body_html
    assert not media_root.exists() or not any(media_root.rglob("*.jpg"))


def test_a_second_import_copies_nothing_again(run_import, uploads, media_root):
    run_import(EDGE, "--uploads", uploads)
    files = sorted(p.relative_to(media_root) for p in media_root.rglob("*") if p.is_file())
    run_import(EDGE, "--uploads", uploads)
    again = sorted(p.relative_to(media_root) for p in media_root.rglob("*") if p.is_file())
    assert again == files
    assert [str(p) for p in files] == ["wp/2022/02/border-300x200.png", "wp/2022/02/border.png"]


def test_it_never_reads_outside_the_uploads_folder(run_import, uploads, media_root, tmp_path):
    (tmp_path / "secret.txt").write_text("do not copy")
    export = tmp_path / "traversal.xml"
    export.write_text(
        EDGE.read_text(encoding="utf-8").replace(
            "https://edge.test/wp-content/uploads/2022/02/lost.png]]></wp:attachment_url>",
            "https://edge.test/wp-content/uploads/../secret.txt]]></wp:attachment_url>",
        ),
        encoding="utf-8",
    )
    output = run_import(export, "--uploads", uploads)
    assert "../secret.txt (attachment 31)" in output
    assert not any(p.name == "secret.txt" for p in media_root.rglob("*"))
