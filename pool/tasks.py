"""Celery tasks of the pool: thin wrappers that take dates and call one service. Safe to run again: the database's
keys make a second run do nothing."""

from datetime import date

from celery import shared_task

from scheduling.runs import DailyJob

from . import services


@shared_task(base=DailyJob)
def release_candidates(day: str | None = None) -> dict:
    """The nightly recycle job: propose for release the customers the tiers' rules find (docs/pool.md)."""
    return services.release_candidates_propose(today=date.fromisoformat(day) if day else None)
