import io
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clarion.__main__ import Refusal, resolve
from clarion.posts.models import Author, Category, Post, Tag
from tests.helpers import clarion_env, run_clarion
from tests.server import serving

GOOD = """---
title: An open letter on detention
slug: open-letter-detention
date: 2024-02-03
categories: [Letters, Human rights]
tags: China
author: Lord David Alton
excerpt: We write about the detention centres.
status: published
---
Dear Minister,

We write to you.
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_command_maps_two_word_commands():
    assert resolve(["import", "wordpress", "x.xml"]).command == "import_wordpress"
    assert resolve(["import", "wordpress", "x.xml"]).args == ["x.xml"]
    assert resolve(["subscribers", "export"]).command == "subscribers_export"
    assert resolve(["serve", "--demo"]).args == ["--demo"]
    with pytest.raises(Refusal, match="unknown sub-command 'wordpres' .known: wordpress"):
        resolve(["import", "wordpres"])
    with pytest.raises(Refusal, match="unknown command 'migrate'"):
        resolve(["migrate"])


def test_publish_creates_then_updates_by_slug(db, tmp_path):
    path = write(tmp_path, "letter.md", GOOD)
    out = io.StringIO()
    call_command("publish", path, stdout=out)
    assert "created published post /2024/02/03/open-letter-detention/" in out.getvalue()
    post = Post.objects.get()
    assert post.title == "An open letter on detention"
    assert post.excerpt == "We write about the detention centres."
    assert sorted(c.name for c in post.categories.all()) == ["Human rights", "Letters"]
    assert [t.name for t in post.tags.all()] == ["China"]
    assert post.author == Author.objects.get(display_name="Lord David Alton")
    assert "<p>We write to you.</p>" in post.body_html

    write(tmp_path, "letter.md", GOOD.replace("We write to you.", "We write again."))
    out = io.StringIO()
    call_command("publish", path, stdout=out)
    assert "updated published post" in out.getvalue()
    assert Post.objects.count() == 1
    assert "We write again." in Post.objects.get().body_html
    assert Category.objects.count() == 2 and Tag.objects.count() == 1


BAD = [
    ("date: 2024-13-45", "letter.md:4: field 'date': not a date '2024-13-45'"),
    ("status: live", "letter.md:9: field 'status': unknown status 'live'"),
    ("title: ''", "letter.md:2: field 'title' is missing or empty"),
    ("colour: red", "letter.md:2: unknown field 'colour'"),
    ("slug: Not A Slug!", "letter.md:3: field 'slug'"),
    ("title: [unclosed", "letter.md:3: invalid YAML"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_publish_names_the_file_line_and_field_and_writes_nothing(db, tmp_path, change, message):
    key = change.split(":")[0]
    lines = GOOD.splitlines()
    if key in {"colour"}:
        lines.insert(1, change)
    else:
        lines = [change if line.startswith(key + ":") else line for line in lines]
    good = write(tmp_path, "good.md", GOOD.replace("open-letter-detention", "another"))
    bad = write(tmp_path, "letter.md", "\n".join(lines) + "\n")
    with pytest.raises(CommandError) as exc:
        call_command("publish", good, bad)
    assert str(exc.value).startswith(f"{tmp_path}/{message}")
    assert Post.objects.count() == 0


def test_publish_refuses_a_file_without_front_matter(db, tmp_path):
    path = write(tmp_path, "plain.md", "# Just a heading\n")
    with pytest.raises(CommandError, match=r"plain.md:1: expected front matter"):
        call_command("publish", path)


def test_publish_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("publish", str(tmp_path / "nope.md"))


def test_publish_refuses_two_files_with_one_slug(db, tmp_path):
    a = write(tmp_path, "a.md", GOOD)
    b = write(tmp_path, "b.md", GOOD)
    with pytest.raises(CommandError, match="slug 'open-letter-detention' is also used by"):
        call_command("publish", a, b)
    assert Post.objects.count() == 0


def test_a_scheduled_post_needs_a_date(db, tmp_path):
    text = GOOD.replace("status: published", "status: scheduled").replace("date: 2024-02-03\n", "")
    with pytest.raises(CommandError, match="a scheduled post needs a 'date'"):
        call_command("publish", write(tmp_path, "s.md", text))


@pytest.mark.slow
def test_the_cli_prints_one_line_and_exits_nonzero_on_bad_input(tmp_path):
    assert run_clarion(tmp_path, "manage", "migrate", "-v0").returncode == 0
    write(tmp_path, "bad.md", GOOD.replace("date: 2024-02-03", "date: yesterday"))
    result = run_clarion(tmp_path, "publish", "bad.md")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: bad.md:4: field 'date': not a date 'yesterday' "
        "(expected e.g. 2021-07-19 or 2021-07-19T09:30:00+01:00); nothing was saved"
    ]
    assert "Traceback" not in result.stderr


def test_createadmin_makes_a_superuser_with_an_author_profile(db, monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-and-unusual-passphrase\n"))
    call_command("createadmin", "--username", "office", "--password-stdin", stdout=io.StringIO())
    user = get_user_model().objects.get(username="office")
    assert user.is_superuser and user.is_staff
    assert user.check_password("a-long-and-unusual-passphrase")
    assert user.author_profile.display_name == "office"


def test_createadmin_refuses_a_weak_password(db, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("password\n"))
    with pytest.raises(CommandError, match="password: This password is too common"):
        call_command("createadmin", "--username", "office", "--password-stdin")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_serve_demo_migrates_loads_the_letter_and_prints_a_password_once(tmp_path: Path):
    log = tmp_path / "serve.log"
    with serving(
        "--demo", "--workers", "1", env=clarion_env(tmp_path), cwd=tmp_path, log=log
    ) as served:
        status, home = _get(served.url + "/")
        assert status == 200
        assert "Letter to the Foreign Secretary" in home
        status, post = _get(served.url + "/2021/07/19/letter-to-the-foreign-secretary/")
        assert status == 200 and "Yours sincerely," in post
        css = next(
            line.split('href="')[1].split('"')[0]
            for line in post.splitlines()
            if "stylesheet" in line
        )
        assert css.startswith("/static/clarion/site.") and css != "/static/clarion/site.css"
        assert _get(served.url + css)[0] == 200
        assert _get(served.url + "/no-such-page/")[0] == 404
    output = log.read_text()
    assert served.returncode == 0, output
    assert "as 'admin' with password: " in output
    assert "Traceback" not in output

    # The demo is loaded once: a non-empty site is left alone and no new password is made.
    again = run_clarion(tmp_path, "manage", "shell", "--no-imports", "-c",
                        "from clarion.posts.demo import load_demo; print(load_demo())")  # fmt: skip
    assert again.stdout.strip() == "None"


def test_publish_says_unchanged_and_saves_nothing_for_a_file_already_published(db, tmp_path):
    path = write(tmp_path, "letter.md", GOOD)
    call_command("publish", path, stdout=io.StringIO())
    before = Post.objects.get().updated_at
    out = io.StringIO()
    call_command("publish", path, stdout=out)
    assert out.getvalue() == (
        f"{path}: unchanged published post /2024/02/03/open-letter-detention/\n"
    )
    assert Post.objects.get().updated_at == before


def test_publish_says_unchanged_for_a_file_naming_no_categories(db, tmp_path):
    path = write(tmp_path, "letter.md", GOOD.replace("categories: [Letters, Human rights]\n", ""))
    call_command("publish", path, stdout=io.StringIO())
    out = io.StringIO()
    call_command("publish", path, stdout=out)
    assert ": unchanged published post" in out.getvalue()


def test_publish_says_when_a_scheduled_post_goes_out_in_the_site_time_zone(db, tmp_path):
    from clarion.posts.models import SiteSettings

    site = SiteSettings.load()
    site.time_zone = "Asia/Seoul"
    site.save()
    text = GOOD.replace("status: published", "status: scheduled").replace(
        "date: 2024-02-03", "date: 2099-05-01T09:30:00+00:00"
    )
    out = io.StringIO()
    call_command("publish", write(tmp_path, "later.md", text), stdout=out)
    assert out.getvalue().endswith(
        "created scheduled post /2099/05/01/open-letter-detention/, "
        "goes out 2099-05-01 18:30 Asia/Seoul time (UTC+0900)\n"
    )


def test_publish_names_every_refused_file_and_saves_none(db, tmp_path):
    good = write(tmp_path, "good.md", GOOD)
    bad = write(tmp_path, "bad.md", GOOD.replace("status: published", "status: live"))
    plain = write(tmp_path, "plain.md", "no front matter\n")
    with pytest.raises(CommandError) as exc:
        call_command("publish", good, bad, plain)
    lines = str(exc.value).splitlines()
    assert lines[0].startswith(f"{bad}:9: field 'status': unknown status 'live'")
    assert lines[1].startswith(f"{plain}:1: expected front matter")
    assert lines[2] == "nothing was saved (2 of 3 files refused)"
    assert Post.objects.count() == 0


def test_help_lists_clarions_commands_one_line_each(tmp_path):
    from clarion.__main__ import COMMANDS

    result = run_clarion(tmp_path, "--help")
    assert result.returncode == 0 and result.stderr == ""
    listed = [line.split("  ")[1] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert [name for name in listed if not name.startswith("-")] == [*COMMANDS, "manage"]
    assert "runserver" not in result.stdout  # Django's list is `clarion manage help`


@pytest.mark.parametrize(
    "group,subs", [("import", ["wordpress"]), ("subscribers", ["import", "export"])]
)
def test_two_word_commands_list_their_sub_commands(tmp_path, group, subs):
    result = run_clarion(tmp_path, group, "--help")
    assert result.returncode == 0, result.stderr
    for sub in subs:
        assert f"  {group} {sub}  " in result.stdout


@pytest.mark.slow
def test_every_command_has_help(tmp_path):
    from clarion.__main__ import COMMANDS

    for name in COMMANDS:
        result = run_clarion(tmp_path, *name.split(), "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert result.stdout.startswith(f"usage: clarion {name} "), name


def test_version_is_clarions_own(tmp_path):
    from importlib.metadata import version

    assert run_clarion(tmp_path, "--version").stdout == f"clarion {version('clarion')}\n"
    assert run_clarion(tmp_path, "publish", "--version").stdout.strip() == version("clarion")


@pytest.mark.slow
def test_createadmin_sets_up_a_new_data_folder_first(tmp_path):
    site = tmp_path / "new-site"
    result = run_clarion(
        tmp_path, "createadmin", "--username", "office", "--password-stdin",
        stdin="a-long-and-unusual-passphrase\n", CLARION_DATA_DIR=str(site),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "New database created.",
        "Created administrator 'office'. Sign in at /admin/.",
    ]
    backup = run_clarion(tmp_path, "backup", str(tmp_path / "b.tar.gz"), CLARION_DATA_DIR=str(site))
    assert backup.returncode == 0, backup.stderr
