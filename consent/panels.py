"""The consent panel of the customer's 360° page (registered with ``customers.panels``): each channel's state,
date and source, the do-not-disturb windows in force or ahead, links to the consent page and its history. Two
queries, whatever the number of channels and windows."""

from customers import panels

from .selectors import customer_consent


@panels.customer_360.register
def consent_panel(request, customer) -> dict:
    return {"consent": customer_consent(request.user, customer)}
