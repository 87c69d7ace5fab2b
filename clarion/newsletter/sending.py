"""The delivery engine: fan an issue out into Delivery rows, claim and send them in
batches under a lease, and find the work of workers that died.

The truth is in the Delivery table, not in the task queue (django-tasks-db has no retries
and leaves a killed task RUNNING for good). Tasks only say "there is work"; any worker can
do any batch, and the periodic ``tasks.sweep`` re-queues what ``neglected`` finds. This
module queues no task itself (the tasks call it); the emails are built by ``messages``.

A Delivery moves QUEUED → SENDING (claimed with a lease) → SENT, or back to QUEUED with a
later ``next_attempt_at`` after a temporary failure, or to FAILED / SKIPPED. Every move out
of SENDING is conditional on the lease token, so a worker that lost its lease can never
overwrite what another worker did.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import secrets
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from clarion.lib import smtp

from . import messages, services
from .models import Delivery, Issue, Subscriber

log = logging.getLogger(__name__)

# Seconds to wait before attempt 2, 3, …; after the last, a delivery fails for good.
RETRY_DELAYS = (60, 300, 1800, 7200, 21600)

WORKER_NAME = f"{socket.gethostname()}-{os.getpid()}"


def batch_size() -> int:
    return settings.CLARION_NEWSLETTER_BATCH_SIZE


def lease_seconds() -> int:
    return settings.CLARION_NEWSLETTER_LEASE_SECONDS


# Handing one email to the backend -------------------------------------------------------


class Outbox:
    """Sends one issue's emails (``messages.IssueMessages``) over one open connection: raw
    MIME straight to smtplib over SMTP (the fast path), Django's ``send_messages`` otherwise."""

    def __init__(self, issue: Issue, mailer):
        self.mailer = mailer
        self.connection = None
        eight_bit = False
        if isinstance(mailer, SMTPBackend) and mailer.connection is not None:
            self.connection = mailer.connection
            self.connection.ehlo_or_helo_if_needed()
            eight_bit = self.connection.has_extn("8bitmime")
        self.messages = messages.IssueMessages(issue, eight_bit=eight_bit)

    def send(self, subscriber_id: int, email: str, before_commit=None) -> None:
        """Hand one email to the backend; raises what the backend raises.

        ``before_commit`` runs just before the point where the backend takes the email
        (before SMTP's DATA; before the call, for other backends)."""
        if self.connection is not None and email.isascii():
            data = self.messages.raw(subscriber_id, email)
            smtp.send(self.connection, self.messages.envelope_from, email, data, before_commit)
            return
        message = self.messages.message(subscriber_id, email)
        if before_commit is not None:
            before_commit()
        self.mailer.send_messages([message])


# Fan-out -------------------------------------------------------------------------------


def fan_out(*, issue_id: int) -> int:
    """Create one QUEUED Delivery per subscriber who was confirmed when the post was
    published and wants one of its categories. Idempotent. Returns the recipients added
    (0 if it was done before), for the caller to wake ``batches(n)`` senders."""
    with transaction.atomic():
        issue = Issue.objects.select_for_update().select_related("post").filter(pk=issue_id).first()
        if issue is None or issue.fanned_out_at is not None:
            return 0
        messages.render_issue(issue)
        now = timezone.now()
        category_ids = list(issue.post.categories.values_list("pk", flat=True))
        recipients = Subscriber.objects.wanting(category_ids, confirmed_by=issue.created_at)
        select_sql, params = recipients.order_by().values_list("id").query.sql_with_params()
        adapt = connection.ops.adapt_datetimefield_value
        table = Delivery._meta.db_table
        # One INSERT … SELECT: 100,000 rows in well under a second, and ON CONFLICT makes a
        # repeated fan-out harmless. ("WHERE true" avoids SQLite's upsert parse ambiguity.)
        sql = (
            f"INSERT INTO {table} (issue_id, subscriber_id, status, attempts, next_attempt_at,"
            " lease_token, worker, last_error, created_at)"
            f" SELECT %s, r.id, %s, 0, %s, '', '', '', %s FROM ({select_sql}) r WHERE true"
            " ON CONFLICT (issue_id, subscriber_id) DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [issue.pk, Delivery.Status.QUEUED, adapt(now), adapt(now), *params],
            )
        issue.recipients = Delivery.objects.filter(issue=issue).count()
        issue.fanned_out_at = now
        issue.heartbeat_at = now
        if issue.recipients == 0:
            issue.completed_at = now
        issue.save()
    log.info("issue %s: %s recipients", issue.pk, issue.recipients)
    return issue.recipients


def batches(deliveries: int) -> int:
    return math.ceil(deliveries / batch_size())


# Claiming and sending -------------------------------------------------------------------


def claim(*, issue_id: int, limit: int, worker: str = WORKER_NAME, now=None):
    """Lease up to ``limit`` due deliveries of the issue to this worker.

    Returns (token, deliveries). The conditional UPDATE (status still QUEUED) makes a
    row impossible to claim twice; SKIP LOCKED (PostgreSQL) spares concurrent workers from
    queueing behind each other's row locks, and SQLite's IMMEDIATE transactions serialise.
    """
    now = now or timezone.now()
    token = secrets.token_hex(16)
    with transaction.atomic():
        due = Delivery.objects.due(now).filter(issue_id=issue_id).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.SENDING,
            lease_token=token,
            lease_until=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            worker=worker[:100],
        )
        Issue.objects.filter(pk=issue_id).update(heartbeat_at=now)
    rows = list(
        Delivery.objects.filter(lease_token=token, status=Delivery.Status.SENDING)
        .select_related("subscriber")
        .only("pk", "attempts", "subscriber__email", "subscriber__status")
        .order_by("pk")
    )
    return token, rows


@dataclass
class Failure:
    reason: str
    permanent: bool = False
    bounce: bool = False
    connection_lost: bool = False


def classify(exc: Exception) -> Failure:
    """Sort a sending error into temporary (retry later) or permanent (stop), per RFC 5321:
    4xx replies are transient, 5xx permanent. A 5xx to RCPT means the address itself is
    bad (a hard bounce); a 5xx to DATA is about the message, so the address is kept."""
    from anymail.exceptions import AnymailError, AnymailRecipientsRefused

    def text(raw) -> str:
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, msg = next(iter(exc.recipients.values()))
        permanent = code >= 500
        return Failure(f"{code} {text(msg)}", permanent=permanent, bounce=permanent)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        # The server refuses our sender: nothing to do with this subscriber; retry later.
        return Failure(f"sender refused: {exc.smtp_code} {text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return Failure(
            f"{exc.smtp_code} {text(exc.smtp_error)}",
            permanent=exc.smtp_code >= 500,
            connection_lost=exc.smtp_code in (421,),
        )
    if isinstance(exc, AnymailRecipientsRefused):
        return Failure(str(exc)[:500], permanent=True, bounce=True)
    if isinstance(exc, AnymailError):
        return Failure(str(exc)[:500])
    if isinstance(exc, (smtplib.SMTPException, OSError)):
        return Failure(f"{type(exc).__name__}: {exc}", connection_lost=True)
    return Failure(f"{type(exc).__name__}: {exc}", connection_lost=True)


class Batch:
    """One claimed batch, sent over one connection. Each outcome is written as soon as it
    is known, conditional on the lease token."""

    def __init__(self, issue: Issue, token: str):
        self.issue = issue
        self.token = token
        self.lease_renew_at = time.monotonic() + lease_seconds() / 2
        self.table = Delivery._meta.db_table
        self.adapt = connection.ops.adapt_datetimefield_value
        self.held = True

    def _set(self, pk: int, assignments: str, params: list) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET {assignments} WHERE id = %s AND lease_token = %s"
                " AND status = %s",
                [*params, pk, self.token, Delivery.Status.SENDING],
            )
            return cursor.rowcount == 1

    def sent(self, pks: list[int]) -> int:
        placeholders = ", ".join(["%s"] * len(pks))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET status = %s, sent_at = %s, lease_until = NULL,"
                f" last_error = '' WHERE id IN ({placeholders}) AND lease_token = %s"
                " AND status = %s",
                [
                    Delivery.Status.SENT,
                    self.adapt(timezone.now()),
                    *pks,
                    self.token,
                    Delivery.Status.SENDING,
                ],
            )
            return cursor.rowcount

    def finished(self, pk: int, status: str, reason: str) -> bool:
        return self._set(
            pk, "status = %s, lease_until = NULL, last_error = %s", [status, reason[:500]]
        )

    def retry(self, pk: int, attempts: int, reason: str) -> bool:
        if attempts > len(RETRY_DELAYS):
            return self.finished(
                pk, Delivery.Status.FAILED, f"gave up after {attempts} attempts: {reason}"
            )
        when = timezone.now() + timedelta(seconds=RETRY_DELAYS[attempts - 1])
        return self._set(
            pk,
            "status = %s, next_attempt_at = %s, lease_until = NULL, lease_token = '',"
            " last_error = %s",
            [Delivery.Status.QUEUED, self.adapt(when), reason[:500]],
        )

    def keep_lease(self) -> bool:
        """Extend the lease when half of it has passed; False if it was lost meanwhile
        (the sweep gave the rows to another worker, so this one must stop)."""
        if time.monotonic() < self.lease_renew_at:
            return self.held
        until = timezone.now() + timedelta(seconds=lease_seconds())
        renewed = Delivery.objects.filter(
            lease_token=self.token, status=Delivery.Status.SENDING
        ).update(lease_until=until)
        self.lease_renew_at = time.monotonic() + lease_seconds() / 2
        self.held = renewed > 0
        return self.held

    def release(self, delay_seconds: int = 0) -> int:
        """Give back the rows not yet attempted, for any worker to take."""
        return Delivery.objects.filter(
            lease_token=self.token, status=Delivery.Status.SENDING
        ).update(
            status=Delivery.Status.QUEUED,
            lease_token="",
            lease_until=None,
            attempts=F("attempts") - 1,
            next_attempt_at=timezone.now() + timedelta(seconds=delay_seconds),
        )


class Recorder(threading.Thread):
    """Records "sent" on its own database connection while the sending thread already
    talks SMTP for the next email, so the database write overlaps the network wait.

    The sending thread calls ``wait()`` before the DATA command of the next email: the
    envelope (MAIL, RCPT) overlaps the write, but no email is handed over while the previous
    one is unrecorded. A worker killed at any moment has therefore at most one email that
    the server accepted and the database does not know about; it is sent again after the
    lease expires, with the same Message-ID (SMTP cannot do better: RFC 1047).

    Inside a transaction (tests on the ImmediateBackend) a second connection could not see
    the rows, so there the sending thread records each email itself.
    """

    def __init__(self, batch: Batch):
        super().__init__(name="clarion-recorder", daemon=True)
        self.batch = batch
        self.queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.pending = 0
        self.idle = threading.Condition()

    def put(self, pk: int) -> None:
        with self.idle:
            self.pending += 1
        self.queue.put(pk)

    def wait(self, timeout: float = 60) -> None:
        """Return once every email put so far is recorded; raise if recording failed."""
        with self.idle:
            self.idle.wait_for(lambda: self.pending == 0 or self.error, timeout)
            if self.error or self.pending:
                raise RuntimeError(f"recording sent deliveries failed: {self.error}")

    def run(self):
        try:
            finished = False
            while not finished:
                pks = [self.queue.get()]
                while True:
                    try:
                        pks.append(self.queue.get_nowait())
                    except queue.Empty:
                        break
                finished = None in pks
                pks = [pk for pk in pks if pk is not None]
                if pks:
                    self.batch.sent(pks)
                    with self.idle:
                        self.pending -= len(pks)
                        self.idle.notify_all()
        except BaseException as exc:  # noqa: BLE001 - reported to the sending thread
            log.exception("recording sent deliveries failed")
            with self.idle:
                self.error = exc
                self.idle.notify_all()
        finally:
            connection.close()

    def close(self):
        self.queue.put(None)
        self.join()


def send_batch(*, issue_id: int, worker: str = WORKER_NAME, limit: int | None = None) -> int:
    """Claim one batch of the issue's due deliveries and send it. Returns emails sent."""
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None or issue.fanned_out_at is None:
        return 0
    token, rows = claim(issue_id=issue_id, limit=limit or batch_size(), worker=worker)
    if not rows:
        issue_complete_if_done(issue_id)
        return 0
    batch = Batch(issue, token)
    recorder = None if connection.in_atomic_block else Recorder(batch)
    if recorder:
        recorder.start()
    mailer = get_connection()
    sent = 0
    try:
        # Opened here, the connection serves the whole batch (send_messages() on a closed
        # backend would open and close one per email).
        mailer.open()
        outbox = Outbox(issue, mailer)
        for delivery in rows:
            if not batch.keep_lease():
                log.warning("issue %s: lease lost, stopping this batch", issue_id)
                break
            subscriber = delivery.subscriber
            if subscriber.status != Subscriber.Status.CONFIRMED:
                batch.finished(delivery.pk, Delivery.Status.SKIPPED, subscriber.status)
                continue
            try:
                outbox.send(
                    delivery.subscriber_id,
                    subscriber.email,
                    before_commit=recorder.wait if recorder else None,
                )
            except Exception as exc:
                failure = classify(exc)
                log.warning("delivery %s: %s", delivery.pk, failure.reason)
                if failure.permanent:
                    batch.finished(delivery.pk, Delivery.Status.FAILED, failure.reason)
                    if failure.bounce:
                        services.address_mark_failed(
                            email=subscriber.email, kind="bounced", reason=failure.reason
                        )
                else:
                    batch.retry(delivery.pk, delivery.attempts, failure.reason)
                if failure.connection_lost:
                    break
                continue
            if recorder:
                recorder.put(delivery.pk)
            else:
                batch.sent([delivery.pk])
            sent += 1
    finally:
        if recorder:
            recorder.close()
        try:
            mailer.close()
        except Exception:  # noqa: BLE001 - the batch's outcome is already recorded
            log.debug("closing the mail connection failed", exc_info=True)
        # Rows not attempted (lease lost, connection lost): back to the queue, soon.
        released = batch.release(delay_seconds=RETRY_DELAYS[0]) if batch.held else 0
        if released:
            log.info("issue %s: released %s unsent deliveries", issue_id, released)
    issue_complete_if_done(issue_id)
    return sent


def issue_complete_if_done(issue_id: int) -> None:
    pending = Delivery.objects.filter(
        issue_id=issue_id, status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]
    )
    if not pending.exists():
        Issue.objects.filter(pk=issue_id, completed_at__isnull=True).update(
            completed_at=timezone.now()
        )


# The sweep's half here (tasks.sweep, a periodic job of `clarion worker`, wakes the work) ---


@dataclass
class Neglected:
    reclaimed: int
    unfanned: list[int]  # issues never fanned out
    due: dict[int, int]  # issue id -> due deliveries


def neglected(now=None) -> Neglected:
    """Re-queue deliveries whose worker died, and find the work nobody is doing: issues never
    fanned out, and due deliveries (retries, released rows) of issues no worker touched for
    a lease period. Each issue found is marked (its heartbeat), so it is woken once."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=lease_seconds())
    idle = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale)
    reclaimed = Delivery.objects.expired_leases(now).update(
        status=Delivery.Status.QUEUED, lease_token="", lease_until=None
    )
    unfanned = [
        pk
        for pk in Issue.objects.filter(idle, fanned_out_at__isnull=True).values_list(
            "pk", flat=True
        )
        if Issue.objects.filter(idle, pk=pk).update(heartbeat_at=now)
    ]
    due = {}
    due_issues = set(Delivery.objects.due(now).values_list("issue_id", flat=True).distinct())
    for pk in due_issues:
        if Issue.objects.filter(idle, pk=pk).update(heartbeat_at=now):
            due[pk] = Delivery.objects.due(now).filter(issue_id=pk).count()
    return Neglected(reclaimed, unfanned, due)


def delivery_counts(issue: Issue) -> dict[str, int]:
    from django.db.models import Count

    rows = issue.deliveries.values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}
