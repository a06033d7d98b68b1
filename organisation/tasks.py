"""Celery tasks of the organisation: thin wrappers around a service."""

from celery import shared_task

from scheduling.runs import DailyJob

from . import services


@shared_task(base=DailyJob)
def purge_expired_sessions() -> dict:
    return services.sign_in_records_purge()
