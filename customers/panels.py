"""The customer's 360° page shows what the apps above customers know of the customer: the RM's work
(relationships), open follow-ups (reminders), complaints. Each registers a provider ``(request, customer) ->
context`` on ``customer_360`` (see crm_site/panels.py)."""

from crm_site.panels import PanelRegistry

customer_360 = PanelRegistry("customers:customer-detail")
