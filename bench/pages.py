"""The staff pages the bench measures, each defined by URL name(s), the login that opens it, and functions that
find its sample object and query string in the data set.

A page whose URL name does not resolve (not built yet), or whose sample object does not exist, is reported as
``missing`` and the run goes on; once the page exists it is measured without any change here. Pages still being
built are looked up by their likely names and, failing those, by a pattern over every URL name of the project.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

RM, SUB_HEAD, HEAD, ADMIN, OFFICER = "rm1", "head1", "head", "admin", "officer"


@dataclass(frozen=True)
class Page:
    name: str
    login: str
    url_names: tuple[str, ...]
    kwargs: Callable[[], dict | None] | None = None  # None: the URL takes no arguments
    query: Callable[[], dict] | dict = field(default_factory=dict)
    kind: str = "page"  # "page" (≤ 100 ms) or "dashboard" (≤ 200 ms)
    pattern: str | None = None  # fallback: the first URL name matching this, without arguments or with ``kwargs``


# --------------------------------------------------------------------------------------------------------------
# Sample objects: the same ones every run (the data set is deterministic for its seed)
# --------------------------------------------------------------------------------------------------------------


def _staff(username):
    from organisation.models import Staff

    return Staff.objects.select_related("branch").get(user__username=username)


def _rm_customer():
    """The RM's largest individual customer (with a mobile and an ID number)."""
    from customers.models import Customer

    return (
        Customer.objects.filter(primary_rm=_staff(RM), kind=Customer.Kind.INDIVIDUAL)
        .exclude(mobile_enc="")
        .order_by("-aum", "pk")
        .first()
    )


def _head_customer():
    """A customer in the head's subtree outside the RM's portfolio: the median customer by id."""
    from customers.models import Customer

    qs = Customer.objects.in_subtree_of(_staff(SUB_HEAD).branch).filter(kind=Customer.Kind.INDIVIDUAL)
    return qs.order_by("pk")[qs.count() // 2]


def _customer_pk():
    c = _rm_customer()
    return {"pk": c.pk} if c else None


def _head_customer_pk():
    return {"pk": _head_customer().pk}


def _mobile_term():
    from customers import pii

    return {"q": pii.decrypt(_head_customer().mobile_enc)}


def _id_tail_term():
    return {"q": _head_customer().id_last4}


def _customer_no_term():
    return {"q": _head_customer().customer_no}


def _name_prefix_term():
    """The first two characters of the head's sample customer's name (a surname and the start of a given name)."""
    return {"q": _head_customer().name[:2]}


def _segment_filter():
    from customers.models import Segment

    segment = Segment.objects.order_by("-aum_min").first()
    return {"segment": segment.pk, "sort": "-aum"}


def _model(label):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _complaint_pk():
    model = _model("complaints.Complaint")
    if model is None:
        return None
    try:
        pk = model.objects.order_by("pk").values_list("pk", flat=True).first()
    except Exception:  # noqa: BLE001 - table not migrated yet: the page is missing
        return None
    return {"pk": pk} if pk else None


def _rm_pk():
    return {"pk": _staff(RM).pk}


def _rm_task_pk():
    """The RM's largest open task (the demo hands one out over a few hundred customers)."""
    model = _model("worktasks.Task")
    if model is None:
        return None
    pk = (
        model.objects.filter(lines__assignee=_staff(RM), status="open")
        .order_by("-lines_total", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    return {"pk": pk} if pk else None


def _load_pk():
    """The newest data load; on a data set without one, a dry run of a customers file whose 200 rows name an unknown
    branch (so the load's page shows a report of 200 rejected rows, 50 a page)."""
    model = _model("feed.Load")
    if model is None:
        return None
    load = model.objects.order_by("-pk").first()
    if load is None:
        import tempfile
        from datetime import date
        from pathlib import Path

        from feed.loader import load_file
        from feed.writer import write_extract

        rows = [
            {"cust_no": f"B{i:05d}", "cust_type": "P", "name": f"基准{i}", "branch_code": "NONE"} for i in range(200)
        ]
        with tempfile.TemporaryDirectory() as folder:
            load = load_file(write_extract(Path(folder), "CUST", date(2026, 11, 30), rows), dry_run=True)
    return {"pk": load.pk}


def _head_target_pk():
    """The largest-valued target of the sub-branch head's own branch in the current month (the demo sets them)."""
    from django.utils import timezone

    from targets.models import Target, TargetPeriod

    start, _end = TargetPeriod.bounds(TargetPeriod.Kind.MONTH, timezone.localdate())
    target = (
        Target.objects.filter(branch=_staff(SUB_HEAD).branch, period__kind="month", period__start=start)
        .order_by("-value", "pk")
        .first()
    )
    return {"pk": target.pk} if target else None


def _segment(username: str, name: str):
    """A demo segment (demo/marketing.py), or None on a data set seeded before segments existed."""
    model = _model("marketing.SavedSegment")
    if model is None:
        return None
    return model.objects.filter(owner__user__username=username, name=name).first()


# The demo's segments the bench opens: the sub-branch head's tier-and-lifecycle segment, the RM's lifecycle segment
# in the order "longest without contact".
HEAD_SEGMENT = (SUB_HEAD, "财富客户 衰退期")
RM_SEGMENT = (RM, "衰退期客户 久未联系优先")


def _segment_pk(which):
    def kwargs():
        segment = _segment(*which)
        return {"pk": segment.pk} if segment else None

    return kwargs


def _segment_as_list(which):
    """The customer list as "open as a list" redirects to it: the segment's filter as its owner reads it, and the
    segment it was opened from (its banner). The page also takes ``kwargs=_segment_pk(which)``, which the list's URL
    does without, so that it is reported missing on a data set without the segment."""

    def query():
        from marketing.segments import segment_filter

        segment = _segment(*which)
        if segment is None:
            return {}
        return {**{k: v[-1] for k, v in segment_filter(segment, _staff(which[0])).params.items()}, "saved": segment.pk}

    return query


def _rm_customer_query():
    """The opportunity form for the RM's largest customer (as opened from the 360° page's "新建商机")."""
    c = _rm_customer()
    return {"customer": c.pk} if c else {}


def _rm_opportunity_pk():
    """The RM's open opportunity expected soonest (the demo gives one customer in 25 an opportunity)."""
    model = _model("opportunities.Opportunity")
    if model is None:
        return None
    pk = (
        model.objects.filter(owner=_staff(RM), stage__in=["lead", "interest", "proposal"])
        .order_by("expected_on", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    return {"pk": pk} if pk else None


# --------------------------------------------------------------------------------------------------------------
# The pages
# --------------------------------------------------------------------------------------------------------------

LIST = ("customers:customer-list",)
POOL = ("pool:pool-list",)
SEARCH = ("customers:customer-search",)
DASHBOARD = ("dashboards:dashboard", "dashboards:branch", "dashboards:dashboard")
HQ_DASHBOARD = ("dashboards:dashboard-hq", "dashboards:hq-dashboard", "dashboards:hq")
RM_PERFORMANCE = ("dashboards:rm-performance", "dashboards:rm-performance")
DRILL = ("dashboards:dashboard-records",)

PAGES: tuple[Page, ...] = (
    # Customer list
    Page("customer-list default", RM, LIST),
    Page("customer-list default (head)", SUB_HEAD, LIST),
    Page("customer-list default (admin)", ADMIN, LIST),
    Page("customer-list name prefix 王", HEAD, LIST, query={"q": "王"}),
    Page("customer-list name prefix 王 (rm)", RM, LIST, query={"q": "王"}),
    Page("customer-list mobile", HEAD, LIST, query=_mobile_term),
    Page("customer-list ID tail", HEAD, LIST, query=_id_tail_term),
    Page("customer-list customer no", HEAD, LIST, query=_customer_no_term),
    Page("customer-list filter lifecycle+risk", HEAD, LIST, query={"lifecycle": "declining", "risk_level": "C3"}),
    Page("customer-list filter top tier", HEAD, LIST, query=_segment_filter),
    Page("customer-list sort AUM ascending", HEAD, LIST, query={"sort": "aum"}),
    Page("customer-list sort last contact", HEAD, LIST, query={"sort": "last_contacted_at"}),
    Page("customer-list sort last contact (rm)", RM, LIST, query={"sort": "last_contacted_at"}),
    Page("customer-list deep page 200", HEAD, LIST, query={"page": "200"}),
    Page("customer-list deep page 200 (admin)", ADMIN, LIST, query={"page": "200"}),
    Page("my customers", RM, ("relationships:my-customers",)),
    # The customer pool: an RM's outlet pool (about 40 % of its 大众 customers), and a sub-branch head's pools
    # with the keepers of each outlet and the RMs to assign to.
    Page("pool list", RM, POOL),
    Page("pool list (head)", SUB_HEAD, POOL),
    # The header's search box: its page, reached through the token step as the list is (its htmx answer runs the same
    # selector, one query fewer: no navigation bar); the bench only sends GETs.
    Page("header search name prefix", HEAD, SEARCH, query=_name_prefix_term),
    Page("header search name prefix (rm)", RM, SEARCH, query=_name_prefix_term),
    Page("header search mobile", HEAD, SEARCH, query=_mobile_term),
    Page("header search ID tail", SUB_HEAD, SEARCH, query=_id_tail_term),
    # The customer
    Page("customer 360", RM, ("customers:customer-detail",), kwargs=_customer_pk),
    Page("customer 360 (head)", SUB_HEAD, ("customers:customer-detail",), kwargs=_head_customer_pk),
    Page("customer timeline", RM, ("relationships:customer-timeline",), kwargs=_customer_pk),
    # Marketing consent (营销同意) of the RM's sample customer: the consent page, its history, the new-window form.
    Page("consent page", RM, ("consent:consent-edit",), kwargs=_customer_pk),
    Page("consent history", RM, ("consent:consent-history",), kwargs=_customer_pk),
    Page("do-not-disturb window form", RM, ("consent:dnd-create",), kwargs=_customer_pk),
    # Work
    Page("today", RM, ("reminders:today",)),
    Page("today (head)", SUB_HEAD, ("reminders:today",)),
    Page("my visits", RM, ("relationships:my-visits",)),
    Page("visit plan form", RM, ("relationships:visit-plan-create",)),
    Page("notifications", RM, ("notifications:notification-list",)),
    Page("approvals", HEAD, ("relationships:approvals",)),
    Page("release approvals", HEAD, ("pool:release-list",)),
    Page("reassignments", HEAD, ("relationships:reassignment-list",)),
    Page("handovers", HEAD, ("relationships:handover-list",)),
    Page("branch tree", HEAD, ("organisation:branch-tree",)),
    # Complaints
    Page("complaint list", OFFICER, ("complaints:complaint-list",), pattern=r"^complaints:[\w-]*list$"),
    Page("complaint list (head)", SUB_HEAD, ("complaints:complaint-list",), pattern=r"^complaints:[\w-]*list$"),
    Page(
        "complaint detail",
        OFFICER,
        ("complaints:complaint-detail",),
        kwargs=_complaint_pk,
        pattern=r"^complaints:[\w-]*detail$",
    ),
    Page("complaint intake", OFFICER, ("complaints:complaint-create",)),
    Page("complaint statistics", OFFICER, ("complaints:statistics",)),
    Page("complaint repeated causes", OFFICER, ("complaints:repeated-causes",)),
    # Dashboards
    Page("branch dashboard", SUB_HEAD, DASHBOARD, kind="dashboard", pattern=r"dashboard$"),
    Page("branch dashboard (whole branch)", HEAD, DASHBOARD, kind="dashboard", pattern=r"dashboard$"),
    Page("branch dashboard 90 days", SUB_HEAD, DASHBOARD, query={"period": "90"}, kind="dashboard"),
    Page("HQ dashboard", ADMIN, HQ_DASHBOARD, kind="dashboard", pattern=r"(hq|admin)"),
    Page("RM performance", SUB_HEAD, RM_PERFORMANCE, kwargs=_rm_pk, kind="dashboard", pattern=r"rm-performance$"),
    Page("RM performance (own)", RM, ("dashboards:my-performance",), kind="dashboard", pattern=r"my-performance$"),
    Page("drill-down not contacted", SUB_HEAD, DRILL, query={"metric": "not_contacted"}),
    Page("drill-down not contacted (whole branch)", HEAD, DRILL, query={"metric": "not_contacted"}),
    Page("drill-down interactions", SUB_HEAD, DRILL, query={"metric": "interactions"}),
    Page("drill-down churn risk", SUB_HEAD, DRILL, query={"metric": "churn"}),
    Page("drill-down customers (whole branch)", HEAD, DRILL, query={"metric": "customers"}),
    Page("drill-down new customers (whole branch)", HEAD, DRILL, query={"metric": "new_customers"}),
    Page("drill-down lost customers (whole branch)", HEAD, DRILL, query={"metric": "lost_customers"}),
    Page("drill-down interactions (whole branch)", HEAD, DRILL, query={"metric": "interactions"}),
    Page("drill-down overdue follow-ups", SUB_HEAD, DRILL, query={"metric": "follow_ups_overdue"}),
    Page("drill-down overdue follow-ups (whole branch)", HEAD, DRILL, query={"metric": "follow_ups_overdue"}),
    Page("drill-down ratings (whole branch)", HEAD, DRILL, query={"metric": "ratings"}),
    Page("drill-down pool customers (whole branch)", HEAD, DRILL, query={"metric": "pool"}),
    Page("drill-down pool not contacted (whole branch)", HEAD, DRILL, query={"metric": "pool_not_contacted"}),
    # Tasks (任务)
    Page("task list (head)", SUB_HEAD, ("worktasks:task-list",)),
    Page("task page (rm)", RM, ("worktasks:task-detail",), kwargs=_rm_task_pk),
    Page("task create form", SUB_HEAD, ("worktasks:task-create",)),
    # Segments (客群): the page (its counts come over htmx, one request per row: the segment's page below), a
    # segment's page with its count (≤ 200 ms: a capped count over the reader's scope), and a segment opened as the
    # customer list.
    Page("segments (rm)", RM, ("marketing:segment-list",)),
    Page("segments (head)", SUB_HEAD, ("marketing:segment-list",)),
    Page(
        "segment count (head)",
        SUB_HEAD,
        ("marketing:segment-detail",),
        kwargs=_segment_pk(HEAD_SEGMENT),
        kind="dashboard",
    ),
    Page("segment count (rm)", RM, ("marketing:segment-detail",), kwargs=_segment_pk(RM_SEGMENT), kind="dashboard"),
    Page("segment as a list (head)", SUB_HEAD, LIST, _segment_pk(HEAD_SEGMENT), _segment_as_list(HEAD_SEGMENT)),
    Page("segment as a list (rm)", RM, LIST, _segment_pk(RM_SEGMENT), _segment_as_list(RM_SEGMENT)),
    Page("segment save form (head)", SUB_HEAD, ("marketing:segment-create",), query={"lifecycle": "declining"}),
    # Targets (指标)
    Page("targets view (head)", SUB_HEAD, ("targets:target-list",)),
    Page("targets view (rm)", RM, ("targets:my-targets",)),
    Page("target distribute form", SUB_HEAD, ("targets:target-distribute",), kwargs=_head_target_pk),
    # Opportunities (商机): an RM's own, a sub-branch head's and the whole branch's pipeline, the form, one page
    Page("my opportunities", RM, ("opportunities:my-pipeline",)),
    Page("opportunities (head)", SUB_HEAD, ("opportunities:pipeline",)),
    Page("opportunities (whole branch)", HEAD, ("opportunities:pipeline",)),
    Page("opportunity form", RM, ("opportunities:opportunity-create",), query=_rm_customer_query),
    Page("opportunity page", RM, ("opportunities:opportunity-detail",), kwargs=_rm_opportunity_pk),
    # The core-banking loads
    Page("data loads", ADMIN, ("feed:load-list",)),
    Page("data load report", ADMIN, ("feed:load-detail",), kwargs=_load_pk),
    Page("identity conflicts", ADMIN, ("feed:conflict-list",)),
    # Django admin
    Page("admin customers", ADMIN, ("admin:customers_customer_changelist",)),
    Page("admin customers search", ADMIN, ("admin:customers_customer_changelist",), query=_customer_no_term),
    Page("admin interactions", ADMIN, ("admin:relationships_interaction_changelist",)),
    Page("admin complaints", ADMIN, ("admin:complaints_complaint_changelist",)),
)


def _url_names(patterns=None, namespace=""):
    if patterns is None:
        patterns = get_resolver().url_patterns
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _url_names(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}"


def resolve(page: Page) -> tuple[str | None, str]:
    """(path with query string, "") for a page that exists, or (None, why it is missing)."""
    from urllib.parse import urlencode

    names = list(page.url_names)
    if page.pattern:
        names += sorted(n for n in set(_url_names()) if re.search(page.pattern, n) and "export" not in n)
    kwargs = page.kwargs() if page.kwargs else {}
    if kwargs is None:
        return None, "no sample object"
    for name in names:
        for attempt in (kwargs, {}) if kwargs else ({},):
            try:
                url = reverse(name, kwargs=attempt or None)
            except NoReverseMatch:
                continue
            query = page.query() if callable(page.query) else page.query
            return (url + ("?" + urlencode(query) if query else "")), ""
    return None, "URL name not found: " + ", ".join(page.url_names)
