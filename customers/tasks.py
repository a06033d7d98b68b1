from celery import shared_task
from django.utils import timezone

from . import partitions, services


@shared_task
def recompute_tiers() -> dict:
    return services.customers_recompute_tiers()


@shared_task
def maintain_snapshot_partitions() -> dict:
    return partitions.snapshot_partitions_maintain(today=timezone.localdate())
