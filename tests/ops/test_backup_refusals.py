"""`clarion restore` refuses damaged, altered, foreign and unwanted restores, and then the
site is exactly as it was."""

import io
import json
import tarfile

import pytest

from .sites import FILL, clarion, dump, python

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    clarion(source, "manage", "migrate", "-v0")
    python(source, FILL)
    path = tmp_path_factory.mktemp("archives") / "site.tar.gz"
    clarion(source, "backup", path)
    return path


def tampered_copy(archive, target):
    """The same archive with one post's title changed in data.jsonl, manifest untouched."""
    with tarfile.open(archive) as src, tarfile.open(target, "w:gz") as out:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == "data.jsonl":
                data = data.replace(b"Post 3 ", b"Post 3!")
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return target


def refused(site, path, *args):
    result = clarion(site, "restore", path, *args, check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_it_refuses_bad_archives_and_a_non_empty_site_without_changing_anything(archive, tmp_path):
    empty = tmp_path / "empty"
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert "damaged" in refused(empty, truncated)
    assert not (empty / "clarion.sqlite3").exists() or "posts" not in python(
        empty, "from django.db import connection\nprint(connection.introspection.table_names())"
    )

    site = tmp_path / "site"
    clarion(site, "restore", archive)
    before = dump(site)

    assert "damaged" in refused(site, truncated)
    message = refused(site, tampered_copy(archive, tmp_path / "tampered.tar.gz"))
    assert "checksum mismatch for data.jsonl" in message

    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    assert "not a Clarion backup" in refused(site, foreign)

    not_an_archive = tmp_path / "letter.txt"
    not_an_archive.write_text("Dear Foreign Secretary")
    assert "damaged or not a Clarion backup" in refused(site, not_an_archive)

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(evil, "w:gz") as out:
        for member in src:
            data = src.extractfile(member).read()
            if member.name.startswith("media/"):
                member.name = "media/../../escaped.png"
            out.addfile(member, io.BytesIO(data))
    assert "unsafe member" in refused(site, evil)
    assert not (tmp_path / "escaped.png").exists()

    assert "not empty" in refused(site, archive)
    assert "--force" in refused(site, archive)
    assert dump(site) == before


def test_it_replaces_a_non_empty_site_with_force(archive, tmp_path):
    site = tmp_path / "site"
    clarion(site, "manage", "migrate", "-v0")
    python(
        site,
        "from clarion.posts.models import Post\n"
        "Post.objects.create(title='Only here', slug='only-here')\n",
    )
    (site / "media").mkdir()
    (site / "media" / "stray.txt").write_text("not in the backup")
    result = clarion(site, "restore", archive, "--force")
    assert "Restored" in result.stdout
    restored = dump(site)
    slugs = {row["fields"]["slug"] for row in restored["tables"]["posts.post"]}
    assert "only-here" not in slugs and len(slugs) == 12
    assert "stray.txt" not in restored["media"]
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert set(restored["media"]) == {
        name.removeprefix("media/") for name in manifest["files"] if name.startswith("media/")
    }
