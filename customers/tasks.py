from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from scheduling.runs import DailyJob

from . import lifecycle, partitions, services


@shared_task(base=DailyJob)
def recompute_tiers() -> dict:
    """Current AUM from the newest balances (if the chain after their load did not run), then the tiers."""
    services.customers_refresh_aum()
    return services.customers_recompute_tiers()


@shared_task(base=DailyJob)
def maintain_snapshot_partitions() -> dict:
    return partitions.snapshot_partitions_maintain(today=timezone.localdate())


# A night moves a few thousand customers (about 20 s at a million); the first run moves nearly all of them, and
# writing a million rows and their history takes about 100 s: the long limits (settings.LONG_TASK_TIME_LIMITS).
@shared_task(base=DailyJob, **settings.LONG_TASK_TIME_LIMITS)
def derive_lifecycle(day: str | None = None) -> dict:
    """The customers' lifecycle stages from the data of ``day`` (ISO date; yesterday by default)."""
    as_of = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return lifecycle.lifecycle_derive(as_of=as_of)
