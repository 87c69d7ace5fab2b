"""A backup carries the secret key that signs the links in emails: an unsubscribe link from
an email sent before the backup works on the site restored from it, on the other database
(real `clarion backup`, `clarion restore` and `clarion serve` processes, a real SMTP server)."""

import re
import stat
import tarfile
import urllib.parse
import urllib.request

import pytest

from tests.newsletter.smtpsink import SMTPSink
from tests.server import clarion_env, fetch, serving

from .sites import clarion, fresh_postgres_database, python

pytestmark = pytest.mark.slow

# The data folder's own generated key, not the test run's CLARION_SECRET_KEY.
OWN_KEY = {"CLARION_SECRET_KEY": ""}

SEND = """
from django.utils import timezone
from clarion.newsletter import services as newsletter
from clarion.newsletter.models import Issue, Subscriber
from clarion.newsletter.sending import fan_out, send_batch
from clarion.posts import services
from clarion.posts.models import Post
evidence = newsletter.Evidence(page="/subscribe/", wording="Subscribe", ip="203.0.113.9")
newsletter.subscribe_request(email="reader@example.org", category_ids=[], evidence=evidence)
newsletter.subscriber_confirm(subscriber=Subscriber.objects.get(), evidence=evidence)
post = Post.objects.create(
    title="Sent before the backup", slug="sent-before", body="Words.",
    status=Post.Status.PUBLISHED, published_at=timezone.now(),
)
services.post_saved(post=post, was_live=False)
issue = Issue.objects.get(post=post)
fan_out(issue_id=issue.pk)
print(send_batch(issue_id=issue.pk))
"""

STATUS = """
from clarion.newsletter.models import Subscriber
print(Subscriber.objects.get(email="reader@example.org").status)
"""


def unsubscribe_path(message) -> str:
    header = message["List-Unsubscribe"]
    url = re.fullmatch(r"<([^>]+)>", header.strip()).group(1)
    path = urllib.parse.urlsplit(url).path
    assert path.startswith("/newsletter/unsubscribe/") or "/unsubscribe/" in path
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert path in text  # the link in the body is the same one
    return path


def post_form(url: str, fields: dict) -> int:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_unsubscribe_link_sent_before_a_backup_works_after_restoring_on_postgresql(tmp_path):
    pg_url = fresh_postgres_database("h_backup")
    source = tmp_path / "source"
    with SMTPSink() as sink:
        mail = {**OWN_KEY, "CLARION_EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}
        clarion(source, "manage", "migrate", "-v0", **mail)
        assert python(source, SEND, **mail).strip() == "1"
        [message] = sink.wait_for(1)
    path = unsubscribe_path(message)

    archive = tmp_path / "site.tar.gz"
    result = clarion(source, "backup", archive, **OWN_KEY)
    assert "secret key" in result.stdout
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        member = tar.getmember("secret_key")
        assert stat.S_IMODE(member.mode) == 0o600
        assert tar.extractfile(member).read().decode() == (source / "secret_key").read_text()

    # An empty data folder on PostgreSQL: its first command generates a key of its own.
    target = tmp_path / "restored"
    result = clarion(target, "restore", archive, database_url=pg_url, **OWN_KEY)
    assert "secret key is installed" in result.stdout
    assert (target / "secret_key").read_text() == (source / "secret_key").read_text()
    assert stat.S_IMODE((target / "secret_key").stat().st_mode) == 0o600

    env = clarion_env(target, DATABASE_URL=pg_url, **OWN_KEY)
    with serving(env=env) as site:
        status, _, page = fetch(site.url + path)
        assert status == 200, page
        assert "reader@example.org" in page
        assert post_form(site.url + path, {"List-Unsubscribe": "One-Click"}) == 200
    assert python(target, STATUS, pg_url, **OWN_KEY).strip() == "unsubscribed"


def restore_refused(site, archive, *args, **env):
    result = clarion(site, "restore", archive, *args, check=False, **env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_different_secret_key_in_use_is_replaced_or_kept_only_when_asked(tmp_path):
    source = tmp_path / "source"
    clarion(source, "manage", "migrate", "-v0", **OWN_KEY)
    python(source, SEND, **OWN_KEY)
    archive = tmp_path / "site.tar.gz"
    clarion(source, "backup", archive, **OWN_KEY)
    backup_key = (source / "secret_key").read_text()

    other = tmp_path / "other"
    clarion(other, "manage", "migrate", "-v0", **OWN_KEY)
    python(
        other,
        "from clarion.posts.models import Post\nPost.objects.create(title='Here', slug='here')",
        **OWN_KEY,
    )
    own_key = (other / "secret_key").read_text()
    assert own_key != backup_key

    message = restore_refused(other, archive, "--force", **OWN_KEY)
    assert "secret key" in message and "--replace-secret-key" in message
    assert "--keep-secret-key" in message
    assert (other / "secret_key").read_text() == own_key
    assert "here" in python(
        other,
        "from clarion.posts.models import Post\nprint(list(Post.objects.values_list('slug')))",
    )

    # A key set in the environment wins over the file: writing the file would not help.
    message = restore_refused(
        tmp_path / "empty", archive, CLARION_SECRET_KEY="set-by-the-operator-" + "z" * 40
    )
    assert "CLARION_SECRET_KEY" in message and "set-by-the-operator" not in message

    result = clarion(other, "restore", archive, "--force", "--keep-secret-key", **OWN_KEY)
    assert "own secret key was kept" in result.stdout
    assert (other / "secret_key").read_text() == own_key

    result = clarion(other, "restore", archive, "--force", "--replace-secret-key", **OWN_KEY)
    assert "secret key is installed" in result.stdout
    assert (other / "secret_key").read_text() == backup_key
