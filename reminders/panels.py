"""The reminders panels of the customer's 360° page and of the RM's portfolio page."""

from crm_site.panels import PanelRegistry
from customers import panels
from relationships.panels import my_customers, quick_log

from .selectors import follow_ups_open_for, follow_ups_open_of_customer, follow_ups_to_close_with_contact

# Providers: (request, staff whose Today it is) -> context. The apps above add their sections to Today.
today = PanelRegistry("reminders:today")


@panels.customer_360.register
def follow_up_panel(request, customer) -> dict:
    return {"follow_ups": follow_ups_open_of_customer(customer)}


@my_customers.register
def my_follow_ups_panel(request, staff) -> dict:
    return {"follow_ups": follow_ups_open_for(staff, limit=10)}


@quick_log.register
def quick_log_follow_ups_panel(request, customer) -> dict:
    staff = getattr(request.user, "staff", None)
    return {"follow_ups_to_close": follow_ups_to_close_with_contact(staff, customer) if staff else []}
