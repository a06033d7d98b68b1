"""What the consent app tells the apps above it. Sent inside the sender's transaction, so what the receivers write
commits or rolls back with the change itself (docs/architecture.md, "Events between apps")."""

from django.dispatch import Signal

# Marketing consent on one channel was withdrawn (or refused) for some customers: the state became "withdrawn"
# from "given" or from no record. Sent once per channel and write: by ``consent.services.consent_record`` (one
# customer, from the page) and by ``consent.services.consents_apply_staged`` (every customer of a core-banking file
# who withdrew on that channel, at once). A receiver cancels what it had planned for them on that channel (a
# campaign's pending follow-ups) and returns a dict of counts.
#
# kwargs:
#   customer_ids  list[int]: the customers' ids (never their identifiers)
#   channel       str: a ``consent.models.Channel`` value ("sms", "phone", "wechat", "email", "visit")
#   actor         the ``organisation.models.Staff`` who recorded it, or None (the core-banking feed, the system)
consent_withdrawn = Signal()
