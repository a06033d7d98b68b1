"""The pipeline's hot queries are served by their indexes (PostgreSQL only; each plan taken with
``enable_seqscan = off``, as tests/crm_site/test_explain.py does, so that a query no index serves shows a Seq Scan)."""

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from opportunities import selectors
from tests.crm_site.test_explain import only_index

from .conftest import open_one

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def plans(org, book):
    for customer in (book.west, book.west2, book.east, book.corporate):
        open_one(customer.primary_rm.user, customer)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE opportunities_opportunity")
        cursor.execute("SET LOCAL enable_seqscan = off")


def test_the_heads_sums_are_an_index_only_scan(org, plans):
    only_index("opportunities_opportunity", "opportunity_branch_open_idx")
    base = selectors.pipeline_base(org.west_head.user, mine=False)
    sums = (
        base.filter(stage__in=selectors.OPEN)
        .order_by()
        .annotate(_month=TruncMonth("expected_on"))
        .values("stage", "_month")
        .annotate(n=Count("expected_on"), total=Sum("amount"))
    )
    assert "Index Only Scan using opportunity_branch_open_idx" in sums.explain()


def test_the_unmatched_count_reads_its_partial_index(org, plans):
    only_index("opportunities_opportunity", "opportunity_unmatched_idx")
    base = selectors.pipeline_base(org.west_head.user, mine=False)
    assert "opportunity_unmatched_idx" in base.filter(match_status="unmatched").order_by().explain()


def test_the_rms_list_reads_their_open_ones_by_date(org, plans):
    only_index("opportunities_opportunity", "opportunity_owner_open_idx")
    base = selectors.pipeline_base(org.rm_west.user, mine=True)
    plan = selectors.pipeline_list(base, selectors.PipelineFilters())[:25].explain()
    assert "opportunity_owner_open_idx" in plan
