"""The nightly figures on a small hand-built data set: every figure of every branch and RM row is checked against
a plain computation over the source rows (a Python loop over the records, written independently of the SQL);
the rebuild is idempotent; the nightly task and the command build the right days."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from complaints.models import Complaint
from customers.models import AssetSnapshot, Customer, Holding, Segment
from dashboards import figures
from dashboards.models import BranchDayFigures, RmDayFigures, UncoveredCustomer
from organisation.models import Branch, Staff
from relationships import services
from relationships.models import Interaction, SatisfactionRating
from reminders.models import FollowUp
from reminders.services import EXPIRE_AFTER_DAYS
from tests.dashboards.helpers import DAY, NOW, SH, at

pytestmark = pytest.mark.django_db


def bounds(day: date):
    return at(day, 0), at(day + timedelta(days=1), 0)


def tier_for(aum: Decimal):
    for tier in Segment.objects.all():
        if tier.contains(aum):
            return tier
    return None


# ----------------------------------------------------------------------------------------------------------------
# The oracle: each figure computed by looping over the source rows
# ----------------------------------------------------------------------------------------------------------------


def expected(day: date) -> tuple[dict, dict]:
    start, end = bounds(day)
    branches = {b.pk: blank() for b in Branch.objects.all()}
    rms = {s.pk: blank() for s in Staff.objects.filter(role=Staff.Role.RM)}

    def rows(branch_id, staff_id):
        return [r for r in (branches.get(branch_id), rms.get(staff_id)) if r is not None]

    snapshots = {(s.customer_id, s.date): s.aum for s in AssetSnapshot.objects.all()}
    interactions = list(Interaction.objects.select_related("customer"))
    for c in Customer.objects.all():
        if c.created_at >= end or c.lifecycle == Customer.Lifecycle.LOST:
            continue
        aum = snapshots.get((c.pk, day), c.aum)
        tier = tier_for(aum)
        reached = [i.occurred_at for i in interactions if i.customer_id == c.pk and i.outcome != "no_answer"]
        last = max((t for t in reached if t < end), default=None)
        overdue = False
        if tier is not None:
            cutoff = at(day - timedelta(days=tier.contact_policy_days - 1), 0)
            overdue = c.created_at < cutoff and (last is None or last < cutoff)
        for r in rows(c.branch_id, c.primary_rm_id):
            r["customers"] += 1
            r["aum"] += aum
            r["new_customers"] += int(c.created_at >= start)
            r["policy_customers"] += int(tier is not None)
            r["overdue_customers"] += int(overdue)
            r["effective_customers"] += int(aum >= Decimal("50000"))  # FigureSettings' default threshold
            if tier is not None:
                r["by_tier"].setdefault(str(tier.pk), [0, Decimal(0)])
                r["by_tier"][str(tier.pk)][0] += 1
                r["by_tier"][str(tier.pk)][1] += aum
    for h in Customer.history.filter(history_date__gte=start, history_date__lt=end, lifecycle="lost"):
        previous = h.prev_record
        if previous is not None and previous.lifecycle != "lost":
            for r in rows(h.branch_id, h.primary_rm_id):
                r["lost_customers"] += 1
    for i in interactions:
        if start <= i.occurred_at < end:
            for r in rows(i.customer.branch_id, i.staff_id):
                r["interactions"] += 1
                r["by_channel"][i.channel] = r["by_channel"].get(i.channel, 0) + 1
    for f in FollowUp.objects.select_related("customer"):
        if f.status == "expired":
            open_then = f.created_at < end and f.due_on > day - timedelta(days=EXPIRE_AFTER_DAYS[f.kind])
        else:
            open_then = f.created_at < end and (f.status in ("open", "snoozed") or (f.completed_at or end) >= end)
            open_then = open_then and not (f.status in ("done", "skipped") and f.completed_at is None)
        snoozed_past = f.status == "snoozed" and f.snoozed_until and f.snoozed_until > day
        done = f.status == "done" and f.completed_at and start <= f.completed_at < end
        for r in rows(f.customer.branch_id, f.staff_id):
            r["follow_ups_open"] += int(open_then)
            r["follow_ups_overdue"] += int(open_then and f.due_on <= day and not snoozed_past)
            r["churn_risk"] += int(open_then and f.kind == "churn")
            r["follow_ups_done"] += int(bool(done))
            r["follow_ups_done_on_time"] += int(bool(done) and timezone.localdate(f.completed_at) <= f.due_on)
    for c in Complaint.objects.all():
        received = start <= c.received_at < end
        decided = c.first_decided_at is not None and start <= c.first_decided_at < end
        open_then = c.status in Complaint.OPEN_STATES or (c.first_decided_at is not None and c.first_decided_at >= end)
        overdue = open_then and c.received_at < end and c.due_at < end and c.paused_since is None
        for r in rows(c.branch_id, c.subject_staff_id):
            r["complaints_received"] += int(received)
            if received:
                r["by_category"][str(c.category_id)] = r["by_category"].get(str(c.category_id), 0) + 1
            r["complaints_decided"] += int(decided)
            r["complaints_on_time"] += int(decided and c.decided_on_time is True)
            r["complaints_overdue"] += int(overdue)
    for h in Holding.objects.select_related("customer", "product"):
        if h.opened_on == day and h.customer.lifecycle != Customer.Lifecycle.LOST:
            for r in rows(h.customer.branch_id, h.customer.primary_rm_id):
                kind = h.product.category
                r["holdings_opened"][kind] = r["holdings_opened"].get(kind, 0) + 1
    for s in SatisfactionRating.objects.select_related("customer"):
        if start <= s.recorded_at < end:
            for r in rows(s.customer.branch_id, s.rated_staff_id):
                r["rating_count"] += 1
                r["rating_sum"] += s.score
    return branches, rms


# The count columns, read from the model (not copied from dashboards.figures): a figure added to the model is
# compared below, and the oracle has to compute it.
# The pool's figures (a branch row's only) have an oracle of their own: tests/dashboards/test_pool_figures.py.
POOL = set(figures.POOL_FIELDS)
COUNTS = [
    f.name
    for f in BranchDayFigures._meta.concrete_fields
    if isinstance(f, models.PositiveIntegerField) and f.name not in POOL
]
# The columns of the row that are not figures: its key, and the branch row's flag for the list of the day.
KEYS = {
    BranchDayFigures: {"id", "day", "branch", "uncovered_listed"} | POOL,
    RmDayFigures: {"id", "day", "staff", "branch"},
}


def blank() -> dict:
    maps = {"by_tier": {}, "by_channel": {}, "by_category": {}, "holdings_opened": {}}
    return {**{k: 0 for k in COUNTS}, "aum": Decimal(0), **maps}


def as_dict(row) -> dict:
    out = {k: getattr(row, k) for k in COUNTS}
    out["aum"] = Decimal(row.aum).quantize(Decimal("0.01"))
    out["by_tier"] = {k: [v["customers"], Decimal(v["aum"]).quantize(Decimal("0.01"))] for k, v in row.by_tier.items()}
    out["by_channel"] = dict(row.by_channel)
    out["by_category"] = dict(row.by_category)
    out["holdings_opened"] = dict(row.holdings_opened)
    return out


def normal(d: dict) -> dict:
    d = dict(d)
    d["aum"] = Decimal(d["aum"]).quantize(Decimal("0.01"))
    d["by_tier"] = {k: [n, Decimal(a).quantize(Decimal("0.01"))] for k, (n, a) in d["by_tier"].items()}
    return d


# ----------------------------------------------------------------------------------------------------------------


def test_a_build_writes_every_figure_column_of_the_daily_rows():
    """figures.FIELDS, the columns a build writes (and rewrites on a rebuild), is every column of the models but
    the row's key: a figure added to the model and not to the build would keep its default forever."""
    for model, keys in KEYS.items():
        columns = {f.name for f in model._meta.concrete_fields} - keys
        assert sorted(figures.FIELDS) == sorted(columns), model.__name__
    assert len(COUNTS) == 18 and {"customers", "rating_sum"} <= set(COUNTS)  # read from the model


def test_every_figure_matches_the_source_tables(org, book, data):
    with time_machine.travel(NOW, tick=False):
        run = figures.figures_build(day=DAY)
    branches, rms = expected(DAY)
    unexercised = [k for k in COUNTS if not any(want[k] for want in branches.values())]
    assert unexercised == [], "the data set leaves these figures at zero, so the comparison proves nothing for them"
    assert run.branches == Branch.objects.count() and run.rms == len(rms)
    for branch_id, want in branches.items():
        assert as_dict(BranchDayFigures.objects.get(branch_id=branch_id, day=DAY)) == normal(want), branch_id
    for staff_id, want in rms.items():
        row = RmDayFigures.objects.get(staff_id=staff_id, day=DAY)
        assert as_dict(row) == normal(want), staff_id
        assert row.branch_id == Staff.objects.get(pk=staff_id).branch_id


def test_the_hand_built_cases_come_out_as_intended(org, book, data):
    """The data set exercises each rule (so that the oracle comparison above is not vacuous)."""
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
    west = BranchDayFigures.objects.get(branch=org.west_outlet, day=DAY)
    west2 = BranchDayFigures.objects.get(branch=org.west_outlet2, day=DAY)
    east = BranchDayFigures.objects.get(branch=org.east_outlet, day=DAY)
    # west: book.west, corporate, never, new (the customer registered the next day is not counted)
    assert west.customers == 4 and west.new_customers == 1
    assert west.overdue_customers == 2  # never contacted, and the corporate (a call not answered)
    assert west.aum == Decimal("60000.00") + 3 * Decimal("10000.00")
    assert west.interactions == 3 and west.by_channel == {"phone": 1, "wechat": 1, "visit": 1}
    assert west.follow_ups_open == 2 and west.follow_ups_overdue == 1 and west.follow_ups_done_on_time == 1
    assert west.complaints_received == 1 and west.complaints_overdue == 1  # the paused one is not late
    assert west.rating_count == 2 and west.rating_sum == 7
    # west2: the private-tier customer (by the day's snapshot) last contacted 40 days before: not in time
    private = Segment.objects.get(pk=int(max(west2.by_tier, key=lambda k: Decimal(west2.by_tier[k]["aum"]))))
    assert private.contact_policy_days == 30
    assert west2.overdue_customers == 2  # the private one, and the one contacted only after the day
    assert west2.follow_ups_done == 1 and west2.follow_ups_done_on_time == 0
    assert west2.follow_ups_overdue == 1  # done the next day: still late at the end of the day; snoozed is not
    # east: the customer contacted after the day had a contact within the window before it: covered
    assert east.lost_customers == 1 and east.customers == 2 and east.overdue_customers == 0
    assert east.interactions == 1 and east.by_channel == {"event": 1}
    assert east.complaints_decided == 2 and east.complaints_on_time == 1 and east.complaints_overdue == 1
    assert east.churn_risk == 1 and east.follow_ups_open == 2  # the churn one and the birthday due that day
    rm_east = RmDayFigures.objects.get(staff=org.rm_east, day=DAY)
    assert rm_east.interactions == 0  # the head's contact counts for the branch, not the RM
    assert rm_east.lost_customers == 1 and rm_east.complaints_decided == 1


def test_rebuilding_is_idempotent_and_follows_the_sources(org, book, data):
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
        first = {r.pk: as_dict(r) for r in BranchDayFigures.objects.all()}
        figures.figures_build(day=DAY)
        again = {r.pk: as_dict(r) for r in BranchDayFigures.objects.all()}
        assert again == first  # the same rows (same keys), rewritten with the same values
        assert RmDayFigures.objects.filter(day=DAY).count() == Staff.objects.filter(role="rm").count()
        services.interaction_log(actor=org.rm_west.user, customer=book.west, occurred_at=at(DAY, 20), channel="sms")
        figures.figures_build(day=DAY)
    row = BranchDayFigures.objects.get(branch=org.west_outlet, day=DAY)
    assert row.interactions == 4 and row.by_channel["sms"] == 1
    assert BranchDayFigures.objects.filter(day=DAY).count() == Branch.objects.count()


def test_the_build_lists_the_customers_the_rule_finds_not_contacted_in_time(org, book, data):
    """The list behind the drill-down is exactly the rule's set of the day (the oracle above agrees on the counts),
    with each customer's AUM on the day; building again replaces it without duplicates."""
    rule = figures.customers_as_of(DAY).filter(figures.not_contacted_in_time(DAY))
    want = {c.pk: c.aum_on_day for c in rule}
    assert len(want) == 4  # see test_the_hand_built_cases_come_out_as_intended
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
        figures.figures_build(day=DAY)
    assert dict(UncoveredCustomer.objects.filter(day=DAY).values_list("customer_id", "aum")) == want
    assert UncoveredCustomer.objects.count() == 4
    assert figures.uncovered_listed(DAY)
    assert sum(r.overdue_customers for r in BranchDayFigures.objects.filter(day=DAY)) == 4
    # A contact logged afterwards for that day is in the list once the day is built again.
    customer = next(c for c in rule if c.last_contacted_at is None)
    with time_machine.travel(NOW, tick=False):
        services.interaction_log(actor=org.west_head.user, customer=customer, occurred_at=at(DAY, 15))
        figures.figures_build(day=DAY)
    assert not UncoveredCustomer.objects.filter(day=DAY, customer=customer).exists()
    assert UncoveredCustomer.objects.filter(day=DAY).count() == 3


def test_the_lists_of_days_long_past_are_pruned(org, book, data):
    old, recent = DAY - timedelta(days=figures.UNCOVERED_KEEP_DAYS + 1), DAY - timedelta(days=2)
    with time_machine.travel(NOW, tick=False):
        for day in (old, recent, DAY):
            figures.figures_build(day=day)
    assert set(UncoveredCustomer.objects.values_list("day", flat=True)) == {recent, DAY}
    assert not figures.uncovered_listed(old) and figures.uncovered_listed(recent)
    assert not figures.uncovered_listed(DAY + timedelta(days=1))  # not built at all


def test_rows_of_a_deleted_key_go_on_rebuild(org, book, data):
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
        RmDayFigures.objects.filter(staff=org.rm_west, day=DAY).update(customers=999)
        Staff.objects.filter(pk=org.rm_west2.pk).update(role=Staff.Role.HEAD)
        figures.figures_build(day=DAY)
    assert RmDayFigures.objects.get(staff=org.rm_west, day=DAY).customers != 999
    assert not RmDayFigures.objects.filter(staff=org.rm_west2, day=DAY).exists()


def test_an_empty_day_has_a_zero_row_per_branch_and_rm(org):
    with time_machine.travel(NOW, tick=False):
        figures.figures_build(day=DAY)
    assert BranchDayFigures.objects.filter(day=DAY, customers=0).count() == Branch.objects.count()
    assert RmDayFigures.objects.filter(day=DAY).count() == 3


def test_the_nightly_task_builds_yesterday_in_shanghai_time(org, book):
    from dashboards.tasks import build_figures

    # 00:30 in Shanghai is still the previous day in UTC: yesterday is Shanghai's.
    with time_machine.travel(datetime(2026, 3, 10, 0, 30, tzinfo=SH), tick=False):
        result = build_figures.apply().get()
    assert result["day"] == "2026-03-09"
    assert BranchDayFigures.objects.filter(day=DAY).count() == Branch.objects.count()
    result = build_figures.apply(kwargs={"day": "2026-03-01"}).get()
    assert BranchDayFigures.objects.filter(day=date(2026, 3, 1)).exists()


def test_the_command_rebuilds_a_range(org, book, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("build_figures", "--from", "2026-03-01", "--to", "2026-03-03")
        assert set(BranchDayFigures.objects.values_list("day", flat=True)) == {
            date(2026, 3, 1),
            date(2026, 3, 2),
            date(2026, 3, 3),
        }
        call_command("build_figures")
        assert BranchDayFigures.objects.filter(day=DAY).exists()
        call_command("build_figures", "--days", "2", "--to", "2026-02-10")
        assert BranchDayFigures.objects.filter(day=date(2026, 2, 9)).exists()
    assert "built 3 day(s)" in capsys.readouterr().out


def test_the_schedule_has_the_nightly_entry():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="dashboards.tasks.build_figures")
    assert (task.crontab.hour, task.crontab.minute) == ("1", "50")
