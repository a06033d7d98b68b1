"""The relationships panels of the customer's 360° page, and the registry of the RM's portfolio page (我的客户),
which reminders fills with the RM's open follow-ups."""

from crm_site.panels import PanelRegistry
from customers import panels
from organisation.selectors import rms_visible_to

from .permissions import customer_actions
from .selectors import customer_relationship

# Providers: (request, staff) -> context.
my_customers = PanelRegistry("relationships:my-customers")


@panels.customer_360.register
def relationship_panel(request, customer) -> dict:
    actions = customer_actions(request.user, customer)
    return {
        **actions,
        "rel": customer_relationship(request.user, customer),
        "secondary_choices": rms_visible_to(request.user) if actions.get("can_add_secondary") else [],
    }


# Providers: (request, customer) -> context. Reminders adds the actor's open follow-ups of the customer
# (``follow_ups_to_close``), which the quick log offers to close with the contact.
quick_log = PanelRegistry("relationships:quick-log")
