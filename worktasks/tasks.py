"""Celery tasks of worktasks: thin wrappers around one service each."""

from datetime import date

from celery import shared_task

from scheduling.runs import DailyJob

from . import services


@shared_task(base=DailyJob)
def task_due_reminders(day: str | None = None) -> dict:
    """07:30: tell each assignee of the open tasks due tomorrow, once."""
    return services.task_due_reminders(today=date.fromisoformat(day) if day else None)
