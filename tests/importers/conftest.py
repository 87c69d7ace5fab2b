import io
from pathlib import Path

import pytest
from django.core.management import call_command

SAMPLE = Path("/work/shared/fixtures/wordpress-sample.xml")
FIXTURES = Path(__file__).parent / "fixtures"
EDGE = FIXTURES / "edge-cases.xml"


@pytest.fixture
def sample_wxr():
    if not SAMPLE.is_file():
        pytest.fail(f"{SAMPLE} is missing: the shared WordPress fixture is required")
    return SAMPLE


@pytest.fixture
def media_root(settings, tmp_path):
    """A fresh MEDIA_ROOT per test, so copied files never leak between tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def uploads(tmp_path):
    """A local copy of wp-content/uploads holding the files both exports mention
    (except edge-cases.xml's lost.png, which is missing on purpose)."""
    from PIL import Image

    root = tmp_path / "uploads"
    for rel, colour in [
        ("2021/07/shenyang.jpg", "grey"),
        ("2022/02/border.png", "red"),
        ("2022/02/border-300x200.png", "blue"),
    ]:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), colour).save(target)
    return root


@pytest.fixture
def run_import(db, media_root):
    """Run `clarion import wordpress` through call_command; returns its output."""

    def run(path, *args):
        out = io.StringIO()
        call_command("import_wordpress", str(path), *[str(a) for a in args], stdout=out)
        return out.getvalue()

    return run
