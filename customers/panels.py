"""The customer's 360° page shows what the apps above customers know of the customer: the RM's work
(relationships), open follow-ups (reminders), complaints. Each registers a provider ``(request, customer) ->
context`` on ``customer_360`` (see crm_site/panels.py).

The customer list shows what the apps above offer for the list as filtered: each registers a provider
``(request, form, filters) -> {a key of the app's own: ListPanel}`` on ``customer_list``; the page includes each
panel's template in its slot, "actions" among the page's buttons, "notice" above the filters."""

from dataclasses import dataclass, field

from crm_site.panels import PanelRegistry

customer_360 = PanelRegistry("customers:customer-detail")


@dataclass(frozen=True)
class ListPanel:
    template: str
    slot: str = "actions"  # "actions" or "notice"
    context: dict = field(default_factory=dict)


customer_list = PanelRegistry("customers:customer-list")


def list_panels(request, form, filters) -> dict:
    """The list's panels by slot: ``list_actions`` and ``list_notices``."""
    offered = [p for p in customer_list.context(request, form, filters).values() if isinstance(p, ListPanel)]
    return {
        "list_actions": [p for p in offered if p.slot == "actions"],
        "list_notices": [p for p in offered if p.slot == "notice"],
    }
