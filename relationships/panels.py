"""The relationships panels of the customer's 360° page, and the registry of the RM's portfolio page (我的客户),
which reminders fills with the RM's open follow-ups."""

from dataclasses import dataclass

from django.urls import Resolver404, resolve

from crm_site.panels import PanelRegistry
from customers import panels
from customers.selectors import customer_access_of
from notifications.panels import notification_list
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
        "interaction_links": interaction_links_for(request, customer),
        "rel": customer_relationship(request.user, customer),
        "secondary_choices": rms_visible_to(request.user) if actions.get("can_add_secondary") else [],
    }


@dataclass(frozen=True)
class ApprovalCard:
    """A card of the approvals page (待我审批) from an app above: its template, its count and its rows."""

    template: str
    count: int
    context: dict


# Providers: (request, staff) -> {a key of the app's own: ApprovalCard}. The page shows each card after its own.
approvals = PanelRegistry("relationships:approvals")


# Providers: (request, customer) -> context. Reminders adds the actor's open follow-ups of the customer
# (``follow_ups_to_close``), which the quick log offers to close with the contact.
quick_log = PanelRegistry("relationships:quick-log")


@dataclass(frozen=True)
class InteractionLink:
    """A link an app above offers beside each contact of the timeline and in the quick log's result: the page at
    ``url`` takes the contact as ``?interaction=<id>`` (opportunities: "新建商机" from this contact)."""

    label: str
    url: str
    icon: str = "plus-lg"


# Providers: (request, customer) -> {a key of the app's own: InteractionLink}, or {} when the user may not follow it.
interaction_links = PanelRegistry("relationships:interaction-links")


def interaction_links_for(request, customer) -> list[InteractionLink]:
    """The links every contact of ``customer`` offers to ``request.user``, from the apps above (no query of their
    own: the providers decide from the user's role)."""
    links = interaction_links.context(request, customer).values()
    return [link for link in links if isinstance(link, InteractionLink)]


@dataclass(frozen=True)
class CustomerLink:
    pk: int
    visible: bool
    rm_name: str


def _customer_of(url: str) -> int | None:
    """The customer a notification's link opens (their 360° page), if it opens one."""
    if not url:
        return None
    try:
        match = resolve(url.split("?")[0])
    except Resolver404:
        return None
    return match.kwargs.get("pk") if match.view_name == "customers:customer-detail" else None


@notification_list.register
def notification_customer_links(request, notifications) -> dict:
    """Which notifications of the page link to a customer the reader may no longer open (moved to another RM):
    one query for the whole page, and only when the page links to a customer."""
    linked = {n.pk: _customer_of(n.url) for n in notifications}
    access = customer_access_of(request.user, {pk for pk in linked.values() if pk})
    for n in notifications:
        pk = linked[n.pk]
        if pk is not None:
            visible, rm_name = access.get(pk, (False, ""))
            n.customer_link = CustomerLink(pk, visible, rm_name)
    return {}
