"""Pagination that stays cheap at a million rows.

- The count stops at a cap (``settings.LIST_COUNT_CAP``). Counting every matching row of a large table costs
  more than the page itself, and nobody pages past the first few hundred. The paginator counts at most cap + 1
  rows; beyond the cap the page shows "10,000+" and offers the pages up to the cap (narrow the filters to go
  further).
- A page past the first is fetched with a deferred join: the page's primary keys are found first (OFFSET over the
  sort index, reading only the key and the sort columns), then only those rows are read in full with their
  related rows. A plain OFFSET builds every skipped row in full, joins included: page 200 of the customer list
  took 336 ms that way and takes 12 ms this way at a million customers (docs/performance.md). Same number of
  queries.
"""

from collections.abc import Sequence

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, cap: int | None = None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.cap = cap if cap is not None else settings.LIST_COUNT_CAP

    @cached_property
    def count(self) -> int:
        # Without ORDER BY: counting needs no sort, and the LIMIT lets the scan stop at cap + 1 rows.
        return min(self.object_list.order_by()[: self.cap + 1].count(), self.cap + 1)

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        if self.is_capped:
            return max(1, self.cap // self.per_page)
        return super().num_pages

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._slice(bottom, top), number, self)

    def _slice(self, bottom: int, top: int):
        return page_slice(self.object_list, bottom, top)


def _deferrable(qs) -> bool:
    """A plain filtered, ordered queryset: not DISTINCT, grouped, combined or already sliced, whose primary keys
    alone can stand for its rows."""
    if not isinstance(qs, QuerySet):
        return False
    query = qs.query
    return not (query.distinct or query.group_by is not None or query.combinator or query.is_sliced)


def page_slice(qs, bottom: int, top: int):
    """Rows ``bottom`` to ``top`` of ``qs``, past the first page by a deferred join."""
    if bottom == 0 or not _deferrable(qs):
        return qs[bottom:top]
    # The same queryset (filters, order, select_related, prefetches) restricted to the page's keys; the outer
    # ORDER BY puts them back in order.
    return qs.filter(pk__in=qs.values("pk")[bottom:top])


def paginate(queryset, page, per_page: int = 50):
    return CappedPaginator(queryset, per_page).get_page(page)


class UncountedPage(Sequence):
    """A page that knows whether another follows, not how many there are."""

    def __init__(self, object_list: list, number: int, paginator: "UncountedPaginator", more: bool):
        self.object_list, self.number, self.paginator, self._more = object_list, number, paginator, more

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def has_next(self) -> bool:
        return self._more

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class UncountedPaginator:
    """Pages without a total: one row more than the page tells whether a next page exists. For lists whose size is
    shown from elsewhere — the dashboards' drill-downs show the figure they explain — and where even a capped count
    over a large scope costs more than the page (tens of ms for a sub-branch's month of interactions). Pages stop
    at ``max_pages`` (an OFFSET beyond that is slow, and nobody reads that far: the filters narrow the list)."""

    uncounted = True

    def __init__(self, object_list, per_page: int, max_pages: int = 200):
        self.object_list, self.per_page, self.max_pages = object_list, per_page, max_pages

    def get_page(self, number) -> UncountedPage:
        try:
            number = min(max(int(number), 1), self.max_pages)
        except (TypeError, ValueError):
            number = 1
        bottom = (number - 1) * self.per_page
        rows = list(page_slice(self.object_list, bottom, bottom + self.per_page + 1))
        more = len(rows) > self.per_page and number < self.max_pages
        return UncountedPage(rows[: self.per_page], number, self, more)
