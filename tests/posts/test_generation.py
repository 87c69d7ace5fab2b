"""The content generation on SQLite: read from shared memory, fresh across processes at once.

clarion/web/generation.py: whoever bumps the generation stores it in a file beside the
database, mapped into every process, as the transaction commits; requests read that instead
of querying, and each thread checks it against the database once a second.
"""

import os
import time

import pytest
from django.conf import settings

from clarion.web import generation
from clarion.web.generation import SharedCounter
from clarion.web.models import ContentGeneration
from tests.server import clarion, clarion_env, fetch, free_port, run_clarion, stop, wait_for_http


def test_two_mappings_of_the_file_see_each_others_stores(tmp_path):
    path = str(tmp_path / "db-generation")
    first, second = SharedCounter(path), SharedCounter(path)
    assert first.read() == second.read() == 0  # a new file means "not known yet"
    assert first.store(lambda: 41) == 41
    assert second.read() == 41
    second.store(lambda: 7)  # a restored backup may go back: the database is the truth
    assert first.read() == 7
    # Opening it again (another process starting) keeps the value.
    assert SharedCounter(path).read() == 7


@pytest.fixture
def shared_counter(tmp_path, monkeypatch):
    """This process's counter on a file of the test's own (the test database is in memory,
    where there is no file to put it beside)."""
    counter = SharedCounter(str(tmp_path / "db-generation"))
    monkeypatch.setattr(generation, "_shared_counter", lambda wrapper: counter)
    monkeypatch.setattr(generation._state, "verified_at", float("-inf"))
    return counter


@pytest.mark.django_db(transaction=True)
def test_a_request_reads_the_shared_value_and_checks_the_database_once_a_second(
    shared_counter, monkeypatch
):
    ContentGeneration.bump()
    assert shared_counter.read() == 1  # stored as the bump committed
    assert generation.current_generation() == 1

    # The row changes behind Clarion's back (no hook ran): requests keep the shared value
    # until this thread's next check against the database...
    ContentGeneration.objects.filter(pk=1).update(value=5)
    assert generation.current_generation() == 1
    # ...which is due a second after the last one; it corrects the shared value.
    monkeypatch.setattr(generation._state, "verified_at", time.monotonic() - 1.01)
    assert settings.CLARION_GENERATION_CHECK_SECONDS == 1
    assert generation.current_generation() == 5
    assert shared_counter.read() == 5


@pytest.mark.django_db(transaction=True)
def test_the_shared_value_is_stored_only_when_the_transaction_commits(shared_counter):
    from django.db import transaction

    ContentGeneration.bump()
    with pytest.raises(RuntimeError), transaction.atomic():
        ContentGeneration.bump()
        # Inside the transaction its own bump is seen: the database is read, not the file.
        assert generation.current_generation() == 2
        assert shared_counter.read() == 1
        raise RuntimeError("rolled back")
    assert shared_counter.read() == 1
    assert generation.current_generation() == 1
    with transaction.atomic():
        ContentGeneration.bump()
    assert shared_counter.read() == 2


@pytest.mark.slow
def test_a_post_published_by_another_process_is_fresh_on_every_web_process_at_once(
    tmp_path, data_dir
):
    """Two web processes on one SQLite file; `clarion publish` (a third process) adds a
    post; the very next request to either process shows it. The servers never check the
    file against the database here (an hour apart), so the fresh page can only come from
    the value `clarion publish` stored as it committed."""
    env = clarion_env(data_dir, CLARION_GENERATION_CHECK_SECONDS="3600")
    run_clarion("manage", "migrate", "-v", "0", env=env)
    first = tmp_path / "first.md"
    first.write_text("---\ntitle: The first letter\nauthor: Ada\n---\n\nText.\n")
    run_clarion("publish", str(first), env=env)

    port = free_port()
    log = tmp_path / "serve.log"
    serve = ("serve", "--no-worker", "--workers", "2", "--port", str(port))
    server = clarion(*serve, env=env, log=log)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url)
        # Both processes hold the home page (each keeps its own copy of pages it served).
        answers = [fetch(url) for _ in range(8)]
        assert "hit" in {headers["X-Clarion-Cache"] for _, headers, _ in answers}
        assert not any("The second letter" in body for _, _, body in answers)

        second = tmp_path / "second.md"
        second.write_text("---\ntitle: The second letter\nauthor: Ada\n---\n\nText.\n")
        run_clarion("publish", str(second), env=env)
        # Immediately, from whichever process answers, several times over.
        for _ in range(8):
            status, headers, body = fetch(url)
            assert status == 200
            assert "The second letter" in body

    finally:
        code = stop(server)
    assert code == 0, log.read_text()[-2000:]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_made_by_root_belongs_to_whoever_owns_the_database(tmp_path):
    database = tmp_path / "clarion.sqlite3"
    database.write_bytes(b"")
    os.chown(database, 4321, 4321)
    SharedCounter(str(tmp_path / "clarion.sqlite3-generation"), owner_of=str(database))
    made = (tmp_path / "clarion.sqlite3-generation").stat()
    assert (made.st_uid, made.st_gid) == (4321, 4321)
