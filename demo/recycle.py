"""Demo release proposals (释放审批): a few customers per tier whose RM, by the demo's history, has held them longer
than the tier's recycle window without a contact; the nightly recycle job then proposes them, as it would on the
first morning. Idempotent (nothing is done once a proposal exists) and deterministic (the lowest customer ids)."""

from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from complaints.models import Complaint
from customers.models import Customer
from organisation.models import Staff
from pool.models import ReleaseRequest
from pool.selectors import release_rules
from pool.services import release_candidates_propose
from relationships.models import Assignment

PER_TIER = 2


def seed_recycle(*, today=None) -> int:
    """Open release proposals for the demo; returns how many the job made."""
    today = today or timezone.localdate()
    if ReleaseRequest.objects.exists() or not Customer.objects.exists():
        return 0
    tz = timezone.get_current_timezone()
    for rule in release_rules():
        if not rule.missed_periods:
            continue
        window = timedelta(days=rule.missed_periods * rule.period_days)
        cutoff = datetime.combine(today - window, time.min, tzinfo=tz)
        chosen = list(
            Customer.objects.filter(
                segment_id=rule.segment_id,
                primary_rm__status=Staff.Status.ACTIVE,
                primary_rm__role=Staff.Role.RM,
                closed_on__isnull=True,
            )
            .exclude(lifecycle=Customer.Lifecycle.LOST)
            .filter(Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=cutoff))
            .exclude(pk__in=Complaint.objects.filter(status__in=Complaint.OPEN_STATES).values("customer_id"))
            .order_by("pk")
            .values_list("pk", flat=True)[:PER_TIER]
        )
        # The demo's portfolios were all opened when it was seeded: these have been held since before the window.
        Assignment.objects.current().primary().filter(customer_id__in=chosen).update(
            started_at=cutoff - timedelta(days=3)
        )
    return release_candidates_propose(today=today)["proposed"]
