"""Reads for the organisation. Every read starts from ``branches_visible_to(user)``."""

from dataclasses import dataclass
from datetime import timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import Branch, Staff


def staff_of(user) -> Staff | None:
    """The user's Staff record (cached on the user by ActiveStaffMiddleware), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.staff
    except Staff.DoesNotExist:
        return None


def branches_visible_to(user) -> QuerySet[Branch]:
    """The one scoping rule for the organisation.

    Admin/HQ: every branch. Branch head and complaints officer: their branch and everything below it.
    Relationship manager: their own branch. Anyone else: nothing.
    """
    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return Branch.objects.none()
    if staff.sees_everything:
        return Branch.objects.all()
    if staff.role in (Staff.Role.HEAD, Staff.Role.OFFICER):
        return Branch.objects.subtree_of(staff.branch)
    return Branch.objects.filter(pk=staff.branch_id)


def staff_visible_to(user) -> QuerySet[Staff]:
    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return Staff.objects.none()
    if staff.sees_everything:
        return Staff.objects.all()
    if staff.role in (Staff.Role.HEAD, Staff.Role.OFFICER):
        return Staff.objects.in_subtree_of(staff.branch)
    return Staff.objects.filter(pk=staff.pk)


def branch_get_visible(user, pk) -> Branch:
    return get_object_or_404(branches_visible_to(user), pk=pk)


def branch_scope_root(user) -> Branch | None:
    """The top of what the user sees: their own branch, or the first top-level branch for HQ."""
    staff = staff_of(user)
    if staff is None:
        return None
    return staff.branch


def branch_filter_choices(user) -> QuerySet[Branch]:
    """Branches offered in filter drop-downs: the non-outlet levels of the user's scope (outlets are reached
    by clicking them in the tree)."""
    return branches_visible_to(user).exclude(level=Branch.Level.OUTLET).only("id", "name", "code", "depth")


@dataclass
class OrgTree:
    root: Branch | None
    page: Page
    role: str
    q: str


def org_tree_for(user, *, branch_id=None, role: str = "", q: str = "", page: int | str = 1, per_page: int = 25):
    """The branch tree of the user's scope (or of one branch in it), each branch with its staff.

    A constant number of queries: the branches of one page, their staff in one prefetch, and the count.
    """
    branches = branches_visible_to(user)
    root = get_object_or_404(branches, pk=branch_id) if branch_id else None
    if root is not None:
        branches = branches.filter(path__startswith=root.path)
    if q:
        branches = branches.filter(Q(name__icontains=q) | Q(code__istartswith=q))
    staff_qs = Staff.objects.order_by("role", "employee_no")
    if role:
        staff_qs = staff_qs.filter(role=role)
        branches = branches.filter(staff__role=role).distinct()
    branches = branches.order_by("path").prefetch_related(Prefetch("staff", queryset=staff_qs, to_attr="members"))
    return OrgTree(root=root, page=Paginator(branches, per_page).get_page(page), role=role, q=q)


# ----------------------------------------------------------------------------------------------------------------
# Portfolios, contact, requests
# ----------------------------------------------------------------------------------------------------------------


def portfolio_of(user, *, q: str = "", sort: str = "contact"):
    """ "My customers": the customers whose primary RM the user is, the longest without contact first.

    Served by the (primary_rm, last_contacted_at) and (primary_rm, aum) indexes. Customers the RM looks after as
    secondary RM are listed apart (``secondary_portfolio_of``): mixing them in with an OR would make every page
    sort the whole portfolio.
    """
    from django.db.models import F

    from customers.selectors import customers_visible_to, search_condition

    staff = staff_of(user)
    customers = customers_visible_to(user).filter(primary_rm=staff).select_related("segment", "primary_rm", "branch")
    if q:
        customers = customers.filter(search_condition(q))
    if sort == "aum":
        return customers.order_by("-aum", "pk")
    return customers.order_by(F("last_contacted_at").asc(nulls_first=True), "pk")


def secondary_portfolio_of(user, *, limit: int = 200) -> list:
    """Customers the user looks after as a current secondary RM (协管户)."""
    from customers.models import Customer

    from .models import Assignment

    ids = Assignment.objects.current().secondary().filter(staff=staff_of(user)).values("customer_id")
    return list(Customer.objects.filter(pk__in=ids).select_related("segment", "primary_rm").order_by("name")[:limit])


def customer_relationship(user, customer) -> dict:
    """The relationship panels of the customer's 360° page: RM history, the first page of the timeline, open
    follow-ups, and ratings — a fixed number of queries."""
    from django.db.models import Avg, Count

    from .models import Assignment, FollowUp, SatisfactionRating

    assignments = list(
        Assignment.objects.filter(customer=customer)
        .select_related("staff", "approved_by")
        .order_by("-started_at", "-pk")[:20]
    )
    follow_ups = list(
        FollowUp.objects.filter(customer=customer, status__in=FollowUp.OPEN_STATES)
        .select_related("staff")
        .order_by("due_on")[:10]
    )
    ratings = SatisfactionRating.objects.filter(customer=customer)
    summary = ratings.aggregate(avg=Avg("score"), n=Count("id"))
    return {
        "assignments": assignments,
        "secondary": [a for a in assignments if a.is_current and a.role == Assignment.Role.SECONDARY],
        "timeline": customer_timeline(user, customer, page=1),
        "follow_ups": follow_ups,
        "ratings": list(ratings.select_related("rated_staff", "recorded_by").order_by("-recorded_at")[:5]),
        "rating_avg": summary["avg"],
        "rating_count": summary["n"],
    }


TIMELINE_PAGE = 10


def customer_timeline(user, customer, *, page=1):
    """The customer's interactions, newest first, a page at a time (keyed on the timeline index)."""
    from django.core.paginator import Paginator
    from django.db.models import Prefetch

    from customers.models import Product

    from .models import Interaction

    interactions = (
        Interaction.objects.filter(customer=customer)
        .select_related("staff")
        .prefetch_related(Prefetch("products", queryset=Product.objects.only("id", "name")))
        .order_by("-occurred_at", "-id")
    )
    page = Paginator(interactions, TIMELINE_PAGE).get_page(page)
    staff, now = staff_of(user), timezone.now()
    page.object_list = list(page.object_list)
    for interaction in page.object_list:
        interaction.editable = interaction.editable_by(staff, now)
    return page


def interaction_get_visible(user, pk):
    """An interaction of a customer the user may see, or 404."""
    from customers.selectors import customers_visible_to

    from .models import Interaction

    return get_object_or_404(
        Interaction.objects.select_related("customer", "staff").filter(customer__in=customers_visible_to(user)), pk=pk
    )


def follow_ups_open_for(staff: Staff, *, limit: int = 20):
    from .models import FollowUp

    return list(
        FollowUp.objects.filter(staff=staff, status__in=FollowUp.OPEN_STATES)
        .select_related("customer__segment")
        .order_by("due_on", "pk")[:limit]
    )


def interactions_of(staff: Staff, *, since=None, until=None):
    from .models import Interaction

    qs = Interaction.objects.filter(staff=staff).select_related("customer").order_by("-occurred_at", "-id")
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs


def reassignments_visible_to(user):
    """Requests the user may see: their own, those moving their customers or to them, and for heads and admins
    every request whose customers lie in their subtree."""
    from .models import ReassignmentRequest

    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return ReassignmentRequest.objects.none()
    qs = ReassignmentRequest.objects.select_related("requested_by", "to_staff", "decided_by", "scope_branch")
    if staff.sees_everything:
        return qs
    mine = Q(requested_by=staff) | Q(to_staff=staff) | Q(items__from_staff=staff)
    if staff.role == Staff.Role.HEAD:
        mine |= Q(scope_branch__path__startswith=staff.branch.path)
    return qs.filter(mine).distinct()


def reassignment_get_visible(user, pk):
    return get_object_or_404(reassignments_visible_to(user), pk=pk)


def handovers_visible_to(user):
    from .models import Handover

    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return Handover.objects.none()
    qs = Handover.objects.select_related("leaver__branch", "prepared_by", "decided_by")
    if staff.sees_everything:
        return qs
    if staff.role == Staff.Role.HEAD:
        return qs.filter(leaver__branch__path__startswith=staff.branch.path)
    return qs.filter(targets=staff).distinct()


def handover_get_visible(user, pk):
    return get_object_or_404(handovers_visible_to(user), pk=pk)


def visit_plans_visible_to(user):
    from .models import VisitPlan

    staff = staff_of(user)
    if staff is None or not staff.is_active_staff:
        return VisitPlan.objects.none()
    qs = VisitPlan.objects.select_related("staff__branch", "reviewed_by")
    if staff.sees_everything:
        return qs
    if staff.role == Staff.Role.HEAD:
        return qs.filter(Q(staff__branch__path__startswith=staff.branch.path) | Q(staff=staff))
    return qs.filter(staff=staff)


def visit_plan_get_visible(user, pk):
    from django.db.models import Prefetch

    from .models import VisitPlanItem

    items = VisitPlanItem.objects.select_related("customer__segment", "interaction").order_by("pk")
    return get_object_or_404(visit_plans_visible_to(user).prefetch_related(Prefetch("items", queryset=items)), pk=pk)


def pending_approvals(user) -> dict:
    """What waits for this head's decision (requests by others, in their subtree)."""
    from .models import Handover, ReassignmentRequest, VisitPlan

    staff = staff_of(user)
    if staff is None or staff.role not in (Staff.Role.HEAD, Staff.Role.ADMIN):
        return {"reassignments": [], "plans": [], "handovers": []}
    reassignments = (
        reassignments_visible_to(user).filter(status=ReassignmentRequest.Status.PENDING).exclude(requested_by=staff)
    )
    plans = visit_plans_visible_to(user).filter(status=VisitPlan.Status.SUBMITTED).exclude(staff=staff)
    handovers = handovers_visible_to(user).filter(status=Handover.Status.PENDING).exclude(prepared_by=staff)
    from django.db.models import Count

    return {
        "reassignments": list(reassignments.annotate(n=Count("items")).order_by("created_at")[:50]),
        "plans": list(plans.annotate(n=Count("items")).order_by("planned_on")[:50]),
        "handovers": list(handovers.order_by("created_at")[:50]),
    }


def rms_visible_to(user):
    """RMs the user may hand customers to: for an RM, the RMs of their sub-branch; for a head, of their subtree."""
    staff = staff_of(user)
    if staff is None:
        return Staff.objects.none()
    qs = Staff.objects.accepting_customers().select_related("branch").order_by("branch__path", "name")
    if staff.sees_everything:
        return qs
    if staff.role == Staff.Role.RM:
        parent = staff.branch.parent or staff.branch
        return qs.filter(branch__path__startswith=parent.path).exclude(pk=staff.pk)
    return qs.filter(branch__path__startswith=staff.branch.path)


def unread_notifications(staff: Staff) -> int:
    from .models import Notification

    return Notification.objects.filter(recipient=staff, read_at__isnull=True).count()


def handover_overview(user, handover, *, page=None) -> dict:
    """The handover page: counts by receiving RM and tier, and a page of lines."""
    from django.db.models import Count, Sum

    from .models import Handover

    items = handover.items.select_related("customer__segment", "to_staff").order_by("-customer__aum", "customer_id")
    by_receiver = list(
        handover.items.values("to_staff", "to_staff__name")
        .annotate(n=Count("id"), aum=Sum("customer__aum"))
        .order_by("to_staff__name")
    )
    by_tier = list(
        handover.items.values("to_staff__name", "customer__segment__name")
        .annotate(n=Count("id"))
        .order_by("customer__segment__name", "to_staff__name")
    )
    staff = staff_of(user)
    from crm_site.pagination import paginate

    from .services.portfolio import may_approve

    editable = handover.status in (Handover.Status.DRAFT, Handover.Status.REJECTED)
    return {
        "handover": handover,
        "targets": list(handover.targets.order_by("name")),
        "by_receiver": by_receiver,
        "by_tier": by_tier,
        "page_obj": paginate(items, page, 50),
        "editable": editable,
        "can_decide": handover.status == Handover.Status.PENDING
        and staff.pk != handover.prepared_by_id
        and may_approve(staff, handover.leaver.branch),
        "methods": Handover.Method.choices,
    }


# ----------------------------------------------------------------------------------------------------------------
# Today (今日工作)
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class TodayGroup:
    kind: str
    label: str
    count: int
    overdue: int
    items: list


@dataclass
class Today:
    staff: Staff
    day: object
    groups: list
    total: int
    overdue: int


TODAY_PER_KIND = 20


def today_for(staff: Staff, *, day=None, kind: str | None = None, per_kind: int = TODAY_PER_KIND) -> Today:
    """An RM's open follow-ups due by the end of the horizon (settings.TODAY_HORIZON_DAYS), grouped by kind and
    overdue first: the counts in one query, the first items of every kind in another (a window function)."""
    from django.conf import settings
    from django.db.models import Count, F, Window
    from django.db.models.functions import RowNumber

    from .models import FollowUp

    day = day or timezone.localdate()
    open_ = FollowUp.objects.filter(
        staff=staff, status=FollowUp.Status.OPEN, due_on__lte=day + timedelta(days=settings.TODAY_HORIZON_DAYS)
    )
    if kind:
        open_ = open_.filter(kind=kind)
    counts = {
        row["kind"]: row
        for row in open_.values("kind").annotate(n=Count("id"), late=Count("id", filter=Q(due_on__lt=day))).order_by()
    }
    ranked = (
        open_.select_related("customer__segment")
        .annotate(rank=Window(RowNumber(), partition_by=[F("kind")], order_by=[F("due_on").asc(), F("pk").asc()]))
        .filter(rank__lte=per_kind)
        .order_by("due_on", "pk")
    )
    items: dict[str, list] = {}
    for follow_up in ranked:
        items.setdefault(follow_up.kind, []).append(follow_up)
    groups = [
        TodayGroup(k, label, counts[k]["n"], counts[k]["late"], items.get(k, []))
        for k, label in FollowUp.Kind.choices
        if k in counts
    ]
    groups.sort(key=lambda g: (-g.overdue, [k for k, _label in FollowUp.Kind.choices].index(g.kind)))
    return Today(staff, day, groups, sum(g.count for g in groups), sum(g.overdue for g in groups))


def follow_up_counts_by_rm(user, *, day=None) -> list[dict]:
    """For a head: open follow-ups per RM of the subtree (overdue, due today, upcoming), in one query."""
    from django.conf import settings
    from django.db.models import Count

    day = day or timezone.localdate()
    horizon = day + timedelta(days=settings.TODAY_HORIZON_DAYS)
    open_q = Q(follow_ups__status="open", follow_ups__due_on__lte=horizon)
    return list(
        staff_visible_to(user)
        .filter(role=Staff.Role.RM, status__in=[Staff.Status.ACTIVE, Staff.Status.LEAVING])
        .annotate(
            total=Count("follow_ups", filter=open_q),
            overdue=Count("follow_ups", filter=open_q & Q(follow_ups__due_on__lt=day)),
            due_today=Count("follow_ups", filter=open_q & Q(follow_ups__due_on=day)),
        )
        .select_related("branch")
        .order_by("-overdue", "-total", "name")
        .values("pk", "name", "branch__name", "total", "overdue", "due_today")
    )


def follow_up_get_own(user, pk):
    """A follow-up assigned to the user, or 404."""
    from .models import FollowUp

    return get_object_or_404(FollowUp.objects.select_related("customer__segment"), pk=pk, staff=staff_of(user))
