"""The complaints panel of the customer's 360° page (registered with ``customers.panels``)."""

from customers import panels
from organisation import access

from .selectors import complaints_of_customer, complaints_visible_to, open_complaint_count


@panels.customer_360.register
def complaint_panel(request, customer) -> dict:
    complaints = complaints_of_customer(request.user, customer)
    return {
        # An RM reads their customers' complaints here; only those the user may open are links.
        "complaints": complaints,
        "open_complaints": open_complaint_count(complaints),
        "complaint_links": set(
            complaints_visible_to(request.user).filter(customer=customer).values_list("pk", flat=True)
        ),
        "can_register_complaint": access.has_role(request.user, access.COMPLAINT_MANAGERS),
    }
