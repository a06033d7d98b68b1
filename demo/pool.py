"""Demo of the customer pool for seed_demo: a history of claims and assignments out of the outlets' pools, and a
named pool keeper at the first outlet. The pool itself comes from the customers' demo (``demo.organisation``:
about 40 % of 大众 customers have no RM).

Deterministic and idempotent: the outlets, RMs and customers are taken in a fixed order, and a database that already
holds pool claims is left as it is. Everything goes through the pool's services, as a head or an RM would do it.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from organisation import access
from organisation.models import Branch, Staff
from pool import services
from pool.models import PoolClaim, PoolKeeper
from pool.selectors import in_pool

OUTLETS = 10  # outlets given a claim history (the first by code): enough to show, bounded at bench scale
CLAIMS_PER_RM = 2
ASSIGNED_PER_OUTLET = 3


def _at(days_ago: int, hour: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())


def _head_over(branch: Branch, heads: list[Staff]) -> Staff | None:
    """The nearest active head above (or at) ``branch``."""
    over = [h for h in heads if access.can_approve(h, branch)]
    return max(over, key=lambda h: h.branch.depth, default=None)


@transaction.atomic
def seed_pool(*, seed: int) -> dict:
    """Claims and assignments of the last two weeks, and a named keeper. Returns what was written."""
    if PoolClaim.objects.exists():
        return {"claims": 0, "assigned": 0, "keepers": PoolKeeper.objects.count()}
    heads = list(Staff.objects.filter(role=Staff.Role.HEAD, status=Staff.Status.ACTIVE).select_related("branch"))
    outlets = list(Branch.objects.filter(level=Branch.Level.OUTLET).order_by("code")[:OUTLETS])
    claimed = assigned = keepers = 0
    for n, outlet in enumerate(outlets):
        rms = list(
            Staff.objects.filter(branch=outlet, role=Staff.Role.RM, status=Staff.Status.ACTIVE).order_by("employee_no")
        )
        head = _head_over(outlet, heads)
        if not rms or head is None:
            continue
        # Largest 大众 customers first: the ones an RM would pick.
        waiting = list(
            in_pool(Customer.objects.filter(branch=outlet, segment__code="mass"))
            .order_by("-aum", "pk")
            .values_list("pk", flat=True)[: CLAIMS_PER_RM * len(rms) + ASSIGNED_PER_OUTLET]
        )
        for i, rm in enumerate(rms):
            mine = waiting[i * CLAIMS_PER_RM : (i + 1) * CLAIMS_PER_RM]
            if mine:
                days_ago = 2 + (seed + n + i) % 12
                claimed += len(services.pool_claim(actor=rm, customer_ids=mine, now=_at(days_ago, 10)))
        rest = waiting[CLAIMS_PER_RM * len(rms) :]
        if rest:
            assigned += len(
                services.pool_assign(actor=head, customer_ids=rest, rms=rms, method="even", now=_at(1 + n % 5, 15))
            )
        if n == 0:
            services.pool_keeper_set(actor=head, branch=outlet, staff=rms[0])
            keepers += 1
    return {"claims": claimed, "assigned": assigned, "keepers": keepers}
