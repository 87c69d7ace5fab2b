"""Share links built from a post's absolute URL and title: plain links, no third-party
script, no counters."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.urls import reverse


def share_links(url: str, title: str) -> list[dict[str, str]]:
    text = f"{title} {url}"
    return [
        {"key": "x", "label": "X", "url": "https://x.com/intent/post?" + urlencode(
            {"text": title, "url": url})},
        {"key": "facebook", "label": "Facebook",
         "url": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})},
        {"key": "linkedin", "label": "LinkedIn",
         "url": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})},
        {"key": "whatsapp", "label": "WhatsApp",
         "url": "https://wa.me/?" + urlencode({"text": text})},
        {"key": "telegram", "label": "Telegram",
         "url": "https://t.me/share/url?" + urlencode({"url": url, "text": title})},
        {"key": "bluesky", "label": "Bluesky",
         "url": "https://bsky.app/intent/compose?" + urlencode({"text": text})},
        # Mastodon has no central server: ask the reader for theirs first.
        {"key": "mastodon", "label": "Mastodon",
         "url": reverse("posts:share_mastodon") + "?" + urlencode({"url": url, "text": title})},
        {"key": "email", "label": "Email",
         "url": f"mailto:?subject={quote(title)}&body={quote(text)}"},
    ]  # fmt: skip
