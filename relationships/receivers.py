"""Relationships' answers to what customers tells (``customers.signals``): each calls one service."""

from django.dispatch import receiver

from customers import signals

from .services import assignment_open_primary


@receiver(signals.customer_registered, dispatch_uid="relationships.customer_registered")
def on_customer_registered(sender, *, customer, staff, reason, now, **kwargs) -> None:
    assignment_open_primary(customer=customer, staff=staff, reason=reason, now=now)
