from clarion.posts.markdown import render, rendition_widths


def test_rendition_widths_never_upscale():
    assert rendition_widths(2000) == [480, 960, 1600]
    assert rendition_widths(1600) == [480, 960, 1600]
    assert rendition_widths(700) == [480, 700]
    assert rendition_widths(300) == [300]


def test_uploaded_images_get_srcset_sizes_and_lazy_loading():
    html = render("![A beach](/media/uploads/2026/11/beach-0a1b2c3d-1600w.jpg)")
    assert 'src="/media/uploads/2026/11/beach-0a1b2c3d-1600w.jpg"' in html
    assert (
        'srcset="/media/uploads/2026/11/beach-0a1b2c3d-480w.jpg 480w, '
        "/media/uploads/2026/11/beach-0a1b2c3d-960w.jpg 960w, "
        '/media/uploads/2026/11/beach-0a1b2c3d-1600w.jpg 1600w"'
    ) in html
    assert 'sizes="' in html and 'loading="lazy"' in html


def test_smaller_uploads_list_only_the_widths_they_have():
    html = render("![x](https://cdn.example.org/media/uploads/2026/01/p-ab-700w.webp)")
    assert (
        'srcset="https://cdn.example.org/media/uploads/2026/01/p-ab-480w.webp 480w, '
        'https://cdn.example.org/media/uploads/2026/01/p-ab-700w.webp 700w"'
    ) in html


def test_other_images_are_left_alone():
    for src in ("https://example.org/a-480w.jpg", "/media/uploads/2026/11/a.gif"):
        html = render(f"![x]({src})")
        assert "srcset" not in html and "loading" not in html


def test_alt_text_cannot_forge_a_rendition_source():
    html = render('![ src="/media/uploads/2026/11/a-1600w.jpg"](https://example.org/b.jpg)')
    assert "srcset" not in html
