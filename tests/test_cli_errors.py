"""Every Clarion command, run as the real `clarion` command, answers a missing data folder, a
bad URL setting and (serve) a busy port with one line on stderr and exit status 2.

The commands come from `clarion --help`, so a new command is covered when it is listed."""

from __future__ import annotations

import functools
import os
import socket
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import clarion_env, run_clarion

pytestmark = pytest.mark.slow

SECRET = "hunter2"


@functools.cache
def listed_commands() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "clarion", "--help"], capture_output=True, text=True, timeout=60
    )
    section = result.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line[2:].split("  ", 1)[0] for line in section.splitlines()]
    return [name for name in names if name != "manage"]  # Django's commands, as Django runs them


CREATES_SITE = {"serve", "createadmin", "restore"}


def assert_one_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    assert SECRET not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated SQLite site."""
    folder = tmp_path_factory.mktemp("site")
    assert run_clarion(folder, "manage", "migrate", "-v0").returncode == 0
    return folder


def test_the_help_lists_the_commands_this_file_runs():
    assert {"serve", "publish", "backup", "import wordpress", "subscribers import"} <= set(
        listed_commands()
    )


@pytest.mark.parametrize("name", listed_commands())
def test_a_missing_data_folder_is_one_line(tmp_path, name):
    # Under a file: a folder no command can create, so even serve must say so.
    (tmp_path / "a-file").write_text("")
    folder = tmp_path / "a-file" / "data"
    result = run_clarion(tmp_path, *name.split(), CLARION_DATA_DIR=str(folder))
    if name in CREATES_SITE:
        assert_one_line(result, f"CLARION_DATA_DIR: cannot create {folder}: Not a directory")
    else:
        assert_one_line(result, f"no Clarion site at {folder}")


@pytest.mark.parametrize("name", [n for n in listed_commands() if n not in CREATES_SITE])
def test_a_command_does_not_create_a_site_where_there_is_none(tmp_path, name):
    folder = tmp_path / "nothing-here"
    result = run_clarion(tmp_path, *name.split(), CLARION_DATA_DIR=str(folder))
    assert_one_line(result, f"no Clarion site at {folder}: start one with `clarion serve`")
    assert not folder.exists()
    # An existing folder without a database is no site either, and stays without one.
    folder.mkdir()
    result = run_clarion(tmp_path, *name.split(), CLARION_DATA_DIR=str(folder))
    assert_one_line(result, f"no Clarion site at {folder}")
    assert os.listdir(folder) == []


def test_restore_into_an_empty_folder_is_not_refused_as_no_site(tmp_path):
    folder = tmp_path / "new-server"
    result = run_clarion(
        tmp_path, "restore", str(tmp_path / "missing.tar.gz"), CLARION_DATA_DIR=str(folder)
    )
    assert "no Clarion site" not in result.stderr
    assert "Restore refused" in result.stderr or "CommandError" in result.stderr, result.stderr


BAD_SETTINGS = [
    ("DATABASE_URL", f"postgres://clarion:{SECRET}@127.0.0.1:1/clarion", "cannot connect"),
    ("CLARION_EMAIL_URL", "file:///dev/null/outbox", "cannot create the email outbox"),
    ("DATABASE_URL", f"postgress://clarion:{SECRET}@db.example/clarion", "cannot read"),
    ("CLARION_EMAIL_URL", f"smtp://clarion:{SECRET}@mail.example:25x", "the port is not"),
]


@pytest.mark.parametrize("name", listed_commands())
def test_a_bad_url_setting_is_one_line_naming_it(site, name):
    # The three runs at once: each is mostly Python starting up.
    with ThreadPoolExecutor(len(BAD_SETTINGS)) as pool:
        results = pool.map(
            lambda bad: run_clarion(site, *name.split(), **{bad[0]: bad[1]}), BAD_SETTINGS
        )
        for (variable, _, problem), result in zip(BAD_SETTINGS, results, strict=True):
            assert_one_line(result, f"clarion: {variable}: {problem}")


def test_serve_names_a_busy_port_and_the_flag_that_changes_it(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_clarion(tmp_path, "serve", "--port", str(port), timeout=60)
    line = assert_one_line(result, f"port {port} on 127.0.0.1 is already in use", "--port")
    assert "Traceback" not in result.stdout + line


def test_an_unreadable_data_folder_is_one_line(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0)
    # Root reads any folder: drop the two capabilities that let it, as a service user lacks.
    drop = (
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.getuid() == 0 else []
    )
    try:
        for name, path in [("publish", folder), ("serve", folder / "inside")]:
            result = subprocess.run(
                [*drop, sys.executable, "-m", "clarion", name],
                env=clarion_env(path),
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp_path,
            )
            assert_one_line(result, "CLARION_DATA_DIR: cannot", str(path), "Permission denied")
    finally:
        folder.chmod(0o700)


def test_a_postgresql_database_without_migrations_is_no_site(tmp_path):
    from tests.ops.sites import fresh_postgres_database

    url = fresh_postgres_database("h_cli_nosite")
    result = run_clarion(tmp_path, "publish", "post.md", DATABASE_URL=url)
    assert_one_line(result, "no Clarion site at the postgresql database 'h_cli_nosite'")
    import psycopg

    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_a_sqlite_file_without_migrations_is_no_site_and_is_left_alone(tmp_path):
    database = tmp_path / "clarion.sqlite3"
    sqlite3.connect(database).close()
    result = run_clarion(tmp_path, "backup", str(tmp_path / "b.tar.gz"))
    assert_one_line(result, f"no Clarion site at {tmp_path}")
    assert database.stat().st_size == 0


def test_url_errors_never_show_the_password():
    from clarion.lib import config

    for call in (
        lambda: config.database_settings(f"mysqll://u:{SECRET}@h/db"),
        lambda: config.database_settings(f"postgres://u:{SECRET}@h:port/db"),
        lambda: config.email_settings(f"smtpx://u:{SECRET}@h/?api_key={SECRET}", None),
        lambda: config.email_settings(f"smtp://u:{SECRET}@h/?timeout=soon", None),
        lambda: config.cache_settings(f"memcached://u:{SECRET}@h"),
    ):
        with pytest.raises(SystemExit) as exc:
            call()
        assert SECRET not in str(exc.value.code)
        assert str(exc.value.code).split(":")[0] in {
            "DATABASE_URL", "CLARION_EMAIL_URL", "CLARION_CACHE_URL"
        }  # fmt: skip
