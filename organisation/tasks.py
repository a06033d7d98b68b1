"""Celery tasks of the organisation: thin wrappers around a service."""

from celery import shared_task

from . import services


@shared_task
def purge_expired_sessions() -> dict:
    return services.sign_in_records_purge()
