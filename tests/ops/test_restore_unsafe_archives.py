"""`clarion restore` refuses an archive holding paths that climb out (`..`), absolute paths,
symbolic or hard links, special files, or a zip: one line on stderr, exit status 2, nothing
written outside the data folder and nothing left half-written inside it."""

import hashlib
import io
import json
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from .sites import clarion, python

pytestmark = pytest.mark.slow

EMPTY = """
from clarion.ops import sitedata
from django.conf import settings
from pathlib import Path
print(sitedata.content_rows(), len(sitedata.media_files(Path(settings.MEDIA_ROOT))))
"""


@pytest.fixture(scope="module")
def backup(tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    clarion(source, "manage", "migrate", "-v0")
    python(
        source,
        "from clarion.posts.models import Post\n"
        "Post.objects.create(title='Kept safe', slug='kept-safe', body='Words.')\n",
    )
    (source / "media").mkdir(exist_ok=True)
    (source / "media" / "photo.png").write_bytes(b"\x89PNG small")
    path = tmp_path_factory.mktemp("archives") / "site.tar.gz"
    clarion(source, "backup", path)
    return path


def repacked(backup, target, extra):
    """The real backup with ``extra`` members (TarInfo, bytes) added after data.jsonl, and
    listed in a rewritten manifest with their true checksums: only the member checks can
    refuse them."""
    with tarfile.open(backup) as src:
        members = [(m, src.extractfile(m).read()) for m in src]
    manifest = json.loads(dict((m.name, d) for m, d in members)["manifest.json"])
    with tarfile.open(target, "w:gz") as out:
        for member, data in members:
            if member.name == "manifest.json":
                continue
            out.addfile(member, io.BytesIO(data))
            if member.name == "data.jsonl":
                for info, payload in extra:
                    info.size = len(payload) if info.isfile() else 0
                    out.addfile(info, io.BytesIO(payload) if info.isfile() else None)
                    manifest["files"][info.name] = {
                        "sha256": hashlib.sha256(payload).hexdigest(),
                        "size": len(payload),
                    }
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
    return target


def member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, 0o644
    return info


def all_files(root):
    return {p: p.lstat().st_size for p in root.rglob("*")}


def outside_the(site, files):
    return {p: s for p, s in files.items() if p != site and site not in p.parents}


CASES = {
    "dot-dot": lambda out: [(member("media/../../escaped.txt"), b"escaped")],
    "leading-dot-dot": lambda out: [(member("../escaped.txt"), b"escaped")],
    "absolute": lambda out: [(member(str(out / "absolute.txt")), b"escaped")],
    "symlink-out-then-through-it": lambda out: [
        (member("media/link", tarfile.SYMTYPE, str(out)), b""),
        (member("media/link/through.txt"), b"escaped"),
    ],
    "relative-symlink-out": lambda out: [
        (member("media/up", tarfile.SYMTYPE, "../../.."), b""),
    ],
    "symlink-inside": lambda out: [
        (member("media/alias.png", tarfile.SYMTYPE, "photo.png"), b""),
    ],
    "hard-link-out": lambda out: [
        (member("media/hard", tarfile.LNKTYPE, str(out / "victim.txt")), b""),
    ],
    "hard-link-inside": lambda out: [
        (member("media/copy.jsonl", tarfile.LNKTYPE, "data.jsonl"), b""),
    ],
    "fifo": lambda out: [(member("media/pipe", tarfile.FIFOTYPE), b"")],
    "folder": lambda out: [(member("media/sub", tarfile.DIRTYPE), b"")],
}


@pytest.mark.parametrize("case", CASES)
def test_it_refuses_an_archive_with_unsafe_members_and_writes_nothing(backup, tmp_path, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("must stay as it is")
    archive = repacked(backup, tmp_path / "evil.tar.gz", CASES[case](outside))
    site = tmp_path / "site"
    before = all_files(tmp_path)

    result = clarion(site, "restore", archive, check=False)

    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "unsafe member" in line and "Traceback" not in line
    after = all_files(tmp_path)
    assert outside_the(site, after) == before
    assert (outside / "victim.txt").read_text() == "must stay as it is"
    assert not list(site.glob(".clarion-restore-*"))
    assert python(site, EMPTY).split() == ["{}", "0"]


def test_it_refuses_a_zip_with_climbing_paths_and_writes_nothing(backup, tmp_path):
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escaped.txt", "escaped")
        zf.writestr("/tmp/absolute-escaped.txt", "escaped")
        with tarfile.open(backup) as tar:
            zf.writestr("manifest.json", tar.extractfile("manifest.json").read())
    site = tmp_path / "site"
    before = all_files(tmp_path)

    result = clarion(site, "restore", archive, check=False)

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "a zip file, not a Clarion backup" in line
    assert not Path("/tmp/absolute-escaped.txt").exists()
    assert outside_the(site, all_files(tmp_path)) == before
    assert not list(site.glob(".clarion-restore-*"))


def test_the_same_archive_without_the_unsafe_member_restores(backup, tmp_path):
    archive = repacked(backup, tmp_path / "plain.tar.gz", [(member("media/b.txt"), b"fine")])
    site = tmp_path / "site"
    clarion(site, "restore", archive)
    assert (site / "media" / "b.txt").read_bytes() == b"fine"
    assert (site / "media" / "photo.png").read_bytes() == b"\x89PNG small"
    # Restored media get the umask's mode, as uploads do: a web server may have to read them.
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((site / "media" / "b.txt").stat().st_mode) == 0o666 & ~umask
