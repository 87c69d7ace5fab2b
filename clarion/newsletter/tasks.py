"""Background tasks, and the one place that queues them.

Each task takes ids and calls a service; none holds state of its own: a lost or killed task
is made good by ``sweep``. Services and sending queue nothing (the tasks call them, so they
could not import this module without a circle): they return what is to be done, and their
callers, above them, wake it with the ``wake_*`` functions, once the transaction commits.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_tasks import task

from . import sending, services

log = logging.getLogger(__name__)


# Waking work, after commit ----------------------------------------------------------------


def wake_subscriber_email(subscriber_id: int, kind: str) -> None:
    transaction.on_commit(lambda: send_subscriber_email.enqueue(subscriber_id, kind))


def wake_subscriber_emails(subscriber_ids: list[int], kind: str) -> None:
    def enqueue():
        for i in range(0, len(subscriber_ids), 500):
            send_subscriber_emails.enqueue(subscriber_ids[i : i + 500], kind)

    if subscriber_ids:
        transaction.on_commit(enqueue)


def wake_fan_out(issue_id: int) -> None:
    transaction.on_commit(lambda: fan_out_issue.enqueue(issue_id))


def wake_senders(issue_id: int, deliveries: int) -> None:
    transaction.on_commit(lambda: enqueue_senders(issue_id, deliveries))


def enqueue_senders(issue_id: int, deliveries: int) -> None:
    """One send task per batch of the issue's deliveries."""
    for _ in range(sending.batches(deliveries)):
        send_deliveries.enqueue(issue_id)


# The tasks --------------------------------------------------------------------------------


@task(priority=10)
def send_subscriber_email(subscriber_id: int, kind: str) -> bool:
    return services.subscriber_email_send(subscriber_id=subscriber_id, kind=kind)


@task(priority=5)
def fan_out_issue(issue_id: int) -> int:
    recipients = sending.fan_out(issue_id=issue_id)
    wake_senders(issue_id, recipients)
    return recipients


@task(takes_context=True)
def send_deliveries(context, issue_id: int) -> int:
    # The worker's id (`clarion worker --worker-id`), recorded on each delivery it claims.
    worker = context.task_result.worker_ids[-1] if context.task_result.worker_ids else ""
    return sending.send_batch(issue_id=issue_id, worker=worker or sending.WORKER_NAME)


@task(priority=5)
def send_subscriber_emails(subscriber_ids: list[int], kind: str) -> int:
    return sum(services.subscriber_email_send(subscriber_id=pk, kind=kind) for pk in subscriber_ids)


# The sweep (a periodic job of `clarion worker`) -------------------------------------------


def sweep(now=None) -> dict:
    """Queue the work nobody is doing (``sending.neglected``): expired leases go back to
    the queue, issues never fanned out are fanned out, due deliveries get senders."""
    found = sending.neglected(now)
    for pk in found.unfanned:
        fan_out_issue.enqueue(pk)
    for pk, count in found.due.items():
        enqueue_senders(pk, count)
    requeued = sum(found.due.values())
    if found.reclaimed or found.unfanned or requeued:
        log.info(
            "newsletter sweep: %s leases expired, %s issues fanned out again, %s deliveries"
            " queued again",
            found.reclaimed,
            len(found.unfanned),
            requeued,
        )
    return {"reclaimed": found.reclaimed, "refanned": len(found.unfanned), "requeued": requeued}
