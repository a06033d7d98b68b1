"""The role × page matrix for every page of relationships, reminders, dashboards, notifications and the
organisation: who gets the page (200), who may not open it (403), and
who asks for a record outside their scope (404, which confirms nothing)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships import services

pytestmark = pytest.mark.django_db

WHO = ("rm_west", "rm_east", "west_head", "east_head", "west_officer", "admin")


@pytest.fixture
def records(org, book):
    interaction = services.interaction_log(actor=org.rm_west.user, customer=book.west)
    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="r"
    )
    plan = services.visit_plan_create(
        actor=org.rm_west.user,
        planned_on=timezone.localdate() + timedelta(days=1),
        customers=[book.west],
        purpose="care",
    )
    services.visit_plan_submit(actor=org.rm_west.user, plan=plan)
    services.staff_mark_leaving(actor=org.west_head.user, staff=org.rm_west2, last_day=date(2026, 12, 31))
    handover = services.handover_start(
        actor=org.west_head.user, leaver=org.rm_west2, targets=[org.rm_west], method="even"
    )
    return {"interaction": interaction, "request": request, "plan": plan, "handover": handover}


def pages(book, records, org):
    return {
        "today": reverse("reminders:today"),
        "my-customers": reverse("relationships:my-customers"),
        "my-visits": reverse("relationships:my-visits"),
        "approvals": reverse("relationships:approvals"),
        "notifications": reverse("notifications:notification-list"),
        "interaction-create": reverse("relationships:interaction-create", args=[book.west.pk]),
        "timeline": reverse("relationships:customer-timeline", args=[book.west.pk]),
        "interaction-update": reverse("relationships:interaction-update", args=[records["interaction"].pk]),
        "reassignment-list": reverse("relationships:reassignment-list"),
        "reassignment-create": reverse("relationships:reassignment-create") + f"?customer={book.west.pk}",
        "reassignment-detail": reverse("relationships:reassignment-detail", args=[records["request"].pk]),
        "staff-leaving": reverse("relationships:staff-leaving", args=[org.rm_west.pk]),
        "handover-list": reverse("relationships:handover-list"),
        "handover-create": reverse("relationships:handover-create") + f"?leaver={org.rm_west2.pk}",
        "handover-detail": reverse("relationships:handover-detail", args=[records["handover"].pk]),
        "handover-report": reverse("relationships:handover-report", args=[records["handover"].pk]),
        "visit-plan-create": reverse("relationships:visit-plan-create"),
        "visit-plan-detail": reverse("relationships:visit-plan-detail", args=[records["plan"].pk]),
        "visit-plan-report": reverse("relationships:visit-plan-report", args=[records["plan"].pk]),
        "dashboard": reverse("dashboards:dashboard"),
        "dashboard-hq": reverse("dashboards:dashboard-hq"),
        "dashboard-records": reverse("dashboards:dashboard-records") + f"?metric=customers&rm={org.rm_west.pk}",
        "dashboard-export": reverse("dashboards:dashboard-export") + "?table=rms",
        "my-performance": reverse("dashboards:my-performance"),
        "rm-performance": reverse("dashboards:rm-performance", args=[org.rm_west.pk]),
    }


URL_NAMES = {"timeline": "customer-timeline", "notifications": "notification-list"}

# page → status for each of WHO
EXPECTED = {
    "today":               (200, 200, 200, 200, 403, 200),
    "my-customers":        (200, 200, 403, 403, 403, 403),
    "my-visits":           (200, 200, 403, 403, 403, 403),
    "approvals":           (403, 403, 200, 200, 403, 200),
    "notifications":       (200, 200, 200, 200, 200, 200),
    "interaction-create":  (200, 404, 200, 404, 403, 200),
    "timeline":            (200, 404, 200, 404, 200, 200),
    "interaction-update":  (200, 404, 403, 404, 403, 403),
    "reassignment-list":   (200, 200, 200, 200, 200, 200),
    "reassignment-create": (200, 302, 200, 302, 403, 200),
    "reassignment-detail": (200, 404, 200, 404, 404, 200),
    "staff-leaving":       (403, 403, 200, 404, 403, 200),
    "handover-list":       (403, 403, 200, 200, 403, 200),
    "handover-create":     (403, 403, 200, 404, 403, 200),
    "handover-detail":     (403, 403, 200, 404, 403, 200),
    "handover-report":     (403, 403, 200, 404, 403, 200),
    "visit-plan-create":   (200, 200, 403, 403, 403, 403),
    "visit-plan-detail":   (200, 404, 200, 404, 403, 200),
    "visit-plan-report":   (302, 404, 403, 403, 403, 403),
    "dashboard":           (403, 403, 200, 200, 403, 200),
    "dashboard-hq":        (403, 403, 403, 403, 403, 200),
    "dashboard-records":   (200, 404, 200, 404, 403, 200),
    "dashboard-export":    (403, 403, 200, 200, 403, 200),
    "my-performance":      (200, 200, 403, 403, 403, 403),
    "rm-performance":      (200, 404, 200, 404, 403, 200),
}  # fmt: skip


def test_every_page_is_in_the_matrix():
    from tests.urlwalk import all_urls

    apps = ("relationships:", "reminders:", "dashboards:", "notifications:", "organisation:")
    ours = {name.split(":")[1] for _path, name, _view in all_urls() if name.startswith(apps)}
    posts = {"rating-create", "secondary-assign", "follow-up-action"}  # POST-only: test_post_only_actions, test_today
    covered = {URL_NAMES.get(page, page) for page in EXPECTED} | {"branch-tree"} | posts
    assert ours == covered


@pytest.mark.parametrize("page", list(EXPECTED))
def test_matrix(org, book, records, login, page):
    url = pages(book, records, org)[page]
    for who, status in zip(WHO, EXPECTED[page], strict=True):
        response = login(getattr(org, who)).get(url)
        assert response.status_code == status, (page, who, response.status_code)
        if status == 404 or status == 403:
            assert book.west.name not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("rm_east", 404), ("east_head", 404), ("west_head", 302), ("west_officer", 302)]
)
def test_post_only_actions_are_scoped(org, book, login, who, status):
    response = login(getattr(org, who)).post(reverse("relationships:rating-create", args=[book.west.pk]), {"score": 4})
    assert response.status_code == status


def test_secondary_assign_is_for_heads_of_the_customer(org, book, login):
    url = reverse("relationships:secondary-assign", args=[book.west.pk])
    assert login(org.rm_west).post(url, {"staff": org.rm_west2.pk, "reason": "x"}).status_code == 403
    assert login(org.east_head).post(url, {"staff": org.rm_west2.pk, "reason": "x"}).status_code == 404
    assert login(org.west_head).post(url, {"staff": org.rm_west2.pk, "reason": "x"}).status_code == 302
