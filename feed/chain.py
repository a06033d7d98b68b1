"""What follows a business date's load: one Celery chain that brings everything derived from the extracts up to
date for that date, instead of waiting for the beat schedule's fixed times.

    tiers → lifecycle → reminders → figures

Each step is a thin task that takes the business date as an ISO string and calls one service; each is idempotent
(the tier recompute and the lifecycle derivation set what the data says, the reminder generators insert with
conflict ignore on their dedupe keys, the figures of a day are built again in place), so a chain sent twice for a
date — after BAL and again after TXN, or a corrected file — changes nothing the second time.

The dates: the extracts of business date D arrive on the morning of D + 1. The tiers, the lifecycle and the
figures are those of D; the reminder generators run for ``today`` = D + 1, the day the RM reads them, exactly as
the 06:00 beat run of that morning would (a maturity on D + 1 is still ahead, a transaction of D within the
movement lookback). See docs/feed.md, "The chain after a load".
"""

import logging
from datetime import date, timedelta

from celery import chain, shared_task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from crm_site.sql import analyze
from customers import lifecycle
from customers.models import Customer
from customers.services import customers_recompute_tiers, customers_refresh_aum
from dashboards.cache import dashboards_warm
from dashboards.figures import figures_build
from reminders.models import FollowUp
from reminders.services import reminders_generate

logger = logging.getLogger(__name__)
# The first chain after a first load moves nearly every customer (tier, stage): up to two minutes a step at a
# million customers, more than a busy machine's share of the default 300 s (settings.LONG_TASK_TIME_LIMITS).
LONG = settings.LONG_TASK_TIME_LIMITS
# A step that wrote this many rows refreshes the planner's statistics of the table before the next step reads it.
ANALYZE_AFTER = 10_000

# The generators that read what the extracts load: holdings (maturity), balances and transactions (movement),
# balances over two months (churn).
REMINDER_KINDS = [FollowUp.Kind.MATURITY, FollowUp.Kind.LARGE_MOVEMENT, FollowUp.Kind.CHURN_RISK]


def reminders_day(business_date: date) -> date:
    """The ``today`` of the reminder generators after the load of ``business_date``: the next morning."""
    return business_date + timedelta(days=1)


@shared_task(name="feed.chain.tiers", **LONG)
def tiers(day: str) -> dict:
    """Current AUM from the date's balances, then the tiers from it."""
    refreshed = customers_refresh_aum(as_of=date.fromisoformat(day))
    tiered = customers_recompute_tiers()
    if refreshed + sum(tiered.values()) >= ANALYZE_AFTER:
        analyze(Customer)
    return {"aum_refreshed": refreshed, "tiers": tiered}


@shared_task(name="feed.chain.lifecycle", **LONG)
def lifecycle_step(day: str):
    return lifecycle.lifecycle_derive(as_of=date.fromisoformat(day))


@shared_task(name="feed.chain.reminders", **LONG)
def reminders(day: str) -> list[dict]:
    runs = reminders_generate(today=reminders_day(date.fromisoformat(day)), kinds=REMINDER_KINDS)
    if sum(r.created for r in runs) >= ANALYZE_AFTER:
        analyze(FollowUp)  # the dashboards' warm-up next reads them
    return [{"kind": r.kind, "created": r.created, "seconds": r.seconds} for r in runs]


@shared_task(name="feed.chain.figures", **LONG)
def figures(day: str) -> dict:
    run = figures_build(day=date.fromisoformat(day))
    return {"day": run.day.isoformat(), "branches": run.branches, "rms": run.rms, "warmed": dashboards_warm()}


def signature(business_date: date):
    """The chain of one business date (not sent)."""
    day = business_date.isoformat()
    return chain(tiers.si(day), lifecycle_step.si(day), reminders.si(day), figures.si(day))


def start(business_date: date) -> None:
    """Send the chain of ``business_date`` once the caller's transaction commits (at once outside one). With the
    broker unreachable it logs and returns: the beat schedule's nightly and morning runs catch up."""
    transaction.on_commit(lambda: _send(business_date))


def _send(business_date: date) -> None:
    try:
        signature(business_date).apply_async()
    except OperationalError:
        logger.warning(
            "broker unreachable: the chain after the load of %s not sent; the beat schedule will catch up",
            business_date.isoformat(),
        )
        return
    logger.info("chain after the load of %s sent", business_date.isoformat())
