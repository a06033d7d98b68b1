"""The hot queries are served by indexes (PostgreSQL only). On a test database the tables are tiny and a
sequential scan would win on cost, so each plan is taken with ``enable_seqscan = off``: a query that no index can
serve still shows a Seq Scan then. Where an index is named, the plan must use that one. The timings these
indexes buy are in docs/performance.md (make bench)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers import pii, selectors
from customers.models import Customer
from reminders.models import FollowUp
from reminders.selectors import today_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def data(org, book):
    for i in range(30):
        CustomerFactory(primary_rm=[org.rm_west, org.rm_west2, org.rm_east][i % 3], name=f"{'王李张'[i % 3]}客户{i}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("SET LOCAL enable_seqscan = off")
    return book


def index_on(table: str, expression: str) -> str:
    """The name of the index of ``table`` whose definition contains ``expression``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s ORDER BY indexname",
            [table, f"%{expression}%"],
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names, f"no index on {table} {expression}"
    return names[0]


def only_index(table: str, keep: str) -> None:
    """Drop, inside the test's transaction (rolled back after it), every index of ``table`` but ``keep`` and those
    backing constraints: on a tiny table the planner may prefer any index at all, and what is checked here is that
    ``keep`` can serve the query."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
               WHERE t.relname = %s AND i.relname <> %s
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            [table, keep],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')


def plan(queryset) -> str:
    return queryset.explain()


def assert_indexed(text: str, table: str = "customers_customer", index: str | None = None) -> None:
    assert f"Seq Scan on {table}" not in text, text
    if index:
        assert index in text, text


def search(term: str):
    """The search condition alone, as the list applies it (each alternative must have an index: with one
    alternative unindexed, PostgreSQL can only scan the whole table)."""
    return Customer.objects.filter(selectors.search_condition(term)).order_by().values("pk")


def test_search_by_id_number_tail_uses_its_index(org, data):
    assert data.west.pk in {r["pk"] for r in search("002X")}
    assert_indexed(plan(search("002X")), index=index_on("customers_customer", "(id_last4)"))


def test_search_by_mobile_uses_the_hash_index(org, data):
    assert [r["pk"] for r in search("13800138000")] == [data.west.pk]
    assert pii.search_hash("mobile", "13800138000") in str(search("13800138000").query)
    assert_indexed(plan(search("13800138000")), index=index_on("customers_customer", "(mobile_hash)"))


def test_search_by_full_id_number_uses_the_unique_hash_index(org, data):
    assert [r["pk"] for r in search("11010519491231002X")] == [data.west.pk]
    assert_indexed(plan(search("11010519491231002X")), index="customer_unique_id_number")


def test_search_by_name_prefix_uses_the_pattern_index(org, data):
    assert len(search("王")) >= 10
    assert_indexed(plan(search("王")), index=index_on("customers_customer", "name varchar_pattern_ops"))


def test_rm_portfolio_is_found_by_an_index_on_the_rm(org, data):
    """customer_rm_aum_idx (primary_rm, -aum) serves the default sort at scale; on a tiny table any index led by
    primary_rm may be chosen."""
    qs = selectors.customer_list(org.rm_west2.user, selectors.CustomerFilters())
    text = plan(qs[:50])
    assert_indexed(text)
    assert "Index Cond: (primary_rm_id = " in text, text


def test_my_customers_by_longest_without_contact_uses_the_rm_contact_index(org, data):
    """customer_rm_contacted_idx gives the RM's customers in this order, with no sort."""
    qs = selectors.customer_list(org.rm_west2.user, selectors.CustomerFilters(sort="last_contacted_at"))
    only_index("customers_customer", "customer_rm_contacted_idx")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
    assert_indexed(plan(qs[:50]), index="customer_rm_contacted_idx")


@pytest.mark.parametrize("sort", ["-aum", "last_contacted_at", "name"])
def test_rm_with_secondary_customers_is_not_served_by_a_bank_wide_index_walk(org, data, sort):
    """primary_rm = me OR id IN (secondary): PORTFOLIO_SORTS order by expressions no index matches, so the few
    thousand rows come from the RM's own indexes and are sorted in memory, instead of a walk of the whole bank's
    aum (or contact, or name) index filtering out every other RM's customers."""
    from relationships import services

    services.assignment_add_secondary(actor=org.west_head.user, customer=data.west2, staff=org.rm_west, reason="协管")
    qs = selectors.customer_list(org.rm_west.user, selectors.CustomerFilters(sort=sort))
    assert data.west2 in qs and data.west in qs
    with connection.cursor() as cursor:  # with sorting made dear, an index giving the order would be preferred
        cursor.execute("SET LOCAL enable_sort = off")
    text = plan(qs.all()[:50])
    assert_indexed(text)
    for index in ("customer_aum_idx", "customer_contacted_idx", "customers_customer_name_"):
        assert index not in text, text


def test_today_follow_ups_use_the_open_follow_up_index(org, data):
    today = timezone.localdate()
    from relationships import services

    for customer in Customer.objects.filter(primary_rm=org.rm_west):
        services.interaction_log(actor=org.rm_west.user, customer=customer, next_follow_up_on=today)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE relationships_followup")
    only_index("relationships_followup", "followup_open_staff_idx")
    assert today_for(org.rm_west).total > 0
    open_ = FollowUp.objects.filter(
        staff=org.rm_west, status=FollowUp.Status.OPEN, due_on__lte=today + timedelta(days=7)
    ).order_by()
    assert_indexed(plan(open_.values("pk")), table="relationships_followup", index="followup_open_staff_idx")


def test_the_new_customers_drill_down_finds_the_period_by_the_registration_index(org, data):
    from dashboards import drills

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    drill = drills.drill_for(org.admin.user, metric="new_customers", period_key="7")
    only_index("customers_customer", "customer_created_idx")
    assert_indexed(plan(drill.records.values("pk")[:51]), index="customer_created_idx")


def test_the_ratings_drill_down_reads_the_newest_by_the_recorded_index(org, data):
    from dashboards import drills

    drill = drills.drill_for(org.admin.user, metric="ratings", period_key="30")
    only_index("relationships_satisfactionrating", "rating_recorded_idx")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
    text = plan(drill.records[:51])
    assert_indexed(text, table="relationships_satisfactionrating", index="rating_recorded_idx")
