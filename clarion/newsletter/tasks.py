"""Background tasks: each takes ids and calls a service. None holds state of its own: a
lost or killed task is made good by ``sending.sweep``."""

from django_tasks import task


@task(priority=10)
def send_subscriber_email(subscriber_id: int, kind: str) -> bool:
    from .services import subscriber_email_send

    return subscriber_email_send(subscriber_id=subscriber_id, kind=kind)


@task(priority=5)
def fan_out_issue(issue_id: int) -> int:
    from .sending import fan_out

    return fan_out(issue_id=issue_id)


@task(takes_context=True)
def send_deliveries(context, issue_id: int) -> int:
    from .sending import WORKER_NAME, send_batch

    # The worker's id (`clarion worker --worker-id`), recorded on each delivery it claims.
    worker = context.task_result.worker_ids[-1] if context.task_result.worker_ids else ""
    return send_batch(issue_id=issue_id, worker=worker or WORKER_NAME)


@task(priority=5)
def send_subscriber_emails(subscriber_ids: list[int], kind: str) -> int:
    from .services import subscriber_email_send

    return sum(subscriber_email_send(subscriber_id=pk, kind=kind) for pk in subscriber_ids)
