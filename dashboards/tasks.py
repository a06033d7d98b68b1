"""Celery tasks of the dashboards: thin wrappers around a service."""

from datetime import date

from celery import shared_task

from scheduling.runs import DailyJob

from . import figures
from .cache import dashboards_warm


@shared_task(base=DailyJob)
def build_figures(day: str | None = None) -> dict:
    """The dashboards' daily figures: yesterday's by default, or those of ``day``; then warm the default boards."""
    run = figures.figures_build(day=date.fromisoformat(day)) if day else figures.figures_build_yesterday()
    warmed = dashboards_warm()
    return {"day": run.day.isoformat(), "branches": run.branches, "rms": run.rms, "seconds": run.seconds,
            "warmed": warmed}  # fmt: skip
