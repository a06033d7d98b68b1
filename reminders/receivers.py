"""Reminders' answers to what relationships tells (``relationships.signals``): each calls one service."""

from django.dispatch import receiver

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
