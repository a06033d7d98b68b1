from celery import shared_task

from . import services


@shared_task
def recompute_tiers() -> dict:
    return services.customers_recompute_tiers()
