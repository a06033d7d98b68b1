"""Celery tasks of the scheduling app."""

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(**settings.LONG_TASK_TIME_LIMITS)
def catch_up() -> list[str]:
    """Every ten minutes, and when a worker starts: run the daily jobs whose run today is missing."""
    return services.catch_up()
