"""Reads of portfolios and contact work. Every read starts from a ``*_visible_to(user)`` that starts from the one
access policy (``organisation.access``)."""

from django.core.paginator import Paginator
from django.db.models import Avg, Count, F, Prefetch, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.pagination import paginate
from customers.models import Customer, Product
from customers.selectors import customers_visible_to, search_condition, with_customer_access
from organisation import access
from organisation.models import Staff
from organisation.selectors import staff_of

from .models import Assignment, Handover, Interaction, ReassignmentRequest, SatisfactionRating, VisitPlan, VisitPlanItem


def portfolio_of(user, *, q: str = "", sort: str = "contact"):
    """ "My customers": the customers whose primary RM the user is, the longest without contact first.

    Served by the (primary_rm, last_contacted_at) and (primary_rm, aum) indexes. Customers the RM looks after as
    secondary RM are listed apart (``secondary_portfolio_of``): mixing them in with an OR would make every page
    sort the whole portfolio.
    """
    staff = staff_of(user)
    customers = customers_visible_to(user).filter(primary_rm=staff).select_related("segment", "primary_rm", "branch")
    if q:
        customers = customers.filter(search_condition(q))
    if sort == "aum":
        return customers.order_by("-aum", "pk")
    return customers.order_by(F("last_contacted_at").asc(nulls_first=True), "pk")


def visit_plan_customer_choices(user):
    """The customers an RM may put on a visit plan: their portfolio, the longest without contact first (never
    contacted before all), then by id; with the tier each option's label names (``visit_plan_customer_label``).
    One query whatever the size of the portfolio, served by the (primary_rm, last_contacted_at) index."""
    return portfolio_of(user, sort="contact")


def visit_plan_customer_label(customer) -> str:
    """A visit plan's customer option: name, customer number, tier and last contact date ("never contacted")."""
    tier = customer.segment.name if customer.segment_id else "—"
    if customer.last_contacted_at is None:
        return _("%(name)s · %(number)s · %(tier)s · never contacted") % {
            "name": customer.name,
            "number": customer.customer_no,
            "tier": tier,
        }
    return _("%(name)s · %(number)s · %(tier)s · last contact %(date)s") % {
        "name": customer.name,
        "number": customer.customer_no,
        "tier": tier,
        "date": timezone.localtime(customer.last_contacted_at).date().isoformat(),
    }


def secondary_portfolio_of(user, *, limit: int = 200) -> list:
    """Customers the user looks after as a current secondary RM (协管户)."""

    ids = Assignment.objects.current().secondary().filter(staff=staff_of(user)).values("customer_id")
    return list(Customer.objects.filter(pk__in=ids).select_related("segment", "primary_rm").order_by("name")[:limit])


def customer_relationship(user, customer) -> dict:
    """The relationship panels of the customer's 360° page: RM history, the first page of the timeline and
    ratings — a fixed number of queries."""
    assignments = list(
        Assignment.objects.filter(customer=customer)
        .select_related("staff", "approved_by")
        .order_by("-started_at", "-pk")[:20]
    )
    ratings = SatisfactionRating.objects.filter(customer=customer)
    summary = ratings.aggregate(avg=Avg("score"), n=Count("id"))
    return {
        "assignments": assignments,
        "secondary": [a for a in assignments if a.is_current and a.role == Assignment.Role.SECONDARY],
        "timeline": customer_timeline(user, customer, page=1),
        "ratings": list(ratings.select_related("rated_staff", "recorded_by").order_by("-recorded_at")[:5]),
        "rating_avg": summary["avg"],
        "rating_count": summary["n"],
    }


TIMELINE_PAGE = 10


def customer_timeline(user, customer, *, page=1):
    """The customer's interactions, newest first, a page at a time (keyed on the timeline index)."""

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

    return get_object_or_404(
        Interaction.objects.select_related("customer", "staff").filter(customer__in=customers_visible_to(user)), pk=pk
    )


def interactions_of(staff: Staff, *, since=None, until=None):
    """The interactions ``staff`` logged, each with whether they may still open its customer (after a move)."""
    qs = with_customer_access(
        Interaction.objects.filter(staff=staff).select_related("customer").order_by("-occurred_at", "-id"), staff
    )
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs


def reassignments_visible_to(user):
    """Requests the user may see: their own, those moving their customers or to them, and for heads and admins
    every request whose customers lie in their subtree."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return ReassignmentRequest.objects.none()
    qs = ReassignmentRequest.objects.select_related("requested_by", "to_staff", "decided_by", "scope_branch")
    if scope.is_all:
        return qs
    staff = scope.staff
    mine = Q(requested_by=staff) | Q(to_staff=staff) | Q(items__from_staff=staff)
    if scope.is_subtree:
        mine |= access.subtree_q(scope, "scope_branch")
    return qs.filter(mine).distinct()


def reassignment_get_visible(user, pk):
    return get_object_or_404(reassignments_visible_to(user), pk=pk)


def handovers_visible_to(user):
    """Handovers the user may see: heads those of leavers in their subtree, RMs those they receive customers in."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return Handover.objects.none()
    qs = Handover.objects.select_related("leaver__branch", "prepared_by", "decided_by")
    if scope.is_all:
        return qs
    if scope.is_subtree:
        return qs.filter(access.subtree_q(scope, "leaver__branch"))
    return qs.filter(targets=scope.staff).distinct()


def handover_get_visible(user, pk):
    return get_object_or_404(handovers_visible_to(user), pk=pk)


def visit_plans_visible_to(user):
    """Visit plans the user may see: heads those of their subtree (and their own), everyone else their own."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return VisitPlan.objects.none()
    qs = VisitPlan.objects.select_related("staff__branch", "reviewed_by")
    if scope.is_all:
        return qs
    if scope.is_subtree:
        return qs.filter(access.subtree_q(scope, "staff__branch") | Q(staff=scope.staff))
    return qs.filter(staff=scope.staff)


def visit_plan_get_visible(user, pk):
    items = with_customer_access(
        VisitPlanItem.objects.select_related("customer__segment", "interaction").order_by("pk"), user
    )
    return get_object_or_404(visit_plans_visible_to(user).prefetch_related(Prefetch("items", queryset=items)), pk=pk)


def pending_approvals(user) -> dict:
    """What waits for this head's decision (requests by others, in their subtree)."""

    staff = staff_of(user)
    if staff is None or staff.role not in (Staff.Role.HEAD, Staff.Role.ADMIN):
        return {"reassignments": [], "plans": [], "handovers": []}
    reassignments = (
        reassignments_visible_to(user).filter(status=ReassignmentRequest.Status.PENDING).exclude(requested_by=staff)
    )
    plans = visit_plans_visible_to(user).filter(status=VisitPlan.Status.SUBMITTED).exclude(staff=staff)
    handovers = handovers_visible_to(user).filter(status=Handover.Status.PENDING).exclude(prepared_by=staff)

    return {
        "reassignments": list(reassignments.annotate(n=Count("items")).order_by("created_at")[:50]),
        "plans": list(plans.annotate(n=Count("items")).order_by("planned_on")[:50]),
        "handovers": list(handovers.order_by("created_at")[:50]),
    }


def handover_overview(user, handover, *, page=None) -> dict:
    """The handover page: counts by receiving RM and tier, and a page of lines."""

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
        and access.can_approve(staff, handover.leaver.branch),
        "methods": Handover.Method.choices,
    }
