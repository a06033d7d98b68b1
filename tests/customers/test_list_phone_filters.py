"""The customer list on a phone: the search box first, the other filters folded behind a "筛选" button that counts
the active ones (Bootstrap collapse, open from 576 px up; the browser test checks the layout at 375 px)."""

import pytest
from django.urls import reverse

from customers.forms import CustomerFilterForm

pytestmark = pytest.mark.django_db


def test_the_search_box_comes_before_the_folded_filters(org, book, login):
    page = login(org.west_head).get(reverse("customers:customer-list")).content.decode()
    search, toggle, filters = (
        page.index(f'data-testid="{t}"') for t in ("customer-search", "filters-toggle", "customer-filters")
    )
    assert search < toggle < filters
    assert 'class="collapse d-sm-block' in page  # folded on a phone, always shown from 576 px
    assert 'data-testid="active-filter-count"' not in page  # nothing narrows the list yet


def test_the_filters_button_counts_the_active_filters(org, book, login):
    client = login(org.west_head)
    url = reverse("customers:customer-list")
    page = client.get(url, {"lifecycle": "new", "risk_level": "C3", "sort": "aum"}).content.decode()
    assert 'data-testid="active-filter-count">2<' in page  # the sort is not a filter


def test_the_count_leaves_out_the_search_the_sort_and_invalid_values(org):
    data = {"q": "王", "sort": "aum", "kind": "individual", "aum_min": "abc", "aum_max": "100"}
    assert CustomerFilterForm(data, user=org.west_head.user).active_filter_count() == 2  # kind, aum_max
    assert CustomerFilterForm(None, user=org.west_head.user).active_filter_count() == 0
