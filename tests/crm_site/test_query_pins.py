"""Query-count pins of the staff pages not pinned in their own app's tests: each page runs at most its pin, and
no more once the data grows (more customers, interactions, follow-ups, notifications, requests, plans and
handovers). The customer list's default view, Today, My customers, the 360° page, the timeline, the branch tree
and the customer changelist are pinned in tests/customers and tests/relationships; the benchmark
(bench/pins.toml) pins every page again over real HTTP at 10k and 1M customers."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from notifications import services as notification_services
from relationships import services
from relationships.models import Handover
from tests.factories import CustomerFactory

# (id, URL name, who, query string, pin)
PAGES = [
    ("list-name", "customers:customer-list", "west_head", {"q": "王"}, 13),
    ("list-mobile", "customers:customer-list", "west_head", {"q": "13800138000"}, 13),
    ("list-id-tail", "customers:customer-list", "west_head", {"q": "002X"}, 13),
    ("list-filtered", "customers:customer-list", "west_head", {"lifecycle": "new", "risk_level": "C3"}, 12),
    ("list-sort-aum", "customers:customer-list", "top_head", {"sort": "aum"}, 13),
    ("list-sort-contact", "customers:customer-list", "top_head", {"sort": "last_contacted_at"}, 13),
    ("list-page-2-admin", "customers:customer-list", "admin", {"page": "2"}, 12),
    ("list-rm", "customers:customer-list", "rm_west", {}, 12),
    ("my-visits", "relationships:my-visits", "rm_west", {}, 10),
    ("notifications", "notifications:notification-list", "rm_west", {}, 9),
    ("approvals", "relationships:approvals", "west_head", {}, 11),  # + the release proposals waiting (pool)
    ("reassignments", "relationships:reassignment-list", "west_head", {}, 9),
    ("handovers", "relationships:handover-list", "top_head", {}, 10),
    ("admin-customers", "admin:customers_customer_changelist", "admin", {}, 9),
    ("admin-interactions", "admin:relationships_interaction_changelist", "admin", {}, 8),
]


def grow(org, n: int, leaver: str) -> None:
    """``n`` more of everything the pages above list, and a handover of ``leaver``'s portfolio."""
    today = timezone.localdate()
    for rm in (org.rm_west, org.rm_west2, org.rm_east):
        for _ in range(n):
            customer = CustomerFactory(primary_rm=rm)
            services.interaction_log(actor=rm.user, customer=customer, next_follow_up_on=today)
    mine = list(Customer.objects.filter(primary_rm=org.rm_west).order_by("-pk")[: 2 * n])
    for customer in mine[:n]:
        services.reassignment_request(
            actor=org.rm_west.user, customers=[customer], to_staff=org.rm_west2, reason="调整"
        )
    for i in range(n):
        notification_services.notification_send([org.rm_west], f"提醒 {i}", "/")
        services.visit_plan_create(
            actor=org.rm_west.user, planned_on=today + timedelta(days=i), customers=mine[n:], purpose="maintenance"
        )
    leaver = getattr(org, leaver)
    services.staff_mark_leaving(actor=org.top_head.user, staff=leaver, last_day=today + timedelta(days=7))
    services.handover_start(actor=org.top_head.user, leaver=leaver, targets=[org.rm_west2], method=Handover.Method.EVEN)


@pytest.mark.parametrize(("url_name", "who", "query", "pin"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_page_query_count_is_pinned_and_does_not_grow(
    org, book, login, django_assert_max_num_queries, url_name, who, query, pin
):
    client = login(getattr(org, who))
    url = reverse(url_name)
    if "q" in query:  # a search posts its term; the page is then read by its token (customers.search)
        url, query = client.post(url, query)["Location"], {}
    grow(org, 1, "rm_east")  # one of each: an empty list can skip a query that a non-empty one needs
    with django_assert_max_num_queries(pin) as few:
        assert client.get(url, query).status_code == 200
    grow(org, 6, "rm_west")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url, query).status_code == 200
