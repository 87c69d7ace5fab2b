"""Uploaded images: check them with Pillow, strip their metadata, make resized renditions.

An upload is trusted only after Pillow has parsed it twice (``verify()`` then a full decode);
everything stored is re-encoded from pixels, so no EXIF (camera, GPS position), XMP or
comment travels from the author's camera to the public site.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageOps, UnidentifiedImageError

from clarion.posts.markdown import rendition_widths

from .models import MediaItem

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# Decoding takes time and memory in proportion to the pixels of every frame: an upload may
# hold at most this many, frames x width x height, read from the header before any decoding.
# Measured (tests/editor/test_uploads.py): an animated GIF costs about 36 ms of CPU per
# megapixel-frame to decode and re-encode, so 60 frames at 3000x3000 took 42 s; at this cap
# the worst allowed upload took 2.6 s (a GIF of 40 frames at 1000x1000; a 40 MP PNG 1.1 s).
MAX_PIXELS = 40_000_000
# Originals larger than this (px, either side) are stored scaled down to it.
MAX_STORED_SIDE = 2560
# Metadata that may carry where and when a photo was taken, or by whom.
PRIVATE_INFO = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")


@dataclass
class CheckedImage:
    image: Image.Image
    format: str


def max_bytes() -> int:
    return settings.CLARION_MAX_UPLOAD_BYTES


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{max(1, round(n / 1024))} KB"


def _too_many_pixels(name: str, width: int, height: int, frames: int) -> ValidationError:
    size = f"{width}×{height} pixels"
    limit = f"{MAX_PIXELS // 1_000_000} megapixels"
    if frames > 1:
        message = (
            f"“{name}” has {frames} frames of {size}; an animation can have at most {limit} "
            f"in all its frames together. Use fewer or smaller frames."
        )
    else:
        message = f"“{name}” is {size}; images can be at most {limit}. Make it smaller."
    return ValidationError(message, code="too_many_pixels")


def check(upload) -> CheckedImage:
    """Return the decoded image, or raise ValidationError saying why it cannot be used."""
    name = getattr(upload, "name", "the file")
    if upload.size > max_bytes():
        raise ValidationError(
            f"“{name}” is {human_size(upload.size)}; images can be at most "
            f"{human_size(max_bytes())}. Make it smaller and upload it again.",
            code="too_large",
        )
    not_an_image = ValidationError(
        f"“{name}” is not an image Clarion can use. Upload a JPEG, PNG, WebP or GIF file.",
        code="not_an_image",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as probe:
                fmt = probe.format
                # n_frames reads the frames' headers only (Pillow's open is lazy).
                frames = getattr(probe, "n_frames", 1)
                if frames * probe.width * probe.height > MAX_PIXELS:
                    raise ValidationError(_too_many_pixels(name, probe.width, probe.height, frames))
                probe.verify()
            # verify() leaves the image unusable: open it again to decode the pixels.
            upload.seek(0)
            image = Image.open(upload)
            image.load()
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise not_an_image from None
    if fmt not in FORMATS:
        raise not_an_image
    return CheckedImage(image=image, format=fmt)


def _without_metadata(image: Image.Image) -> Image.Image:
    # Turn the pixels upright first: the orientation tag is about to be dropped.
    upright = ImageOps.exif_transpose(image)
    for key in PRIVATE_INFO:
        upright.info.pop(key, None)
    return upright


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=82, method=4)
    return out.getvalue()


def _encode_gif(image: Image.Image) -> bytes:
    out = io.BytesIO()
    frames = getattr(image, "n_frames", 1)
    # Re-encode every frame (keeps animation) with nothing but timing carried over.
    image.seek(0)
    image.save(
        out,
        "GIF",
        save_all=frames > 1,
        duration=image.info.get("duration", 100),
        loop=image.info.get("loop", 0),
        comment=b"",
    )
    return out.getvalue()


def clean_copy(upload) -> ContentFile:
    """The upload re-encoded without metadata, same size and format, for image fields
    (featured images, author photos) that keep a single file."""
    checked = check(upload)
    image = checked.image
    if checked.format == "GIF":
        for key in PRIVATE_INFO:
            image.info.pop(key, None)
        data = _encode_gif(image)
    else:
        data = _encode(_without_metadata(image), checked.format)
    stem = (getattr(upload, "name", "") or "image").rsplit(".", 1)[0]
    return ContentFile(data, name=f"{stem}.{FORMATS[checked.format]}")


def _base_name(original: str, ext: str) -> str:
    stem = slugify(original.rsplit(".", 1)[0])[:40].strip("-") or "image"
    folder = timezone.now().strftime("uploads/%Y/%m")
    while True:
        base = f"{folder}/{stem}-{secrets.token_hex(4)}"
        if not default_storage.exists(f"{base}.{ext}"):
            return base


def store(upload, *, user=None, alt: str = "", item: MediaItem | None = None) -> MediaItem:
    """Check ``upload``, store it stripped of metadata with its renditions, and return the
    saved MediaItem. Raises ValidationError for anything that is not a usable image."""
    checked = check(upload)
    fmt, ext = checked.format, FORMATS[checked.format]
    original_name = getattr(upload, "name", "") or f"image.{ext}"
    base = _base_name(original_name, ext)
    saved: list[str] = []
    try:
        if fmt == "GIF":
            # Resizing would drop the animation; GIFs are served as uploaded (re-encoded).
            image = checked.image
            for key in PRIVATE_INFO:
                image.info.pop(key, None)
            width, height = image.size
            saved.append(default_storage.save(f"{base}.{ext}", ContentFile(_encode_gif(image))))
            renditions = []
        else:
            image = _without_metadata(checked.image)
            # Like WordPress's "big image" threshold: nothing a page shows needs more, and
            # every later step is cheaper on the smaller copy.
            if max(image.size) > MAX_STORED_SIDE:
                image.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.LANCZOS)
            width, height = image.size
            saved.append(default_storage.save(f"{base}.{ext}", ContentFile(_encode(image, fmt))))
            renditions = []
            # Largest first, each resized from the previous one rather than the original.
            source = image
            for w in reversed(rendition_widths(width)):
                if w < source.width:
                    size = (w, max(1, round(height * w / width)))
                    source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
                name = default_storage.save(f"{base}-{w}w.{ext}", ContentFile(_encode(source, fmt)))
                saved.append(name)
                renditions.insert(0, [w, name])
        item = item or MediaItem()
        item.file = saved[0]
        item.alt_text = alt.strip()[:300]
        item.original_name = original_name[:255]
        item.format = fmt
        item.width, item.height = width, height
        item.size_bytes = default_storage.size(saved[0])
        item.renditions = renditions
        item.uploaded_by = user if user is not None and user.is_authenticated else None
        item.save()
        return item
    except Exception:
        for name in saved:
            default_storage.delete(name)
        raise
