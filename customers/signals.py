"""What the customers app tells the apps above it, which subscribe in their ``AppConfig.ready``. Sent inside the
sender's transaction, so what the receivers write commits or rolls back with it."""

from django.dispatch import Signal

# A customer was registered with a primary RM. kwargs: customer, staff (the RM), reason, now. Relationships opens
# the customer's first portfolio assignment.
customer_registered = Signal()
