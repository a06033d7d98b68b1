"""Reads of customers. Everything starts from ``customers_visible_to(user)``: the one visibility rule."""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404
from django.utils import timezone

from organisation import access
from organisation.models import Branch, Staff

from . import pii, validators
from .models import AccessLog, AssetSnapshot, Customer, Holding

SORTS = {
    "-aum": ("-aum", "pk"),
    "aum": ("aum", "pk"),
    "name": ("name", "pk"),
    # "Longest without contact" puts the never-contacted first.
    "-last_contacted_at": (F("last_contacted_at").desc(nulls_last=True), "pk"),
    "last_contacted_at": (F("last_contacted_at").asc(nulls_first=True), "pk"),
}

# The same orders over expressions that no index matches (the values are unchanged), for an RM who also has
# secondary customers: their list is "primary_rm = me OR id IN (…)", a few thousand rows that PostgreSQL fetches
# through customer_rm_aum_idx and the primary key and sorts in memory (top-N) in about 10 ms. Ordered by the bare
# column, it would rather walk the whole bank's index on that column and filter out every other RM's customers:
# about 19,000 rows for 50 at a million customers, 50-225 ms (docs/performance.md).
_AUM = ExpressionWrapper(F("aum") + Value(Decimal("0")), output_field=DecimalField())
_NAME = Concat(F("name"), Value(""), output_field=CharField())
_CONTACTED = ExpressionWrapper(F("last_contacted_at") + Value(timedelta(0)), output_field=DateTimeField())
PORTFOLIO_SORTS = {
    "-aum": (_AUM.desc(), "pk"),
    "aum": (_AUM.asc(), "pk"),
    "name": (_NAME.asc(), "pk"),
    "-last_contacted_at": (_CONTACTED.desc(nulls_last=True), "pk"),
    "last_contacted_at": (_CONTACTED.asc(nulls_first=True), "pk"),
}
assert SORTS.keys() == PORTFOLIO_SORTS.keys()  # noqa: S101 - a module invariant


def _portfolio_extras(staff: Staff) -> tuple[list[int], list[int]]:
    """What an RM sees beyond their own primary customers, in one query: the customers where they are a current
    secondary RM (协管户), and the branches whose customer pool they were named to keep. Both are short lists,
    fetched first so that the RM's rule stays a few index lookups (a subquery inside the OR would make PostgreSQL
    scan the whole table). Read through the reverse relations that relationships' Assignment
    (``Customer.assignments``) and the pool's keeper (``Branch.pool_keeper``) declare."""
    secondary = (
        Customer.objects.filter(
            assignments__staff=staff, assignments__role="secondary", assignments__ended_at__isnull=True
        )
        .annotate(which=Value(1))
        .values_list("pk", "which")
        .order_by()
    )
    kept = (
        Branch.objects.filter(pool_keeper__staff=staff).annotate(which=Value(2)).values_list("pk", "which").order_by()
    )
    rows = list(secondary.union(kept, all=True))
    return [pk for pk, kind in rows if kind == 1], [pk for pk, kind in rows if kind == 2]


def kept_pool_q(branch_ids) -> Q:
    """The pool customers (no primary RM, not closed) of the given branches."""
    return Q(primary_rm__isnull=True, closed_on__isnull=True, branch_id__in=branch_ids)


def _visible(user) -> tuple[QuerySet[Customer], bool]:
    """The visible customers, and whether the set is an RM's union of several conditions (see PORTFOLIO_SORTS)."""
    scope = access.scope_of(user)
    if scope.is_none:
        return Customer.objects.none(), False
    if scope.is_all:
        return Customer.objects.all(), False
    if scope.is_subtree:
        ids = access.subtree_branch_ids(scope)
        return (Customer.objects.all() if ids is None else Customer.objects.filter(branch_id__in=ids)), False
    staff = scope.staff
    if staff.role != Staff.Role.RM:
        return Customer.objects.none(), False
    secondary, kept = _portfolio_extras(staff)
    if not secondary and not kept:
        return Customer.objects.filter(primary_rm=staff), False
    condition = Q(primary_rm=staff)
    if secondary:
        condition |= Q(pk__in=secondary)
    if kept:
        condition |= kept_pool_q(kept)
    return Customer.objects.filter(condition), True


def customers_visible_to(user) -> QuerySet[Customer]:
    """The one visibility rule for customers (docs/architecture.md, "Roles and visibility").

    - RM: customers whose primary RM they are, plus those where they are an active secondary RM, plus the pool
      customers of an outlet whose pool they were named to keep (``pool.PoolKeeper``: the keeper works those
      customers' reminders, docs/pool.md "Keepers").
    - Branch head and complaints officer: customers of their branch and every branch below it.
    - Admin/HQ: everyone.
    - Anyone else (no staff record, or left): nobody.
    """
    return _visible(user)[0]


def visible_customer_condition(user) -> Q:
    """The visibility rule of ``customers_visible_to`` as one condition on the Customer table, which runs no query
    of its own (the RM's secondary customers are a subquery rather than a list fetched first): for annotating rows
    of other tables that point at a customer, where the list of ids would be one more query per page."""
    scope = access.scope_of(user)
    if scope.is_none:
        return Q(pk__in=[])
    if scope.is_all:
        return Q()
    if scope.is_subtree:
        return access.subtree_q(scope, "branch")
    staff = scope.staff
    if staff.role != Staff.Role.RM:
        return Q(pk__in=[])
    secondary = Customer.objects.filter(
        assignments__staff=staff, assignments__role="secondary", assignments__ended_at__isnull=True
    ).values("pk")
    kept = Q(primary_rm__isnull=True, closed_on__isnull=True, branch__pool_keeper__staff=staff)
    return Q(primary_rm=staff) | Q(pk__in=secondary) | kept


def with_customer_access(rows: QuerySet, user, field: str = "customer") -> QuerySet:
    """Rows of another table that link to a customer (interactions, follow-ups, plan items), each annotated with
    whether ``user`` may still open that customer (``customer_visible``) and who looks after them now
    (``customer_rm_name``), inside the rows' own query. Pages show a customer the user no longer sees (moved to
    another RM) as plain text with who has them now, instead of a link to a 404."""
    visible = Customer.objects.filter(visible_customer_condition(user), pk=OuterRef(field))
    return rows.annotate(customer_visible=Exists(visible), customer_rm_name=F(f"{field}__primary_rm__name"))


def customer_access_of(user, ids) -> dict[int, tuple[bool, str]]:
    """For customers named by id (links stored as text, such as a notification's), whether ``user`` may open
    each and the name of their primary RM now: one query."""
    ids = {int(pk) for pk in ids}
    if not ids:
        return {}
    rows = (
        Customer.objects.filter(pk__in=ids)
        .annotate(visible=Case(When(visible_customer_condition(user), then=Value(True)), default=Value(False)))
        .values_list("pk", "visible", "primary_rm__name")
    )
    return {pk: (visible, rm_name or "") for pk, visible, rm_name in rows}


@dataclass(frozen=True)
class PortfolioCounts:
    """How many customers one RM has, counted the ways the pages count them (docs/customers.md, "Counts"):

    - ``listed`` — the customer list: every customer the RM may see, primary and secondary (协管);
    - ``primary`` — My customers: those whose primary RM they are (secondary ones are listed apart), lost included;
    - ``active`` — the dashboards: primary customers not lost (the nightly figure, as of its day).
    """

    primary: int
    secondary: int
    lost: int  # of the primary customers
    lost_listed: int  # of every customer listed (primary and secondary)

    @property
    def listed(self) -> int:
        return self.primary + self.secondary

    @property
    def active(self) -> int:
        return self.primary - self.lost


def portfolio_counts(staff: Staff) -> PortfolioCounts:
    """The counts of ``PortfolioCounts`` for an RM, in one query through the visibility rule (the same three sets as
    ``customers_visible_to``)."""
    if staff is None or staff.role != Staff.Role.RM:
        return PortfolioCounts(0, 0, 0, 0)
    mine = Q(primary_rm=staff)
    # The three sets of the rule as one union of ids, each read by its own index: the rule as one condition
    # (an OR across a join to the pool's keepers) made PostgreSQL read the whole customer table (1 s at 1,000,000).
    visible = (
        Customer.objects.filter(mine)
        .values("pk")
        .union(
            Customer.objects.filter(
                assignments__staff=staff, assignments__role="secondary", assignments__ended_at__isnull=True
            ).values("pk"),
            Customer.objects.filter(
                primary_rm__isnull=True, closed_on__isnull=True, branch__pool_keeper__staff=staff
            ).values("pk"),
            all=True,
        )
    )
    row = Customer.objects.filter(pk__in=visible).aggregate(
        visible=Count("pk"),
        primary=Count("pk", filter=mine),
        lost=Count("pk", filter=mine & Q(lifecycle=Customer.Lifecycle.LOST)),
        lost_listed=Count("pk", filter=Q(lifecycle=Customer.Lifecycle.LOST)),
    )
    return PortfolioCounts(row["primary"], row["visible"] - row["primary"], row["lost"], row["lost_listed"])


def customer_get_visible(user, pk) -> Customer:
    """One customer the user may see, or 404."""
    return get_object_or_404(customers_visible_to(user).select_related("segment", "branch", "primary_rm"), pk=pk)


def search_condition(term: str) -> Q:
    """What a search term can mean, each alternative served by an index:
    a name prefix, a customer number, a mobile or a full ID number (keyed hashes), or an ID number's last 4."""
    term = term.strip()
    if not term:
        return Q()
    upper = term.upper()
    condition = Q(name__startswith=term) | Q(customer_no=upper)
    if re.fullmatch(r"[0-9]{3}[0-9X]", upper):
        condition |= Q(id_last4=upper)
    try:
        condition |= Q(mobile_hash=pii.search_hash("mobile", validators.validate_mobile(term)))
    except validators.ValidationError:
        pass
    if len(upper) >= 5:
        hashes = [pii.search_hash(id_type, upper) for id_type in Customer.IdType.values]
        condition |= Q(id_number_hash__in=hashes)
    return condition


@dataclass
class CustomerFilters:
    q: str = ""
    kind: str = ""
    segment: object = None
    branch: object = None
    rm: object = None
    lifecycle: str = ""
    risk_level: str = ""
    aum_min: Decimal | None = None
    aum_max: Decimal | None = None
    # Not contacted for at least this many days (never contacted included).
    not_contacted_days: int | None = None
    # Holds (an open holding of) a product of this category (Product.Category).
    product_category: str = ""
    sort: str = "-aum"

    @property
    def narrows(self) -> bool:
        """Whether any filter is set (the order aside): the list is then not the user's whole list."""
        return any(value not in ("", None) for key, value in self.__dict__.items() if key != "sort")

    def describe(self) -> dict:
        """The filters in a form fit for the access log: a term that looks like a number is masked."""
        from .masking import mask_search_term

        out = {}
        for key, value in self.__dict__.items():
            if value in ("", None):
                continue
            if key == "q":
                value = mask_search_term(value)
            out[key] = str(getattr(value, "pk", value))
        return out


def customer_list(user, filters: CustomerFilters, *, base: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """The customer list's filters and orders over the user's visible customers, or over ``base``: a narrower set
    that a page above has already scoped from the same policy (the customer pool: pool.selectors)."""
    qs, portfolio_union = (base, False) if base is not None else _visible(user)
    if filters.q:
        qs = qs.filter(search_condition(filters.q))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.branch:
        qs = qs.in_subtree_of(filters.branch)
    if filters.rm:
        qs = qs.filter(primary_rm=filters.rm)
    if filters.lifecycle:
        qs = qs.filter(lifecycle=filters.lifecycle)
    if filters.risk_level:
        qs = qs.filter(risk_level=filters.risk_level)
    if filters.aum_min is not None:
        qs = qs.filter(aum__gte=filters.aum_min)
    if filters.aum_max is not None:
        qs = qs.filter(aum__lte=filters.aum_max)
    if filters.not_contacted_days is not None:
        since = timezone.now() - timedelta(days=filters.not_contacted_days)
        qs = qs.filter(Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=since))
    if filters.product_category:
        held = Holding.objects.filter(
            customer=OuterRef("pk"), closed_on__isnull=True, product__category=filters.product_category
        )
        qs = qs.filter(Exists(held))
    sorts = PORTFOLIO_SORTS if portfolio_union else SORTS
    return qs.with_list_columns().order_by(*sorts.get(filters.sort, sorts["-aum"]))


QUICK_SEARCH_HITS = 8  # the header search's dropdown


@dataclass
class QuickSearch:
    """The first hits of a search (the customer list's matching rule and order), and whether there are more."""

    hits: list[Customer]
    more: bool


def customer_quick_search(user, term: str, limit: int = QUICK_SEARCH_HITS) -> QuickSearch:
    """The header search: the first ``limit`` customers the customer list finds for ``term`` (same visibility,
    same matching rule, same order), in one query for the rows (one more row read tells whether there are more)."""
    rows = list(customer_list(user, CustomerFilters(q=term))[: limit + 1])
    return QuickSearch(hits=rows[:limit], more=len(rows) > limit)


@dataclass
class HistoryEntry:
    at: object
    user: object
    kind: str
    changes: list = field(default_factory=list)


HISTORY_HIDDEN = {"updated_at", "updated_by", "id_last4", "aum_as_of"}


def _history(customer: Customer, limit: int = 10) -> list[HistoryEntry]:
    """The latest changes, newest first, each with (field label, old, new) in readable form: choices by their
    label and foreign keys by name (one query per related model, whatever the number of entries)."""
    records = list(
        customer.history.select_related("history_user__staff").order_by("-history_date", "-history_id")[: limit + 1]
    )
    raw: list[tuple[object, list]] = []
    related_ids: dict[type, set] = {}
    for newer, older in zip(records[:limit], records[1 : limit + 1] + [None], strict=False):
        changes = []
        if older is not None:
            for change in newer.diff_against(older).changes:
                if change.field in HISTORY_HIDDEN:
                    continue
                model_field = Customer._meta.get_field(change.field)
                changes.append((model_field, change.old, change.new))
                if model_field.is_relation:
                    related_ids.setdefault(model_field.related_model, set()).update({change.old, change.new} - {None})
        raw.append((newer, changes))
    names = {
        model: {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)} for model, ids in related_ids.items()
    }

    def readable(model_field, value):
        if value in (None, ""):
            return ""
        if model_field.is_relation:
            return names[model_field.related_model].get(value, value)
        if model_field.choices:
            return dict(model_field.flatchoices).get(value, value)
        return value

    return [
        HistoryEntry(
            at=record.history_date,
            user=record.history_user,
            kind=record.history_type,
            changes=[(f.verbose_name, readable(f, old), readable(f, new)) for f, old, new in changes],
        )
        for record, changes in raw
    ]


@dataclass
class Customer360:
    customer: Customer
    holdings: list[Holding]
    trend: list[tuple[str, float]]
    history: list[HistoryEntry]
    tags: list
    unsuitable_count: int
    maturing_soon: int
    recent_reveals: list[AccessLog]

    @property
    def trend_change(self) -> Decimal | None:
        """AUM at the last snapshot of the 90 days less AUM at the first (None with fewer than two)."""
        if len(self.trend) < 2:
            return None
        return Decimal(str(self.trend[-1][1])) - Decimal(str(self.trend[0][1]))

    @property
    def trend_change_pct(self) -> Decimal | None:
        """The same change as a percentage of the first snapshot, to one decimal (None from zero)."""
        change = self.trend_change
        first = Decimal(str(self.trend[0][1])) if self.trend else Decimal(0)
        if change is None or not first:
            return None
        return (change * 100 / first).quantize(Decimal("0.1"))

    @property
    def trend_since(self) -> str | None:
        return self.trend[0][0] if self.trend else None


def customer_360(user, pk) -> Customer360:
    """Everything on the customer's 360° page, in a fixed number of queries."""
    customer = customer_get_visible(user, pk)
    holdings = list(customer.holdings.filter(closed_on=None).select_related("product").order_by("maturity_on", "pk"))
    for holding in holdings:
        holding.customer = customer  # suitability reads the customer's risk tolerance
    since = timezone.localdate() - timedelta(days=90)
    trend = [
        (d.isoformat(), float(a))
        for d, a in AssetSnapshot.objects.filter(customer=customer, date__gte=since)
        .order_by("date")
        .values_list("date", "aum")
    ]
    soon = timezone.localdate() + timedelta(days=30)
    return Customer360(
        customer=customer,
        holdings=holdings,
        trend=trend,
        history=_history(customer),
        tags=list(customer.tags.all()),
        unsuitable_count=sum(h.is_unsuitable for h in holdings),
        maturing_soon=sum(1 for h in holdings if h.maturity_on and h.maturity_on <= soon),
        recent_reveals=list(customer.access_logs.order_by("-created_at")[:5]),
    )


def duplicate_pointer(user, existing: Customer) -> Customer | None:
    """The existing customer behind a duplicate identifier, if the user may open it."""
    return customers_visible_to(user).filter(pk=existing.pk).first()
