"""How long an upload takes to check, strip and resize, and a live preview to render.

    .venv/bin/python bench/editor_images.py

Uses a throwaway data folder (SQLite). The reference for uploads is one plain Pillow
decode + re-encode of the same photo, measured in the same run.
"""

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["CLARION_DATA_DIR"] = tempfile.mkdtemp(prefix="clarion-bench-")
os.environ.setdefault("CLARION_SECRET_KEY", "bench-" + "x" * 50)
os.environ["DJANGO_SETTINGS_MODULE"] = "clarion.settings"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from PIL import Image  # noqa: E402

from clarion.editor import images  # noqa: E402
from clarion.posts import markdown  # noqa: E402

RUNS = 5


def photo(width=4000, height=3000) -> bytes:
    image = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 1.0, 1.2), 100).convert("RGB")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def median_seconds(fn, runs=RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    call_command("migrate", verbosity=0)
    data = photo()

    def reference():
        image = Image.open(io.BytesIO(data))
        image.load()
        image.save(io.BytesIO(), "JPEG", quality=85)

    def upload():
        images.store(SimpleUploadedFile("photo.jpg", data), alt="bench")

    ref = median_seconds(reference)
    ours = median_seconds(upload)
    print(f"photo: 4000x3000 JPEG, {len(data) / 1e6:.1f} MB, median of {RUNS}")
    print(f"  reference (Pillow decode + one re-encode): {ref * 1000:7.0f} ms")
    print(f"  clarion upload (verify, strip, 3 renditions, store): {ours * 1000:7.0f} ms")
    print(f"  ratio: {ours / ref:.2f}x")

    letter = (Path(markdown.__file__).parent / "demo" / "open-letter.md").read_text()
    render = median_seconds(lambda: markdown.render(letter), runs=201)
    print(
        f"live preview render of the reference letter ({len(letter)} bytes): "
        f"{render * 1000:.2f} ms median of 201"
    )


if __name__ == "__main__":
    main()
