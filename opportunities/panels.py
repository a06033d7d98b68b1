"""What opportunities add to the pages of the apps below: the customer's opportunities on the 360° page
(customers), and "新建商机" beside each contact of the timeline and in the quick log's result (relationships)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from customers import panels
from relationships.panels import InteractionLink, interaction_links

from .selectors import customer_opportunities, may_create


@panels.customer_360.register
def opportunity_panel(request, customer) -> dict:
    """The customer's open opportunities and their last few closed ones, and whether the user may open one: one
    query."""
    can_create = may_create(request.user) and customer.closed_on is None
    return {
        "customer_opportunities": customer_opportunities(request.user, customer),
        "can_create_opportunity": can_create,
    }


@interaction_links.register
def opportunity_link(request, customer) -> dict:
    """A contact may become an opportunity: the link to the create page with the contact (no query)."""
    if not may_create(request.user) or customer.closed_on is not None:
        return {}
    return {
        "opportunity": InteractionLink(_("New opportunity"), reverse("opportunities:opportunity-create"), "plus-lg")
    }
