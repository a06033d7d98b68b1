"""Pagination that stays cheap at a million rows: the count stops at a cap (``settings.LIST_COUNT_CAP``).

Counting every matching row of a large table costs more than the page itself, and nobody pages past the first
few hundred. The paginator counts at most cap + 1 rows; beyond the cap the page shows "10,000+" and offers the
pages up to the cap (narrow the filters to go further).
"""

from django.conf import settings
from django.core.paginator import Paginator
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


def paginate(queryset, page, per_page: int = 50):
    return CappedPaginator(queryset, per_page).get_page(page)
