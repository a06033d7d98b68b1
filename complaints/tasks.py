"""Celery tasks of the complaints app: thin wrappers around the services, safe to run twice."""

from celery import shared_task

from . import services


@shared_task
def escalate_complaints() -> dict:
    """Every 15 minutes: escalate complaints past their deadline, and major ones not yet escalated."""
    return services.escalate_due()


@shared_task
def escalate_major(complaint_id: int) -> bool:
    """Fired when a major complaint is registered: escalate it at once."""
    return services.escalate_major(complaint_id)
