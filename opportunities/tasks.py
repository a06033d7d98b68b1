"""Celery tasks of opportunities: thin wrappers around one service each."""

from datetime import date

from celery import shared_task

from scheduling.runs import DailyJob

from . import services


@shared_task(base=DailyJob)
def reconcile_won(day: str | None = None) -> dict:
    """07:05: match the won opportunities with the holdings the feed loaded; flag those still without one."""
    return services.opportunities_reconcile(today=date.fromisoformat(day) if day else None)


@shared_task(base=DailyJob)
def stale_reminders(day: str | None = None) -> dict:
    """07:35: tell each owner how many of their open opportunities are stale, once a day."""
    return services.opportunity_stale_reminders(today=date.fromisoformat(day) if day else None)
