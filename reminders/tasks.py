"""Celery tasks of reminders: thin wrappers that take ids and dates and call a service. They are safe to run again
(acks_late redelivers a task whose worker died): the services' database keys make a second run do nothing."""

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from customers.models import Customer
from scheduling.runs import DailyJob

from . import services


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@shared_task(base=DailyJob)
def generate_reminders(kind: str, day: str | None = None) -> dict:
    run = services.reminders_generate(today=_day(day), kinds=[kind])[0]
    return {"kind": run.kind, "created": run.created, "seconds": run.seconds}


@shared_task
def refresh_reminders(customer_ids: list[int]) -> int:
    """Regenerate the reminders of some customers now (after they moved to another RM), not only tonight."""
    return sum(r.created for r in services.reminders_generate(scope=Customer.objects.filter(pk__in=customer_ids)))


@shared_task
def refresh_pool_reminders(branch_id: int) -> int:
    """Regenerate the reminders of an outlet's pool now (after its keeper changed), not only tonight."""
    return sum(r.created for r in services.reminders_generate(scope=services.pool_customers_of(branch_id)))


@shared_task(base=DailyJob)
def follow_ups_housekeeping(day: str | None = None) -> dict:
    return services.follow_ups_housekeeping(today=_day(day))


# A digest after the morning is pointless: the RM has been working from Today (今日工作) for hours.
@shared_task(base=DailyJob, catch_up_within=timedelta(hours=4))
def digest_dispatch(day: str | None = None) -> int:
    """Fan out the morning digest: one task per RM with something to do."""
    day = day or timezone.localdate().isoformat()
    recipients = services.digest_recipients(date.fromisoformat(day))
    for staff_id in recipients:
        send_digest.safe_delay(staff_id, day)
    return len(recipients)


@shared_task
def send_digest(staff_id: int, day: str) -> str:
    return services.digest_send(staff_id=staff_id, day=date.fromisoformat(day))
