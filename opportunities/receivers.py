"""Opportunities' answers to what relationships and the pool tell (``relationships.signals``, ``pool.signals``): the
open opportunities go with the customer to whoever looks after them now. Each calls one service."""

from django.dispatch import receiver

from pool import signals as pool_signals
from relationships import signals

from . import services


@receiver(signals.customers_moved, dispatch_uid="opportunities.customers_moved")
def on_customers_moved(sender, *, moves, previous, actor_staff=None, **kwargs) -> dict:
    moved = services.opportunities_follow_customers(
        targets={customer_id: staff.pk for customer_id, staff in moves.items()},
        why=services.WHY_MOVED,
        actor=actor_staff,
    )
    services.opportunities_follow_branch(customer_ids=list(moves))
    return {"opportunities": moved}


@receiver(signals.leaver_handed_over, dispatch_uid="opportunities.leaver_handed_over")
def on_leaver_handed_over(sender, *, leaver, fallback, **kwargs) -> dict:
    return {"opportunities": services.opportunities_of_leaver_to(leaver=leaver, fallback=fallback)}


@receiver(pool_signals.customers_left_pool, dispatch_uid="opportunities.customers_left_pool")
def on_customers_left_pool(sender, *, moves, keepers, **kwargs) -> dict:
    targets = {customer_id: staff.pk for customer_id, staff in moves.items()}
    return {"opportunities": services.opportunities_follow_customers(targets=targets, why=services.WHY_POOL_OUT)}


@receiver(pool_signals.customers_entered_pool, dispatch_uid="opportunities.customers_entered_pool")
def on_customers_entered_pool(sender, *, previous, keepers, **kwargs) -> dict:
    targets = {customer_id: keepers.get(customer_id) for customer_id in previous}
    return {"opportunities": services.opportunities_follow_customers(targets=targets, why=services.WHY_POOL_IN)}


@receiver(pool_signals.pool_keeper_changed, dispatch_uid="opportunities.pool_keeper_changed")
def on_pool_keeper_changed(sender, *, branch_id, old, new, **kwargs) -> dict:
    return {"opportunities": services.opportunities_to_new_keeper(branch_id=branch_id, new=new)}
