"""What the relationships app tells the apps above it (reminders, complaints), which subscribe in their
``AppConfig.ready``. A signal is sent inside the sender's transaction, so what the receivers write commits or rolls
back with it. Receivers are thin: each calls one service of its own app and returns a dict of counts, which the
sender adds to its summary (the handover's, for one)."""

from django.dispatch import Signal

# An interaction was logged (created=True) or corrected (created=False). kwargs: interaction, staff, created, and
# on a new one close_follow_ups (ids of the staff's follow-ups the contact fulfils; a receiver raises
# ValidationError for an id it cannot close, which rolls the whole log back).
interaction_recorded = Signal()

# Customers changed primary RM in one approved step. kwargs: moves ({customer id: new RM Staff}), previous
# ({customer id: previous RM id}), actor_staff (who approved). Receivers move what was open for the customers.
customers_moved = Signal()

# A leaving RM's portfolio was handed over. kwargs: leaver, fallback (the receiving RM who takes whatever else
# is still open for the leaver).
leaver_handed_over = Signal()


def counts_of(responses) -> dict:
    """The receivers' counts, added up by key."""
    total: dict = {}
    for _receiver, result in responses:
        for key, value in (result or {}).items():
            total[key] = total.get(key, 0) + value
    return total
