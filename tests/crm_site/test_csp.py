"""The browser policies: every response of every page, for every role and in Django admin, carries the strict
Content-Security-Policy and the Permissions-Policy, and no page's HTML holds what that policy would block (an
inline script, an on…= handler, an hx-on attribute, a javascript: URL, a style attribute or element). The same
markup checks run over every template file, for the pages a walk cannot reach (the 500 page). In Chromium the
pages are checked again, with their charts and selects working (tests/browser/test_csp_pages.py)."""

import re
from datetime import time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loaders.app_directories import get_app_template_dirs
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import ComplaintCategory
from consent import services as consent_services
from customers.models import AssetSnapshot, Holding
from feed.models import Kind, Load, LoadError
from notifications import services as notification_services
from relationships import services
from reminders.models import FollowUp
from tests.factories import ProductFactory
from tests.urlwalk import all_urls

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "base-uri": {"'self'"},
    "frame-ancestors": {"'none'"},
    "object-src": {"'none'"},
}
SWITCHED_OFF = {"camera", "microphone", "geolocation", "payment", "usb", "display-capture", "browsing-topics"}
WHO = ("rm_west", "rm_west2", "west_head", "top_head", "west_officer", "admin")


# -- what the policy would block, in a page's HTML ---------------------------------------------------------------


class _Blocked(HTMLParser):
    """Collects every piece of markup a strict policy (no 'unsafe-inline', no 'unsafe-eval') blocks."""

    DATA_TYPES = {"application/json", "application/ld+json"}  # json_script: data, never run

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not values.get("src") and (values.get("type") or "").lower() not in self.DATA_TYPES:
            self.found.append(f"inline <script> ({self.getpos()})")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if re.fullmatch(r"on[a-z]+", name):
                self.found.append(f"<{tag} {name}=…> handler")
            elif re.match(r"(data-)?hx-on", name):
                self.found.append(f"<{tag} {name}=…> htmx handler")
            elif name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            if value and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}> javascript: URL")

    handle_startendtag = handle_starttag


def blocked(html: str) -> list[str]:
    parser = _Blocked()
    parser.feed(html)
    parser.close()
    return parser.found


def policy_of(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = [d.split() for d in header.split(";") if d.strip()]
    return {d[0]: set(d[1:]) for d in directives}


def permissions_of(response) -> dict[str, str]:
    header = response.headers.get("Permissions-Policy", "")
    return dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)


def problems_of(response, path: str) -> list[str]:
    """What is wrong with one response: a missing or weaker header, or blocked markup in its HTML."""
    problems = []
    if policy_of(response) != POLICY:
        problems.append(f"{path}: Content-Security-Policy is {response.headers.get('Content-Security-Policy')!r}")
    permissions = permissions_of(response)
    if any(permissions.get(feature) != "()" for feature in SWITCHED_OFF):
        problems.append(f"{path}: Permissions-Policy is {response.headers.get('Permissions-Policy')!r}")
    if response.headers.get("Content-Type", "").startswith("text/html"):
        problems.extend(f"{path} [{response.status_code}]: {what}" for what in blocked(response.content.decode()))
    return problems


def test_the_markup_check_finds_what_the_policy_blocks():
    page = """<html><head><style>p{}</style></head><body>
    <script>alert(1)</script><script src="/static/a.js"></script><script type="application/json">{"a": 1}</script>
    <select onchange="this.form.submit()"></select><button hx-on:click="x()"></button><p style="color: red"></p>
    <a href=" JavaScript:alert(1)">x</a><img src="/a.png" alt=""></body></html>"""
    found = blocked(page)
    assert len(found) == 6, found
    assert blocked('<script src="/s.js" data-draw="line"></script><select data-autosubmit></select>') == []


# -- the data every page needs to show something ---------------------------------------------------------------


@pytest.fixture
def records(org, book, settings, tmp_path):
    """One record of every kind a page shows, in the west sub-branch, so that every page has something to render."""
    settings.MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    AssetSnapshot.objects.bulk_create(
        AssetSnapshot(customer=book.west, date=today - timedelta(days=d), aum=Decimal(100_000 + 1000 * d))
        for d in range(1, 31)
    )
    Holding.objects.create(
        customer=book.west, product=ProductFactory(), amount=Decimal("50000"), opened_on=today - timedelta(days=60)
    )
    interaction = services.interaction_log(actor=org.rm_west.user, customer=book.west)
    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="调整"
    )
    plan = services.visit_plan_create(
        actor=org.rm_west.user, planned_on=today + timedelta(days=1), customers=[book.west], purpose="care"
    )
    services.visit_plan_submit(actor=org.rm_west.user, plan=plan)
    services.staff_mark_leaving(actor=org.west_head.user, staff=org.rm_west2, last_day=today + timedelta(days=30))
    handover = services.handover_start(
        actor=org.west_head.user, leaver=org.rm_west2, targets=[org.rm_west], method="even"
    )
    complaint = complaint_services.complaint_register(
        actor=org.west_officer.user,
        customer=book.west,
        category=ComplaintCategory.objects.order_by("pk").first(),
        channel="counter",
        request="退还手续费",
        facts="柜员未告知收费标准",
        attachments=[SimpleUploadedFile("信.pdf", b"%PDF-1.4 letter")],
    )
    complaint = complaint_services.complaint_accept(
        actor=org.west_officer.user, complaint=complaint, handler=org.rm_west2
    )
    follow_up = FollowUp.objects.create(
        customer=book.west, staff=org.rm_west, kind=FollowUp.Kind.CHURN_RISK, due_on=today, title="流失预警",
        dedupe_key=f"churn:{book.west.pk}", detail={"no_contact": True},
    )  # fmt: skip
    notification_services.notification_send([org.rm_west, org.west_head], "提醒", "/")
    load = Load.objects.create(
        kind=Kind.CUST, business_date=today - timedelta(days=1), file_name="CUST.txt", sha256="ab" * 32,
        size_bytes=10, source=Load.Source.INBOX, status=Load.Status.LOADED, rows_read=2, rows_loaded=1,
        rows_rejected=1, started_at=timezone.now(), finished_at=timezone.now(),
    )  # fmt: skip
    running = Load.objects.create(
        kind=Kind.HOLD, business_date=today - timedelta(days=1), file_name="HOLD.txt", sha256="cd" * 32,
        size_bytes=10, source=Load.Source.UPLOAD, status=Load.Status.RUNNING, started_at=timezone.now(),
    )  # fmt: skip
    conflict = LoadError.objects.create(
        load=load, line=2, column="id_no", value="110105********002X", code=LoadError.CONFLICT, reason="冲突",
        key="C0001",
    )  # fmt: skip
    from targets import services as target_services
    from worktasks import services as task_services

    task = task_services.task_create(
        actor=org.west_head.user, title="回访", due_on=today + timedelta(days=3), customers=[book.west.pk]
    )
    from marketing import services as segment_services

    segment = segment_services.segment_create(
        actor=org.west_head.user, name="衰退客户", params={"lifecycle": ["declining"]}, visibility="shared"
    )
    from opportunities import services as opportunity_services

    opportunity = opportunity_services.opportunity_create(
        actor=org.rm_west.user, customer=book.west, amount=Decimal("200000"), expected_on=today + timedelta(days=9),
        product_category="wealth", interaction=interaction,
    )  # fmt: skip
    window = consent_services.dnd_window_add(
        actor=org.rm_west.user, customer=book.west, channel="phone", weekdays=31, start_time=time(9),
        end_time=time(18), reason="上班时间勿打电话",
    )  # fmt: skip
    consent_services.consent_record(
        actor=org.rm_west.user, customer=book.west, channel="sms", state="given", effective_on=today,
        source="counter", reason="柜面签署",
    )  # fmt: skip
    period = target_services.period_of(kind="month", day=today)
    target = target_services.target_set(
        actor=org.west_head.user, period=period, metric="aum_growth", value=Decimal("100000"), branch=org.west
    )
    return {
        "task": task, "line": task.lines.first(), "target": target, "segment": segment,
        "opportunity": opportunity,
        "customer": book.west, "interaction": interaction, "request": request, "plan": plan, "handover": handover,
        "complaint": complaint, "attachment": complaint.attachments.get(), "follow_up": follow_up, "load": load,
        "running": running, "conflict": conflict, "rm": org.rm_west, "leaver": org.rm_west2, "window": window,
    }  # fmt: skip


# URL name → the records its arguments come from; every page with arguments must be here (a test checks it).
ARGUMENTS = {
    "reminders:follow-up-action": [("follow_up", "done")],
    "dashboards:rm-performance": [("rm",)],
    "relationships:interaction-create": [("customer",)],
    "relationships:customer-timeline": [("customer",)],
    "relationships:rating-create": [("customer",)],
    "relationships:secondary-assign": [("customer",)],
    "relationships:interaction-update": [("interaction",)],
    "relationships:reassignment-detail": [("request",)],
    "relationships:staff-leaving": [("rm",)],
    "relationships:handover-detail": [("handover",)],
    "relationships:handover-report": [("handover",)],
    "relationships:visit-plan-detail": [("plan",)],
    "relationships:visit-plan-report": [("plan",)],
    "customers:customer-detail": [("customer",)],
    "customers:customer-update": [("customer",)],
    "customers:customer-reveal": [("customer",)],
    "complaints:complaint-detail": [("complaint",)],
    "complaints:attachment-download": [("complaint", "attachment")],
    "feed:load-detail": [("load",), ("running",)],
    "feed:load-progress": [("load",), ("running",)],
    "feed:load-report": [("load",)],
    "feed:conflict-resolve": [("conflict",)],
    "worktasks:task-detail": [("task",)],
    "worktasks:task-cancel": [("task",)],
    "worktasks:line-complete": [("line",)],
    "targets:target-distribute": [("target",)],
    "marketing:segment-detail": [("segment",)],
    "marketing:segment-open": [("segment",)],
    "marketing:segment-update": [("segment",)],
    "marketing:segment-delete": [("segment",)],
    "opportunities:opportunity-detail": [("opportunity",)],
    "consent:consent-edit": [("customer",)],
    "consent:consent-history": [("customer",)],
    "consent:dnd-create": [("customer",)],
    "consent:dnd-remove": [("customer", "window")],
}
# Query strings that open a page's other state (a form filled in, a drill-down with rows).
EXTRA = [
    "/dashboard/records/?metric=customers&rm={rm}",
    "/dashboard/hq/?period=mtd",
    "/reassignments/new/?customer={customer}",
    "/handovers/new/?leaver={leaver}",
    "/opportunities/new/?customer={customer}",
    "/opportunities/new/?interaction={interaction}",
    "/no-such-page/",
]


def site_pages(records) -> list[str]:
    """Every page of the site (not Django admin), with real records for its arguments."""
    paths = []
    for path, name, _view in all_urls():
        if name.startswith("admin:"):
            continue
        if name not in ARGUMENTS:
            paths.append(path)
            continue
        for args in ARGUMENTS[name]:
            values = [records[a].pk if a in records else a for a in args]
            paths.append(reverse(name, args=values))
    ids = {k: v.pk for k, v in records.items()}
    return paths + [extra.format(**ids) for extra in EXTRA]


def takes_arguments(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


def test_every_page_with_arguments_is_walked():
    site = {name for _path, name, _view in all_urls() if not name.startswith("admin:")}
    assert {name for name in site if takes_arguments(name)} == set(ARGUMENTS)


@pytest.mark.parametrize("who", WHO)
def test_every_page_of_every_role_has_the_policies_and_nothing_they_block(org, records, login, who):
    client = login(getattr(org, who))
    problems, seen = [], set()
    for path in site_pages(records):
        response = client.get(path)
        seen.add(response.status_code)
        problems.extend(problems_of(response, path))
    assert not problems, "\n".join(problems)
    assert 200 in seen  # the role opened pages, not only refusals


def test_pages_before_sign_in_and_the_refusals_have_the_policies(client, org):
    problems = []
    for path in ("/accounts/login/", "/", "/customers/", "/no-such-page/", "/admin/login/"):
        response = client.get(path)
        problems.extend(problems_of(response, path))
    response = client.post("/accounts/login/", {"username": "rm_west", "password": "wrong"})
    problems.extend(problems_of(response, "a failed sign-in"))
    assert not problems, "\n".join(problems)


def test_csrf_failure_and_lockout_pages_have_the_policies(org, settings):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/accounts/login/", {"username": "rm_west", "password": "x"})
    assert response.status_code == 403
    problems = problems_of(response, "CSRF failure")
    from django.test import Client as Fresh

    fresh = Fresh()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = fresh.post("/accounts/login/", {"username": "rm_west", "password": "wrong"})
    assert response.status_code == 429
    problems.extend(problems_of(response, "locked out"))
    assert not problems, "\n".join(problems)


# -- Django admin -------------------------------------------------------------------------------------------------


def admin_pages() -> list[str]:
    """Admin's index, each app's index, and for every registered model its changelist, add page and, for its first
    row, the change, history and delete pages."""
    paths = [reverse("admin:index"), reverse("admin:password_change")]
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        paths.append(reverse("admin:app_list", args=[opts.app_label]))
        paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is None:
            continue
        for view in ("change", "history", "delete"):
            try:
                paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[first.pk]))
            except NoReverseMatch:
                pass
    return list(dict.fromkeys(paths))


def test_every_admin_page_has_the_policies_and_nothing_they_block(org, records, login):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(username="x", ip_address="10.0.0.1", user_agent="t", failures_since_start=1)
    client = login(org.admin)
    problems, opened = [], 0
    for path in admin_pages():
        response = client.get(path)
        assert response.status_code in (200, 302, 403), (path, response.status_code)
        opened += response.status_code == 200
        problems.extend(problems_of(response, path))
    assert not problems, "\n".join(problems)
    assert opened > 80  # changelists, add, change, history and delete pages of every model


def test_the_copied_history_table_differs_from_the_library_only_by_its_style_attribute():
    """templates/simple_history/object_history_list.html is django-simple-history's, without one style attribute:
    after an upgrade of the library this fails until the copy is taken again."""
    import simple_history

    library = Path(simple_history.__file__).parent / "templates/simple_history/object_history_list.html"
    ours = (ROOT / "templates/simple_history/object_history_list.html").read_text()
    ours = re.sub(r"\A\{% comment %\}.*?\{% endcomment %\}\n", "", ours, flags=re.S)
    theirs = library.read_text().replace('<p class="paginator" style="border-top: 0">', '<p class="paginator">')
    assert ours == theirs


# -- every template file ----------------------------------------------------------------------------------------


def markup_of(template: Path) -> str:
    """A template's markup, each template tag and variable standing for a plain value (``src="{% static … %}"``
    is then a source like any other)."""
    return re.sub(r"\{%.*?%\}|\{\{.*?\}\}", "T", template.read_text(errors="ignore"), flags=re.S)


TEMPLATES = ROOT / "templates"
TEMPLATE_FILES = sorted(p for p in TEMPLATES.rglob("*.html") if "email" not in p.relative_to(TEMPLATES).parts)


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_holds_what_the_policy_blocks(template):
    assert blocked(markup_of(template)) == []


# A library template whose blocked markup is never rendered here: Django admin's changelist adds a <style> element
# only for a ModelAdmin with neither action bar, and none of ours turns both off (the admin walk above would see it).
NEVER_RENDERED = {"admin/change_list.html"}


def test_every_library_template_with_blocked_markup_is_overridden():
    """django-celery-beat's periodic task form (an inline script) and django-simple-history's history table (a style
    attribute) are overridden under templates/; a library added or upgraded with such a template fails here."""
    ours = {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATE_FILES}
    offending = sorted(
        f"{folder}: {name}"
        for folder in get_app_template_dirs("templates")
        for path in Path(folder).rglob("*.html")
        if (name := path.relative_to(folder).as_posix()) not in ours | NEVER_RENDERED and blocked(markup_of(path))
    )
    assert offending == []
