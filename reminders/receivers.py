"""Reminders' answers to what relationships and the pool tell (``relationships.signals``, ``pool.signals``): each
calls one service."""

from django.dispatch import receiver

from pool import signals as pool_signals
from relationships import signals

from . import services, tasks


@receiver(signals.interaction_recorded, dispatch_uid="reminders.interaction_recorded")
def on_interaction_recorded(sender, *, interaction, staff, created, close_follow_ups=(), **kwargs) -> dict:
    services.follow_ups_after_interaction(
        interaction=interaction, staff=staff, created=created, close_follow_ups=close_follow_ups
    )
    return {}


@receiver(signals.customers_moved, dispatch_uid="reminders.customers_moved")
def on_customers_moved(sender, *, moves, previous, **kwargs) -> dict:
    moved = services.follow_ups_hand_over(moves=moves, previous=previous)
    # The new RMs see the moved customers' reminders now rather than after tonight's run. After the commit; with
    # the broker down, the nightly generators create them instead.
    tasks.refresh_reminders.delay_on_commit(list(moves))
    return {"follow_ups": moved}


@receiver(signals.leaver_handed_over, dispatch_uid="reminders.leaver_handed_over")
def on_leaver_handed_over(sender, *, leaver, fallback, **kwargs) -> dict:
    return {"follow_ups": services.follow_ups_of_leaver_to(leaver=leaver, fallback=fallback)}


@receiver(pool_signals.customers_left_pool, dispatch_uid="reminders.customers_left_pool")
def on_customers_left_pool(sender, *, moves, keepers, **kwargs) -> dict:
    moved = services.follow_ups_out_of_pool(moves=moves, keepers=keepers)
    # What the keeper never had (a pool without keeper) reaches the new RM now rather than tonight.
    tasks.refresh_reminders.delay_on_commit(list(moves))
    return {"follow_ups": moved}


@receiver(pool_signals.customers_entered_pool, dispatch_uid="reminders.customers_entered_pool")
def on_customers_entered_pool(sender, *, previous, keepers, **kwargs) -> dict:
    return services.follow_ups_into_pool(previous=previous, keepers=keepers)


@receiver(pool_signals.pool_keeper_changed, dispatch_uid="reminders.pool_keeper_changed")
def on_pool_keeper_changed(sender, *, branch_id, old, new, **kwargs) -> dict:
    moved = services.follow_ups_to_new_keeper(branch_id=branch_id, old=old, new=new)
    if new is not None:
        # A pool that had no keeper: its reminders reach the new one now rather than tonight.
        tasks.refresh_pool_reminders.delay_on_commit(branch_id)
    return {"follow_ups": moved}
