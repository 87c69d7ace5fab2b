import json
import logging
import os
import subprocess
import sys
import time

from hypothesis import example, given
from hypothesis import strategies as st

from clarion.web.logs import JsonFormatter, PlainFormatter, RedactFilter, RequestIdFilter, redact
from tests.helpers import clarion_env


def record(msg, *args, exc=None):
    rec = logging.LogRecord("clarion.test", logging.WARNING, __file__, 1, msg, args, exc)
    RequestIdFilter().filter(rec)
    RedactFilter().filter(rec)
    return rec


def test_it_redacts_addresses_and_tokens_from_messages_and_arguments():
    rec = record(
        "subscribe from %s via %s then %s",
        "Reader.Name+tag@example.co.uk",
        "/subscribe/confirm/MTI:1tX2ab:Zx9-secret/",
        "/unsubscribe/abc.DEF_123/?next=/",
    )
    line = PlainFormatter().format(rec)
    assert "example.co.uk" not in line and "Reader" not in line
    assert "Zx9-secret" not in line and "abc.DEF_123" not in line
    assert "/subscribe/confirm/[redacted]/" in line
    assert "/unsubscribe/[redacted]/?next=/" in line
    assert "[email]" in line


def test_it_redacts_percent_encoded_addresses_and_query_tokens():
    assert redact("GET /search/?q=sam%40example.org") == "GET /search/?q=[email]"
    assert redact("/x/?token=s3cr3t&page=2") == "/x/?token=[redacted]&page=2"
    assert redact("csrfmiddlewaretoken=abc; sessionid=def") == (
        "csrfmiddlewaretoken=[redacted]; sessionid=[redacted]"
    )


def test_it_redacts_tracebacks():
    try:
        raise ValueError("no subscriber sam@example.org for /unsubscribe/tok123/")
    except ValueError:
        rec = record("failed", exc=sys.exc_info())
    line = PlainFormatter().format(rec)
    assert "ValueError" in line
    assert "sam@example.org" not in line and "tok123" not in line
    assert "\n" not in line  # one line per event


def test_it_formats_json_lines():
    rec = record("sent to %s", "sam@example.org")
    data = json.loads(JsonFormatter().format(rec))
    assert data["message"] == "sent to [email]"
    assert data["level"] == "WARNING" and data["logger"] == "clarion.test"
    assert data["request_id"] == "-"


def test_it_gives_every_request_an_id_and_echoes_it(client, db, caplog):
    caplog.set_level(logging.INFO, logger="clarion.request")
    first = client.get("/")
    second = client.get("/")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
    reused = client.get("/", headers={"X-Request-ID": "lb-7f3a9c12-0001"})
    assert reused["X-Request-ID"] == "lb-7f3a9c12-0001"
    forged = client.get("/", headers={"X-Request-ID": "x\r\nInjected: yes"})
    assert forged["X-Request-ID"] != "x\r\nInjected: yes" and len(forged["X-Request-ID"]) == 32
    lines = [r for r in caplog.records if r.name == "clarion.request"]
    assert [r.request_id for r in lines] == [
        first["X-Request-ID"],
        second["X-Request-ID"],
        "lb-7f3a9c12-0001",
        forged["X-Request-ID"],
    ]


def test_it_logs_one_redacted_line_per_request_to_stdout_in_either_format(tmp_path):
    script = (
        "import os, django\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'clarion.settings'\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='127.0.0.1')\n"
        "c.get('/unsubscribe/tok-abc-123/', headers={'X-Request-ID': 'req-12345678'})\n"
        "c.get('/search/?q=sam%40example.org&token=zzz')\n"
        "import logging; logging.getLogger('clarion.x').error('bounce from sam@example.org')\n"
    )
    for fmt in ("plain", "json"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=clarion_env(
                tmp_path / fmt, CLARION_LOG_FORMAT=fmt, CLARION_LOG_LEVEL="INFO", CLARION_DEBUG=1
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "sam@example.org" not in out and "tok-abc-123" not in out and "zzz" not in out
        lines = [line for line in out.splitlines() if "clarion.request" in line]
        assert len(lines) == 2
        if fmt == "json":
            records = [json.loads(line) for line in out.splitlines()]
            access = [r for r in records if r["logger"] == "clarion.request"]
            assert access[0]["request_id"] == "req-12345678"
            assert access[0]["message"].startswith("GET /unsubscribe/[redacted]/ 404")
        else:
            assert "[req-12345678] GET /unsubscribe/[redacted]/ 404" in lines[0]


# Pieces of log text, among them every piece of what redact() looks for.
_PIECES = [
    *"/aZ9.-%@=?&; é",
    *"GET 40 confirm unsubscribe token TOKEN reset key sessionid x.org token= Key= a@".split(),
    *"%40 a@x.org /confirm/ /unsubscribe/ /token/ /reset/".split(),
]


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
@example("sam@example.org")  # and one of each kind, with no other needle in it
@example("GET /p/sam%40example.org")
@example("/x/?Token=abc")
@example("/subscribe/confirm/abc/")
@example("/unsubscribe/abc/")
@example("/api/token/abc/")
@example("/password/reset/abc/")
def test_skipping_text_with_nothing_to_redact_changes_no_result(text):
    """redact() skips its regular expressions when none of the strings they need is in the
    text: the result must be what the expressions themselves give."""
    from clarion.web.logs import _PATTERNS

    expected = text
    for pattern, replacement in _PATTERNS:
        expected = pattern.sub(replacement, expected)
    assert redact(text) == expected


class _Recorder:
    """A stream that keeps each write() call separately."""

    def __init__(self):
        self.writes: list[str] = []

    def write(self, text):
        self.writes.append(text)

    def flush(self):
        pass


def _handler():
    from clarion.web.logs import BufferedStreamHandler

    stream = _Recorder()
    handler = BufferedStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.Logger("buffered-test")
    logger.addHandler(handler)
    return logger, handler, stream


def test_buffered_log_lines_are_written_together_a_moment_later():
    logger, handler, stream = _handler()
    for n in range(50):
        logger.info("line %d", n)
    assert stream.writes == []  # nothing written per line
    deadline = time.monotonic() + 5
    while not stream.writes and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(handler.FLUSH_SECONDS)
    assert "".join(stream.writes) == "".join(f"INFO line {n}\n" for n in range(50))
    assert len(stream.writes) == 1


def test_a_warning_is_written_at_once_after_the_lines_before_it():
    logger, handler, stream = _handler()
    logger.info("first")
    logger.warning("something is wrong")
    assert stream.writes == ["INFO first\nWARNING something is wrong\n"]


def test_a_large_batch_is_written_without_waiting():
    logger, handler, stream = _handler()
    line = "x" * 1000
    for _ in range(handler.MAX_PENDING // 1000 + 1):
        logger.info(line)
    assert len(stream.writes) == 1


def test_pending_lines_are_written_when_the_process_exits(tmp_path):
    script = (
        "import logging, os, django\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'clarion.settings'\n"
        "django.setup()\n"
        "logging.getLogger('clarion.x').info('the last words')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=clarion_env(tmp_path, CLARION_LOG_LEVEL="INFO"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "the last words" in result.stdout


def test_a_forked_child_does_not_write_its_parents_pending_lines():
    logger, handler, stream = _handler()
    read, write = os.pipe()
    handler.setStream(os.fdopen(write, "w"))
    logger.info("the parent's")
    pid = os.fork()
    if pid == 0:
        logger.info("the child's")
        handler.flush()
        os._exit(0)
    os.waitpid(pid, 0)
    handler.flush()
    handler.stream.close()
    with os.fdopen(read) as pipe:
        assert sorted(pipe.read().splitlines()) == ["INFO the child's", "INFO the parent's"]


@given(
    path=st.lists(st.sampled_from([*_PIECES, "\n", "/2021/07/19/a/"]), max_size=8).map("".join),
    status=st.sampled_from([200, 304, 404, 500]),
    elapsed=st.floats(min_value=0, max_value=1e5),
    rid=st.sampled_from(["-", "req-12345678", "7c70b60e4d"]),
)
def test_the_access_logs_fast_line_is_what_the_record_would_give(path, status, elapsed, rid):
    """log_request formats its line without a record when the handler is Clarion's own;
    for both formats the text must be the record's, filters and all."""
    from clarion.web.logs import request_id

    for formatter in (PlainFormatter(), JsonFormatter()):
        token = request_id.set(rid)
        try:
            record = logging.LogRecord(
                "clarion.request", logging.INFO, "", 0, "%s %s %s %.1fms",
                ("GET", path, status, elapsed), None,
            )  # fmt: skip
            for f in (RequestIdFilter(), RedactFilter()):
                f.filter(record)
            expected = formatter.format(record)
            message = redact(f"GET {path} {status} {elapsed:.1f}ms")
            fast = formatter.line(record.created, "INFO", "clarion.request", rid, message)
        finally:
            request_id.reset(token)
        assert fast == expected


def test_the_fast_line_is_used_only_with_clarions_own_handler_alone(caplog):
    from clarion.web.logs import BufferedStreamHandler, sole_handler_for

    logger = logging.Logger("clarion.request.test")
    handler = BufferedStreamHandler(_Recorder())
    handler.setFormatter(PlainFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    logger.addHandler(handler)
    assert sole_handler_for(logger, logging.INFO) is handler
    handler.setLevel(logging.WARNING)
    assert sole_handler_for(logger, logging.INFO) is None
    handler.setLevel(logging.NOTSET)
    handler.setFormatter(logging.Formatter("%(message)s"))  # an operator's own format
    assert sole_handler_for(logger, logging.INFO) is None
    handler.setFormatter(JsonFormatter())
    logger.addHandler(logging.NullHandler())  # a second handler (caplog's, say)
    assert sole_handler_for(logger, logging.INFO) is None


def test_a_path_cannot_forge_a_log_line_or_move_the_terminals_cursor():
    formatter = PlainFormatter()
    path = "/x\nINFO clarion.request [-] GET /admin/ 200\r\x00\x1b[2J\u2028é💥"
    line = formatter.line(0.0, "INFO", "clarion.request", "-", f"GET {path} 404 1.0ms")
    assert line.isprintable() and len(line.splitlines()) == 1
    escaped = "/x\\nINFO clarion.request [-] GET /admin/ 200\\r\\x00\\x1b[2J\\u2028é💥"
    assert f"[-] GET {escaped} 404 1.0ms" in line
    record = logging.LogRecord("x", logging.INFO, "", 0, "%s", (path,), None)
    assert formatter.format(record).endswith(f"] {escaped}")
