"""The customer lifecycle (潜在 → 新客 → 成长 → 成熟 → 衰退 → 流失), derived every night from the data.

``lifecycle_derive(as_of=D)`` gives every customer the stage their data shows on business date D. The thresholds
are data (``LifecycleRules``, one row, edited in Django admin); the defaults are in brackets.

- **lost** (流失): closed in core banking (``closed_on`` set, status X); or near zero — AUM at or below
  ``lost_aum`` (100.00) — for ``lost_days`` (90) after having been active: no asset snapshot above ``lost_aum``
  in the window (D − lost_days, D], the current AUM at or below it too, and active before the window (a snapshot
  above ``lost_aum`` on or before D − lost_days, or a product held since then).
- **prospect** (潜在): never held a product (no holding, open or closed, opened on or before D) and AUM near zero.
- **new** (新客): the first holding (the earliest ``opened_on``) within ``new_days`` (90) of D: opened after
  D − new_days.
- **declining** (衰退): the current AUM below the asset snapshot of D − ``trend_days`` (90) by at least
  ``declining_percent`` (30 %).
- **growing** (成长): the current AUM above the snapshot of D − ``trend_days`` by at least ``growing_percent``
  (10 %).
- **mature** (成熟): every other customer (active: not lost, not a prospect, not new, and neither falling nor
  rising that much — or without a snapshot on D − trend_days to compare with).

The first rule that holds wins, in this order: lost > prospect > new > declining > growing > mature. A customer
whose stage staff set by hand (``lifecycle_manual``, see ``customers.services.customer_update``) is left alone.

Set-based, per stage over the whole table: one INSERT … SELECT … FOR UPDATE that locks the customers the stage
takes and writes their history rows, then one UPDATE of the customers those rows name; the precedence is written
into the WHERE (a stage's customers are those its rule takes and no earlier rule does). Each history row is the
whole customer as the UPDATE leaves it (``~``, no user: the system, reason ``lifecycle: derived``). The dashboards
count their lost customers from those rows (``dashboards.figures.lost_customers_between``). The trend snapshot is
one date, joined on the unique (customer, date) index; "near zero for lost_days" is a NOT EXISTS over the same
index. Running the same day again changes nothing and writes no history.
"""

from contextlib import nullcontext
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.bulk import plain_indexes_rebuilt
from crm_site.sql import analyze, insert_from_select
from organisation import access

from .models import AssetSnapshot, Customer, Holding, LifecycleRules

REASON = "lifecycle: derived"
# Moving this many customers at once rebuilds the customer table's plain indexes (crm_site.bulk).
REBUILD_MIN = 50_000
Stage = Customer.Lifecycle

# Highest precedence first: a customer takes the first stage whose rule holds.
PRECEDENCE = (Stage.LOST, Stage.PROSPECT, Stage.NEW, Stage.DECLINING, Stage.GROWING, Stage.MATURE)


def _rules(rules: LifecycleRules, as_of: date) -> dict[str, Q]:
    """Each stage's own rule, as a condition on ``Customer`` (annotated with ``trend_then``: the snapshot of
    D − trend_days). The trend rules only ever appear un-negated (the snapshot is a LEFT JOIN)."""
    window_start = as_of - timedelta(days=rules.lost_days)
    new_since = as_of - timedelta(days=rules.new_days)
    near_zero = Q(aum__lte=rules.lost_aum)
    held = Holding.objects.filter(customer=OuterRef("pk"), opened_on__lte=as_of)
    above = AssetSnapshot.objects.filter(customer=OuterRef("pk"), aum__gt=rules.lost_aum)
    active_before = Exists(held.filter(opened_on__lte=window_start)) | Exists(above.filter(date__lte=window_start))
    quiet = ~Exists(above.filter(date__gt=window_start, date__lte=as_of))

    then = F("trend_then__aum")
    now_x100 = F("aum") * 100
    falling = LessThanOrEqual(now_x100, then * (100 - rules.declining_percent))
    rising = GreaterThanOrEqual(now_x100, then * (100 + rules.growing_percent))
    compared = Q(trend_then__aum__isnull=False)
    return {
        Stage.LOST: Q(closed_on__isnull=False) | (near_zero & quiet & active_before),
        Stage.PROSPECT: near_zero & ~Exists(held),
        Stage.NEW: Exists(held.filter(opened_on__gt=new_since)) & ~Exists(held.filter(opened_on__lte=new_since)),
        Stage.DECLINING: compared & Q(LessThan(F("aum"), then)) & Q(falling),
        Stage.GROWING: compared & Q(GreaterThan(F("aum"), then)) & Q(rising),
        # Neither declining nor growing, written without a negation over the join: no snapshot to compare with,
        # or a change smaller than either threshold.
        Stage.MATURE: Q(trend_then__aum__isnull=True)
        | (
            (Q(GreaterThanOrEqual(F("aum"), then)) | Q(GreaterThan(now_x100, then * (100 - rules.declining_percent))))
            & (Q(LessThanOrEqual(F("aum"), then)) | Q(LessThan(now_x100, then * (100 + rules.growing_percent))))
        ),
    }


# The rules taken from the holdings and the closure: the only ones negated (columns and EXISTS). Declining and
# growing exclude each other, and mature's rule already excludes both.
NEGATED = (Stage.LOST, Stage.PROSPECT, Stage.NEW)


def _where(stage: str, rules: dict[str, Q]) -> Q:
    """The stage's rule and none of the earlier ones. The earlier rules sit in a CASE behind the stage's own rule,
    so that the database asks them only for the customers the stage's rule takes. Left side by side in the WHERE,
    a condition on the customer alone is checked on every customer, before the join with the trend snapshot and
    whatever its cost: at a million customers the trend stages took 14-22 s each that way, 1-10 s this way."""
    earlier = Q()
    for rule in PRECEDENCE[: PRECEDENCE.index(stage)]:
        if rule in NEGATED:
            earlier &= ~rules[rule]
    if not earlier:
        return rules[stage]
    own_rule_first = When(rules[stage], then=ExpressionWrapper(earlier, output_field=BooleanField()))
    return Q(Case(own_rule_first, default=Value(False), output_field=BooleanField()))


# The columns the history row takes from what the UPDATE sets rather than from the customer row as it is.
SET_BY_THE_UPDATE = ("lifecycle", "updated_at", "updated_by")


def _history_rows(movers, stage: str, now: datetime) -> int:
    """Write the history row of each customer ``movers`` holds (locked), as the UPDATE will leave it: every
    tracked field from the customer row, with the new stage and the system as the last to change it."""
    history = Customer.history.model
    kept = [f for f in history.tracked_fields if f.name not in SET_BY_THE_UPDATE]
    rows = movers.annotate(
        _stage=Value(stage, output_field=CharField()),
        _updated_at=Value(now, output_field=DateTimeField()),
        _updated_by=Value(None, output_field=IntegerField()),
        _history_date=Value(now, output_field=DateTimeField()),
        _reason=Value(REASON, output_field=CharField()),
        _type=Value("~", output_field=CharField()),
        _user=Value(None, output_field=IntegerField()),
    ).values_list(*[f.attname for f in kept], "_stage", "_updated_at", "_updated_by", "_history_date", "_reason",
                  "_type", "_user")  # fmt: skip
    columns = [f.name for f in kept] + [*SET_BY_THE_UPDATE, "history_date", "history_change_reason", "history_type",
                                        "history_user"]  # fmt: skip
    return insert_from_select(history, columns, rows)


@transaction.atomic
def lifecycle_derive(*, as_of: date, now: datetime | None = None) -> dict[str, int]:
    """Give every customer not set by hand the lifecycle stage their data shows on ``as_of`` (module docstring).
    Returns the number of customers moved into each stage; a handful of statements whatever the table's size.

    Per stage, two statements: an INSERT … SELECT … FOR UPDATE that locks the customers the stage takes and writes
    their history rows, then the UPDATE of the customers those rows name (this run's: above the history's highest
    id when it started). Locked in between, a customer's row is, after the UPDATE, exactly what its history row
    says; a second run at the same time waits for the locks and then finds nothing left to move."""
    now = now or timezone.now()
    rules = LifecycleRules.current()
    conditions = _rules(rules, as_of)
    history = Customer.history.model
    mark = history.objects.aggregate(last=Max("history_id"))["last"] or 0
    derived = Customer.objects.filter(lifecycle_manual=False).annotate(
        trend_then=FilteredRelation("snapshots", condition=Q(snapshots__date=as_of - timedelta(days=rules.trend_days)))
    )
    changed = {}
    for stage in PRECEDENCE:
        movers = derived.filter(_where(stage, conditions)).exclude(lifecycle=stage)
        moved = _history_rows(movers.select_for_update(of=("self",)), stage, now)
        written = history.objects.filter(history_id__gt=mark, history_change_reason=REASON, lifecycle=stage)
        # The first derivation after a first load moves most customers: the plain indexes are rebuilt after.
        with plain_indexes_rebuilt(Customer) if moved >= REBUILD_MIN else nullcontext():
            changed[str(stage)] = (
                Customer.objects.filter(pk__in=written.values("id"), lifecycle_manual=False)
                .exclude(lifecycle=stage)
                .update(lifecycle=stage, updated_at=now, updated_by=None)
            )
    if sum(changed.values()) >= 10_000:
        analyze(Customer, history)
    return changed


@transaction.atomic
def lifecycle_rules_save(*, actor, rules: LifecycleRules) -> LifecycleRules:
    """Save the lifecycle thresholds (admins only). There is one row: a second one is refused."""
    access.actor_staff(actor, access.ADMINS)
    if rules.pk is None and LifecycleRules.objects.exists():
        raise ValidationError(_("The lifecycle rules exist already: change them instead."))
    rules.full_clean()
    rules.save()
    return rules
