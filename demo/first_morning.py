"""The demo's first morning: the week of reminders the nightly jobs would have made, what the RMs did with them, the
items that make every kind show on each RM's Today, and what waits for the heads' approval.

Runs after the customers, visit plans and complaints of seed_demo, and before the dashboards' figures are built
(they are counted from what is written here). The reminders come from the generators the Celery jobs run
(reminders.services.reminders_generate and follow_ups_housekeeping); this module only seeds what they read
(birthdays, maturities, large transactions, falling assets) and plays the RMs' part (done on time or late).
Deterministic for a seed and a day. Does nothing when the demo's reminders exist.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from customers import masking, pii
from customers.models import AssetSnapshot, Customer, Holding, LargeTransaction
from customers.validators import resident_id_check_char
from organisation.models import Staff
from relationships.models import Handover, ReassignmentRequest, VisitPlan
from relationships.services import (
    handover_start,
    handover_submit,
    reassignment_request,
    staff_mark_leaving,
    visit_plan_submit,
)
from reminders.models import FollowUp
from reminders.services import follow_ups_housekeeping, reminders_generate

HISTORY_DAYS = 7  # the nightly reminder runs before the first morning
LARGE_BANK = 200_000  # customers
ON_TIME, LATE = 0.65, 0.20  # of the reminders due before today: done by their day, done late; the rest still open
NIGHTLY_RUN = time(6, 0)  # when the reminder job runs (crm_site/schedule.py)


@dataclass
class Morning:
    reminders: dict = field(default_factory=dict)  # kind → open follow-ups
    reassignments: int = 0
    plans: int = 0
    handovers: int = 0


def seed_first_morning(*, seed: int, today: date | None = None) -> Morning:
    today = today or timezone.localdate()
    if not Customer.objects.exists() or FollowUp.objects.exclude(kind=FollowUp.Kind.MANUAL).exists():
        return Morning()
    rng = random.Random(seed + 11)
    rms = list(Staff.objects.filter(role=Staff.Role.RM, status=Staff.Status.ACTIVE).order_by("employee_no"))
    # On a bench-sized bank one earlier night is enough (each night runs every generator over every customer).
    history = HISTORY_DAYS if Customer.objects.count() <= LARGE_BANK else 1
    for back in range(history, 0, -1):
        _nightly_run(today - timedelta(days=back))
    _rms_handled(rng, today)
    follow_ups_housekeeping(today=today)
    with transaction.atomic():
        for rm in rms:
            _birthdays(rng, rm, today)
            _maturities(rng, rm, today)
            _movements(rng, rm, today)
    _nightly_run(today)
    morning = Morning()
    morning.reassignments, morning.plans, morning.handovers = _approvals(rng, rms, today)
    for kind in FollowUp.objects.filter(status=FollowUp.Status.OPEN).values_list("kind", flat=True):
        morning.reminders[kind] = morning.reminders.get(kind, 0) + 1
    return morning


def _nightly_run(day: date) -> None:
    """The reminder job of ``day``, its follow-ups dated when the job runs."""
    last = FollowUp.objects.aggregate(last=Max("pk"))["last"] or 0
    reminders_generate(today=day)
    at = min(datetime.combine(day, NIGHTLY_RUN, tzinfo=timezone.get_current_timezone()), timezone.now())
    FollowUp.objects.filter(pk__gt=last).update(created_at=at)


def _local(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 16), rng.randint(0, 59)), tzinfo=timezone.get_current_timezone())


def _rms_handled(rng: random.Random, today: date) -> None:
    """The RMs' week: of the generated reminders due before today, most done by their day, some late, the rest
    open. Customers not contacted within their tier's policy stay so (that is what the coverage figure shows), and
    so do this month's churn warnings; last month's were all dealt with by the month's end."""
    month_start = today.replace(day=1)
    changed = []
    rows = (
        FollowUp.objects.filter(status=FollowUp.Status.OPEN, due_on__lt=today)
        .exclude(kind__in=[FollowUp.Kind.MANUAL, FollowUp.Kind.CONTACT_POLICY])
        .order_by("pk")
    )
    for f in rows:
        created = timezone.localdate(f.created_at)
        draw = rng.random()
        if f.kind == FollowUp.Kind.CHURN_RISK:
            if f.due_on >= month_start:
                continue  # keeping a customer takes longer than a week
            late = draw >= ON_TIME / (ON_TIME + LATE)
            done = min(f.due_on + timedelta(days=rng.randint(1, 3) if late else 0), month_start - timedelta(days=1))
        elif draw < ON_TIME:
            done = created + timedelta(days=rng.randint(0, max(0, (f.due_on - created).days)))
        elif draw < ON_TIME + LATE:
            done = f.due_on + timedelta(days=rng.randint(1, 3))
        else:
            continue
        if done >= today:
            continue
        f.status, f.completed_at = FollowUp.Status.DONE, _local(done, rng)
        changed.append(f)
    FollowUp.objects.bulk_update(changed, ["status", "completed_at"], batch_size=2000)


def _customers_of(rm: Staff):
    return Customer.objects.filter(primary_rm=rm, closed_on__isnull=True).order_by("pk")


def _birthdays(rng: random.Random, rm: Staff, today: date) -> None:
    """Two of the RM's individual customers born on a day of the coming ones (today, and one of the next three):
    their birth date and the resident ID that encodes it are moved to that month and day."""
    people = list(_customers_of(rm).filter(kind=Customer.Kind.INDIVIDUAL, id_type="resident_id", lunar_birthday=False))
    for customer, offset in zip(rng.sample(people, min(2, len(people))), (0, rng.randint(1, 3)), strict=False):
        day = today + timedelta(days=offset)
        try:
            birth = customer.birth_date.replace(month=day.month, day=day.day)
        except ValueError:  # 29 February of a common year
            continue
        old = pii.decrypt(customer.id_number_enc)
        first17 = f"{old[:6]}{birth:%Y%m%d}{old[14:17]}"
        number = first17 + resident_id_check_char(first17)
        digest = pii.search_hash("resident_id", number)
        if Customer.objects.filter(id_number_hash=digest).exists():
            continue
        Customer.objects.filter(pk=customer.pk).update(
            birth_date=birth,
            birth_md=birth.month * 100 + birth.day,
            id_number_enc=pii.encrypt(number),
            id_number_hash=digest,
            id_number_masked=masking.mask_id_number(number),
            id_last4=number[-4:],
        )


def _maturities(rng: random.Random, rm: Staff, today: date) -> None:
    """Two of the RM's deposits or wealth products maturing within the week."""
    holdings = list(
        Holding.objects.filter(
            customer__in=_customers_of(rm),
            closed_on__isnull=True,
            product__category__in=["time_deposit", "wealth"],
            product__term_days__isnull=False,
        )
        .select_related("product")
        .order_by("pk")
    )
    for holding, offset in zip(rng.sample(holdings, min(2, len(holdings))), rng.sample(range(1, 8), 2), strict=False):
        maturity = today + timedelta(days=offset)
        Holding.objects.filter(pk=holding.pk).update(
            maturity_on=maturity, opened_on=maturity - timedelta(days=holding.product.term_days)
        )


def _movements(rng: random.Random, rm: Staff, today: date) -> None:
    """Yesterday's core-banking extract: one large transfer out of an RM's customer, and another customer's assets
    a good deal lower overnight (their earlier snapshots raised by the amount that left)."""
    people = list(_customers_of(rm).filter(segment__isnull=False).select_related("segment")[:200])
    if len(people) < 2:
        return
    sender, mover = rng.sample(people, 2)
    yesterday = today - timedelta(days=1)
    threshold = sender.segment.large_movement_threshold
    amount = (threshold * Decimal(rng.choice(["1.2", "1.5", "2", "3"]))).quantize(Decimal("1"))
    LargeTransaction.objects.create(
        customer=sender,
        business_date=yesterday,
        txn_time=_local(yesterday, rng),
        amount=-amount,
        channel=rng.choice(["手机银行", "网上银行", "柜面"]),
        memo="跨行转账汇出",
    )
    drop = (mover.segment.large_movement_threshold * Decimal("1.4")).quantize(Decimal("1"))
    AssetSnapshot.objects.filter(customer=mover, date__lt=today).update(aum=F("aum") + drop)


def _approvals(rng: random.Random, rms: list[Staff], today: date) -> tuple[int, int, int]:
    """What waits for the heads: reassignment requests from three RMs, next week's visit plans of five submitted,
    and the handover of an RM who is leaving, prepared by their 支行 head."""
    if ReassignmentRequest.objects.exists() or Handover.objects.exists():
        return 0, 0, 0
    reasons = ("客户居住地变更，就近服务", "客户要求更换客户经理", "客户主要业务转至对公条线维护")
    requests = 0
    for (mover, receiver), reason in zip(((0, 1), (6, 7), (10, 11)), reasons, strict=True):
        if receiver >= len(rms):
            break
        customers = list(_customers_of(rms[mover]).order_by("-aum")[10:12])
        if not customers:
            continue
        reassignment_request(actor=rms[mover].user, customers=customers, to_staff=rms[receiver], reason=reason)
        requests += 1
    plans = 0
    for rm in rms[0:16:3]:
        plan = VisitPlan.objects.filter(staff=rm, status=VisitPlan.Status.DRAFT).order_by("planned_on").first()
        if plan is not None:
            visit_plan_submit(actor=rm.user, plan=plan)
            plans += 1
    handovers = 0
    if len(rms) >= 3:
        leaver, targets = rms[-1], rms[-3:-1]
        head = Staff.objects.filter(role=Staff.Role.HEAD, branch=leaver.branch.parent).order_by("employee_no").first()
        if head is not None:
            staff_mark_leaving(actor=head.user, staff=leaver, last_day=today + timedelta(days=14))
            handover = handover_start(
                actor=head.user, leaver=leaver, targets=targets, method=Handover.Method.BY_TIER, note="离职交接"
            )
            handover_submit(actor=head.user, handover=handover)
            handovers = 1
    return requests, plans, handovers
