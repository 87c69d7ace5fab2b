"""The backup archive: a gzipped tar holding data.jsonl (Django's portable serialisation,
which every restore reads), the native database file when on SQLite, media/…, secret_key
(what signs the links in emails already sent) and, last, manifest.json with the sha256 and
size of every other member. The archive file is readable by its owner only (0600)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath

FORMAT = "clarion-backup"
# 2 added secret_key. Version 1 archives still restore (their emails' links then break).
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
DATA = "data.jsonl"
SQLITE = "database.sqlite3"
SECRET_KEY = "secret_key"
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """The archive is damaged, foreign or unsafe; nothing was changed."""


class _HashingReader:
    def __init__(self, fh):
        self.fh, self.sha = fh, hashlib.sha256()

    def read(self, n=-1):
        data = self.fh.read(n)
        self.sha.update(data)
        return data


class ArchiveWriter:
    """Writes to a hidden temporary name beside ``path``; ``commit`` fsyncs and renames it
    into place, so ``path`` is either absent or a whole archive, even after a crash."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self.files: dict[str, dict] = {}
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # the archive holds the secret key: owner only, whatever umask
        self._raw = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._raw, mode="w:gz", compresslevel=5)

    def add_file(self, name: str, source: Path) -> None:
        with open(source, "rb") as fh:
            info = self._tar.gettarinfo(arcname=name, fileobj=fh)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o644
            reader = _HashingReader(fh)
            self._tar.addfile(info, reader)
        self.files[name] = {"sha256": reader.sha.hexdigest(), "size": info.size}

    def add_bytes(self, name: str, data: bytes, mode: int = 0o600) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(time.time()), mode
        self._tar.addfile(info, io.BytesIO(data))
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def commit(self, manifest: dict) -> None:
        manifest = {**manifest, "files": self.files}
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644

        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.partial, self.path)
        _fsync_dir(self.path.parent)

    def abort(self) -> None:
        for closer in (self._tar.close, self._raw.close):
            try:
                closer()
            except Exception:
                pass
        self.partial.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_partials(path: Path) -> None:
    """Delete temporary files left by backups to ``path`` whose process is gone."""
    for partial in Path(path).parent.glob(f".{Path(path).name}.*.partial"):
        try:
            pid = int(partial.name.rsplit(".", 2)[-2])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            partial.unlink(missing_ok=True)
        except PermissionError:
            pass  # alive, someone else's


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return False
    return name in (MANIFEST, DATA, SQLITE, SECRET_KEY) or (
        name.startswith(MEDIA_PREFIX) and len(path.parts) > 1
    )


def _check_member(archive: Path, member: tarfile.TarInfo, into: Path) -> None:
    """Refuse, before a byte of it is written, a member that is a link, a device or a
    folder, or whose name is absolute, climbs out with ``..`` or is not one Clarion writes.
    tarfile's own "data" filter (PEP 706) judges links and special files."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith("\\"):
        raise ArchiveError(f"{archive}: unsafe member {member.name!r}: an absolute path")
    if ".." in path.parts:
        raise ArchiveError(f"{archive}: unsafe member {member.name!r}: a path with '..'")
    try:
        tarfile.data_filter(member, str(into))
    except tarfile.FilterError as exc:
        raise ArchiveError(f"{archive}: unsafe member {member.name!r}: {exc}") from None
    if not member.isfile():
        kind = "a link" if member.issym() or member.islnk() else "not a regular file"
        raise ArchiveError(f"{archive}: unsafe member {member.name!r}: {kind}")
    if not _safe_member_name(member.name):
        raise ArchiveError(f"{archive}: unexpected member {member.name!r}: not a Clarion backup")


def extract_and_verify(archive: Path, into: Path) -> dict:
    """Extract ``archive`` into the empty folder ``into`` and check it against its manifest.

    Returns the manifest. Raises ArchiveError naming the problem (and the member).
    """
    archive = Path(archive)
    if not archive.is_file():
        raise ArchiveError(f"{archive}: no such file")
    if zipfile.is_zipfile(archive):
        raise ArchiveError(
            f"{archive}: a zip file, not a Clarion backup (a .tar.gz from `clarion backup`)"
        )
    found: dict[str, dict] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                _check_member(archive, member, into)
                if member.name in found or (member.name == MANIFEST and manifest_bytes):
                    raise ArchiveError(f"{archive}: member {member.name!r} appears twice")
                source = tar.extractfile(member)
                if member.name == MANIFEST:
                    manifest_bytes = source.read(10 * CHUNK)
                    continue
                target = into / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                sha = hashlib.sha256()
                size = 0
                # O_EXCL: never write through a file or link that is already there. Media
                # get the umask's mode, as uploads do (a web server may serve them).
                mode = 0o600 if member.name == SECRET_KEY else 0o666
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
                with os.fdopen(fd, "wb") as out:
                    while chunk := source.read(CHUNK):
                        sha.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                found[member.name] = {"sha256": sha.hexdigest(), "size": size}
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ArchiveError(
            f"{archive}: damaged or not a Clarion backup (truncated or corrupt: {exc})"
        ) from None
    if manifest_bytes is None:
        raise ArchiveError(f"{archive}: no {MANIFEST}: truncated, or not a Clarion backup")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        raise ArchiveError(f"{archive}: {MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{archive}: not a Clarion backup (manifest format is not {FORMAT})")
    if manifest.get("format_version") not in READABLE_VERSIONS:
        raise ArchiveError(
            f"{archive}: backup format version {manifest.get('format_version')!r}; this "
            f"Clarion reads versions {', '.join(map(str, READABLE_VERSIONS))} (restore it "
            "with the version that made it)"
        )
    expected = manifest.get("files")
    if not isinstance(expected, dict) or DATA not in expected:
        raise ArchiveError(f"{archive}: {MANIFEST} lists no {DATA}")
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            raise ArchiveError(f"{archive}: {name} is listed in the manifest but missing")
        if name not in expected:
            raise ArchiveError(f"{archive}: {name} is not listed in the manifest")
        if found[name] != {
            "sha256": expected[name].get("sha256"),
            "size": expected[name].get("size"),
        }:
            raise ArchiveError(f"{archive}: checksum mismatch for {name}: the archive was altered")
    return manifest


def replace_folder_contents(target: Path, source: Path) -> None:
    """Make ``target`` hold exactly what ``source`` holds (source is consumed)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in list(target.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if source.is_dir():
        for entry in list(source.iterdir()):
            shutil.move(str(entry), str(target / entry.name))
