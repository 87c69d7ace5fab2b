"""WordPress bodies convert to Markdown that clarion.posts.markdown renders faithfully."""

import re

from clarion.importers.content import autop, convert
from clarion.posts.markdown import render


def rendered(body, **kwargs):
    return render(convert(body, **kwargs).markdown)


def squash(html):
    return re.sub(r">\s+<", "><", html).strip()


def test_it_drops_block_comments_and_keeps_the_blocks():
    body = (
        "<!-- wp:heading -->\n<h2>What the report found</h2>\n<!-- /wp:heading -->\n\n"
        '<!-- wp:paragraph {"align":"left"} -->\n<p>It recommends a <strong>dialo'
        "gue</strong>.</p>\n"
        "<!-- /wp:paragraph -->\n\n<!-- wp:list -->\n<ul><li>One</li><li>Two</li>"
        "</ul>\n<!-- /wp:list -->"
    )
    markdown = convert(body).markdown
    assert "wp:" not in markdown
    assert markdown == "## What the report found\n\nIt recommends a **dialogue**.\n\n- One\n- Two\n"
    html = rendered(body)
    assert '<h2 id="what-the-report-found">What the report found</h2>' in html
    assert "<p>It recommends a <strong>dialogue</strong>.</p>" in html
    assert "<ul>\n<li>One</li>\n<li>Two</li>\n</ul>" in html


def test_it_turns_classic_text_into_paragraphs_and_line_breaks():
    body = "My Lords, I beg to move.\n\nThis is classic text.\nA single line break stays a break."
    assert squash(rendered(body)) == (
        "<p>My Lords, I beg to move.</p><p>This is classic text.<br>\n"
        "A single line break stays a break.</p>"
    )


def test_it_keeps_an_address_block_line_by_line():
    body = "The Rt Hon Dominic Raab MP<br>\nKing Charles Street<br />\nLondon SW1A 2AH"
    html = rendered(body)
    assert html.count("<br>") == 2
    assert "King Charles Street" in html


def test_autop_leaves_block_elements_and_pre_alone():
    html = autop("Intro\n\n<ul>\n<li>a</li>\n</ul>\n\n<pre>x\n\ny</pre>\n\nEnd")
    assert html.startswith("<p>Intro</p>")
    assert "<p><ul>" not in html and "<pre>x\n\ny</pre>" in html
    assert html.rstrip().endswith("<p>End</p>")


def test_it_keeps_a_simple_table_as_a_markdown_table():
    body = (
        '<!-- wp:table --><figure class="wp-block-table"><table><thead><tr><th>Place</th>'
        "<th>Detained</th></tr></thead><tbody><tr><td>Shenyang</td><td>50 | more</td></tr>"
        "</tbody></table></figure><!-- /wp:table -->"
    )
    markdown = convert(body).markdown
    assert markdown.startswith("| Place | Detained |\n| --- | --- |\n| Shenyang | 50 \\| more |")
    html = squash(rendered(body))
    assert "<thead><tr><th>Place</th><th>Detained</th></tr></thead>" in html
    assert "<td>Shenyang</td><td>50 | more</td>" in html


def test_it_keeps_a_table_markdown_cannot_express_as_html():
    body = "<table><tr><td colspan='2'>Merged</td></tr><tr><td>a<br>b</td><td>c</td></tr></table>"
    html = squash(rendered(body))
    assert '<td colspan="2">Merged</td>' in html
    assert "<td>a<br>b</td>" in html


def test_it_turns_a_caption_shortcode_into_a_figure():
    body = (
        '[caption id="attachment_4" align="aligncenter" width="800"]<img class="wp-image-4" '
        'src="https://old.test/wp-content/uploads/2021/07/a.jpg" alt="A centre" width="800" '
        'height="533" /> The Shenyang <em>detention</em> centre[/caption]\n\nAfter.'
    )
    html = rendered(
        body,
        rewrite_url=lambda url: url.replace("https://old.test/wp-content/uploads/", "/media/wp/"),
    )
    assert squash(html) == (
        '<figure class="wp-caption aligncenter"><img alt="A centre" height="533" '
        'src="/media/wp/2021/07/a.jpg" width="800"><figcaption>The Shenyang <em>detention</em> '
        "centre</figcaption></figure><p>After.</p>"
    )


def test_it_keeps_an_image_block_with_its_caption():
    body = (
        '<!-- wp:image {"id":4} --><figure class="wp-block-image size-large"><img'
        ' src="https://x.test/a.jpg" '
        'alt="Alt" class="wp-image-4"/><figcaption>Caption</figcaption></figure><!-- /wp:image -->'
    )
    html = squash(rendered(body))
    assert (
        '<figure class="wp-block-image size-large"><img alt="Alt" src="https://x.test/a.jpg">'
        in html
    )
    assert "<figcaption>Caption</figcaption></figure>" in html


def test_it_turns_embeds_into_links():
    classic = "[embed]https://www.youtube.com/watch?v=dQw4w9WgXcQ[/embed]\n\nhttps://vimeo.com/1"
    html = rendered(classic)
    assert (
        '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ" rel="noopener noreferrer">' in html
    )
    assert '<a href="https://vimeo.com/1" rel="noopener noreferrer">https://vimeo.com/1</a>' in html
    block = (
        '<!-- wp:embed {"url":"https://youtu.be/x_y"} --><figure class="wp-block-'
        'embed is-type-video">'
        '<div class="wp-block-embed__wrapper">\nhttps://youtu.be/x_y\n</div><figcaption>The speech'
        "</figcaption></figure><!-- /wp:embed -->"
    )
    html = rendered(block)
    assert (
        '<a href="https://youtu.be/x_y" rel="noopener noreferrer">https://youtu.be/x_y</a>' in html
    )
    assert "<p>The speech</p>" in html
    iframe = '<p>Watch:</p><iframe src="https://www.youtube.com/embed/abc"></iframe>'
    assert 'href="https://www.youtube.com/embed/abc"' in rendered(iframe)


def test_it_reports_shortcodes_it_cannot_show_and_leaves_brackets_alone():
    result = convert('[contact-form-7 id="12"]\n\nA quote [sic] from [b]x[/b].')
    assert result.notes == ["shortcode [contact-form-7] kept as text", "shortcode [b] kept as text"]
    assert "[sic]" in render(result.markdown)


def test_it_makes_hostile_html_inert():
    body = (
        '<!-- wp:html --><script>document.title="pwned"</script>'
        '<p onclick="steal()">Click <a href="javascript:alert(1)">here</a> or '
        '<a href=" jav&#x09;ascript:alert(2)">there</a>.</p>'
        '<img src="x" onerror="alert(3)" alt="broken"><iframe src="javascript:alert(4)"></iframe>'
        "<style>body{display:none}</style><form><input name=password><button>Go</button></form>"
        '<svg onload="alert(5)"><circle r="1"/></svg>'
        '[caption]<img src="https://x.test/a.jpg" onerror="alert(8)"> <script>ale'
        "rt(9)</script>cap[/caption]"
        '<table><tr><td colspan="2" onmouseover="alert(7)">Merged</td></tr><tr><t'
        "d>a</td><td>b</td></tr></table>"
        "<!-- /wp:html -->"
    )
    html = rendered(body)
    lowered = html.lower()
    for bad in (
        "<script",
        "onclick",
        "onerror",
        "onload",
        "onmouseover",
        "javascript:",
        "<iframe",
        "<style",
        "<form",
        "<input",
        "<svg",
        "pwned",
        "alert(",
    ):
        assert bad not in lowered, bad
    assert "Click here or there." in html
    assert '<td colspan="2">Merged</td>' in html
    assert "<figcaption>cap</figcaption>" in html


def test_it_keeps_text_that_looks_like_markup_as_text():
    body = (
        "<p>1995. The year it began.</p><p>- not a list</p><p># not a heading</p>"
        "<p>Literal &lt;script&gt;alert(6)&lt;/script&gt; and *stars* and snake_c"
        "ase and [brackets].</p>"
        "<p>&amp;copy; is not ©</p>"
    )
    html = rendered(body)
    assert "<p>1995. The year it began.</p>" in html
    assert "<p>- not a list</p>" in html and "<p># not a heading</p>" in html
    assert (
        "Literal &lt;script&gt;alert(6)&lt;/script&gt; and *stars* and snake_case and [brackets]."
        in html
    )
    assert "<p>&amp;copy; is not ©</p>" in html
    assert "<ol" not in html and "<ul" not in html and "<h1" not in html


def test_it_rewrites_urls_through_the_callback():
    seen = []

    def rewrite(url):
        seen.append(url)
        return "/new" + url.removeprefix("https://old.test")

    html = rendered(
        '<p><a href="https://old.test/a/">A</a> <img src="https://old.test/b.png" alt="B"></p>',
        rewrite_url=rewrite,
    )
    assert seen == ["https://old.test/a/", "https://old.test/b.png"]
    assert 'href="/new/a/"' in html and 'src="/new/b.png"' in html


def test_it_builds_a_gallery_from_attachments():
    lookup = {1: ("/media/wp/a.jpg", "First"), 2: ("/media/wp/b.jpg", "Second")}
    result = convert('[gallery ids="1,2,3"]', attachment=lookup.get)
    html = render(result.markdown)
    assert '<img alt="First" src="/media/wp/a.jpg">' in html
    assert '<img alt="Second" src="/media/wp/b.jpg">' in html
    assert result.notes == ["gallery image 3 not available (no such attachment, or no file)"]
