"""Complaints' answers to what relationships tells (``relationships.signals``): each calls one service."""

from django.dispatch import receiver

from relationships import signals

from . import services


@receiver(signals.customers_moved, dispatch_uid="complaints.customers_moved")
def on_customers_moved(sender, *, moves, previous, actor_staff, **kwargs) -> dict:
    return {"complaints": services.complaints_transfer_handler(moves=moves, previous=previous, actor_staff=actor_staff)}
