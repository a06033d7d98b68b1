"""Bad input is a form error or ignored, never a 5xx: every GET filter of every list page and every POST form of
every page, for every role, with NUL characters, 100,000-character strings, huge and negative numbers,
impossible and extreme dates, broken percent escapes and repeated parameters; and Django admin's list filters,
search and add forms, and both sign-in forms. A POST of a NUL or an over-long text writes nothing.

The pages and their forms are found, not listed: the list pages from the URL patterns (tests/urlwalk.py), their
filters from the GET forms they render for the role, the detail pages from the links on the list pages, and the
POST forms from every page found. A page added later is fuzzed without touching this file."""

from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import ComplaintCategory
from relationships import services as rel_services
from tests.factories import TEST_PASSWORD
from tests.urlwalk import all_urls

pytestmark = pytest.mark.django_db

# What each request sends, in every parameter (or every field) at once.
VALUES = {
    "nul": "a\x00b",
    "long": "x" * 100_000,
    "huge": "9" * 30,
    "negative": "-1",
    "zero_date": "0000-00-00",
    "max_date": "9999-12-31",
    "old_date": "1900-01-01",
    "nan": "NaN",
}
# Sent as they are, not percent-encoded again: byte sequences that are not UTF-8.
RAW = {"bad_utf8": "%ff%fe%c3%28"}
# What a query string gets (a filter has fewer kinds of value than a form); "array" repeats each parameter.
GET_VALUES = ("nul", "long", "huge", "negative", "zero_date", "max_date", "bad_utf8", "array")
POST_VALUES = (*VALUES, *RAW, "array")
# Values no text field may store: a POST carrying them in every field must write nothing.
WRITES_NOTHING = ("nul", "long")

# Parameters the pages read from the query string themselves (the forms' own fields are read from the page).
QUERY_PARAMETERS = (
    "q", "page", "sort", "period", "branch", "rm", "kind", "status", "week", "level", "table", "month", "export",
    "customer", "leaver", "within", "role", "metric", "business_date", "segment", "lifecycle", "risk_level",
    "aum_min", "aum_max", "next",
)  # fmt: skip
# One member of staff of each role (a head of the whole 分行 sees the same pages as a 支行 head, more rows).
# An RM (their own records) and an administrator (every page) in every run; a head and a complaints officer, whose
# pages are the administrator's under another scope, with make test-full.
ROLES = (
    "rm_west",
    pytest.param("west_head", marks=pytest.mark.full),
    pytest.param("west_officer", marks=pytest.mark.full),
    "admin",
)
NOT_FUZZED = {"logout", "set_language", "login", "password_change", "password_change_done"}
APPS = ("organisation", "customers", "notifications", "consent", "relationships", "complaints", "reminders", "dashboards",
        "feed")  # fmt: skip
MOMENT = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.get_current_timezone())


class _Page(HTMLParser):
    """The forms (method, action, fields) and the links of a rendered page."""

    def __init__(self):
        super().__init__()
        self.forms, self.links, self._form = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "action": a.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea", "button") and self._form is not None and a.get("name"):
            if a["name"] == "csrfmiddlewaretoken":
                return
            if a.get("type") not in ("submit", "button", "file") or tag == "button":
                hidden = a.get("type") == "hidden" or tag == "button"
                self._form["fields"].setdefault(a["name"], (hidden, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def parse(html: bytes) -> _Page:
    page = _Page()
    page.feed(html.decode(errors="replace"))
    return page


def _no_arg_pages() -> list[tuple[str, str]]:
    pages = []
    for path, name, _view in all_urls():
        if name.startswith("admin:") or name in NOT_FUZZED:
            continue
        try:
            if reverse(name) == path:
                pages.append((path, name))
        except Exception:  # noqa: BLE001, S112 - a pattern with arguments: reached through the links instead
            continue
    return sorted(pages)


def _query(params, value_name: str) -> str:
    if value_name in RAW:
        return "&".join(f"{p}={RAW[value_name]}" for p in params)
    if value_name == "array":
        return urlencode([(p, v) for p in params for v in ("1", "2")])
    return urlencode({p: VALUES[value_name] for p in params})


def _body(fields: dict, value_name: str) -> str:
    """The urlencoded body: hidden fields keep their values (the action, the record), the others get the value."""
    pairs = []
    for name, (hidden, kept) in sorted(fields.items()):
        if hidden:
            pairs.append(f"{name}={kept}")
        elif value_name in RAW:
            pairs.append(f"{name}={RAW[value_name]}")
        elif value_name == "array":
            pairs.append(urlencode([(name, "1"), (name, "2")]))
        else:
            pairs.append(urlencode({name: VALUES[value_name]}))
    return "&".join(pairs)


def _row_counts() -> tuple:
    """The number of rows of every table of the project's apps (and their histories), in one query."""
    tables = sorted(
        m._meta.db_table
        for label in APPS
        for m in apps.get_app_config(label).get_models()
        if m._meta.managed and not m._meta.proxy
    )
    q = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {q(t)})" for t in tables)  # noqa: S608 - model tables
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _changed(before: dict, after: dict) -> dict:
    return {t: (before[t], after[t]) for t in before if before[t] != after[t]}


@pytest.fixture
def records(org, book):
    """A record of each kind, so that the detail pages and their forms exist."""
    with time_machine.travel(MOMENT - timedelta(hours=2), tick=False):
        rel_services.interaction_log(actor=org.rm_west.user, customer=book.west)
        rel_services.reassignment_request(
            actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="调整"
        )
        plan = rel_services.visit_plan_create(
            actor=org.rm_west.user, planned_on=date(2026, 6, 16), customers=[book.west], purpose="care"
        )
        rel_services.visit_plan_submit(actor=org.rm_west.user, plan=plan)
        rel_services.staff_mark_leaving(actor=org.west_head.user, staff=org.rm_west2, last_day=date(2026, 6, 30))
        rel_services.handover_start(actor=org.west_head.user, leaver=org.rm_west2, targets=[org.rm_west], method="even")
        complaint_services.complaint_register(
            actor=org.west_officer.user,
            customer=book.west,
            category=ComplaintCategory.objects.order_by("code").first(),
            channel="counter",
            request="退还手续费",
            facts="柜员未告知收费标准",
        )


class Fuzzer:
    def __init__(self, client):
        self.client = client
        self.client.raise_request_exception = False
        self.failures: list[str] = []
        self.requests = 0

    def get(self, path: str, query: str):
        self.requests += 1
        response = self.client.get(path, QUERY_STRING=query)
        if response.status_code >= 500:
            self.failures.append(f"GET {path}?{query[:120]} → {response.status_code}")
        return response

    def post(self, path: str, body: str, value_name: str):
        before = _row_counts() if value_name in WRITES_NOTHING else None
        self.requests += 1
        response = self.client.post(path, body, content_type="application/x-www-form-urlencoded")
        if response.status_code >= 500:
            self.failures.append(f"POST {path} [{value_name}] {body[:120]} → {response.status_code}")
        elif before is not None and (changed := _changed(before, _row_counts())):
            self.failures.append(f"POST {path} [{value_name}] {body[:120]} wrote {changed}")
        return response

    def fuzz_query(self, path: str, params) -> None:
        for value_name in GET_VALUES:
            self.get(path, _query(sorted(params), value_name))

    def fuzz_form(self, path: str, fields: dict) -> None:
        if not any(not hidden for hidden, _value in fields.values()):
            # A button's form (approve, cancel...): its hidden fields are what a forged post would change.
            fields = {n: (n == "action", v) for n, (_h, v) in fields.items()}
            if all(hidden for hidden, _value in fields.values()):
                return
        for value_name in POST_VALUES:
            self.post(path, _body(fields, value_name), value_name)


def _target(page_path: str, action: str) -> str | None:
    """The path a form posts to, if it is one of the project's own pages (not a sign-out or language switch)."""
    path = urlsplit(action).path or page_path
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name in NOT_FUZZED or "admin" in match.namespaces:
        return None
    return path


def _detail_pages(links, seen_names: set) -> list[str]:
    """One linked page of each URL name not seen yet (a customer's page, a complaint's, a plan's...)."""
    found = []
    for href in links:
        path = urlsplit(href).path
        if not path.startswith("/") or path.startswith("/admin/") or urlsplit(href).netloc:
            continue
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.url_name in NOT_FUZZED or match.url_name in seen_names:
            continue
        seen_names.add(match.url_name)
        found.append(path)
    return found


def _walk(client, fuzz_queries: Fuzzer | None) -> dict[tuple, tuple[str, dict]]:
    """Open every list page and one linked page of each kind (for the signed-in role), fuzz their query strings if
    asked, and return the POST forms found on them: {(url name, fields, action): (path, fields)}."""
    pages = _no_arg_pages()
    seen = {name for _path, name in pages}
    to_visit = [path for path, _name in pages]
    forms: dict[tuple, tuple[str, dict]] = {}
    visited = 0
    while visited < len(to_visit):
        path = to_visit[visited]
        visited += 1
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page = parse(response.content)
        params = set(QUERY_PARAMETERS)
        for form in page.forms:
            if form["method"] == "get":
                params |= set(form["fields"])
            elif (target := _target(path, form["action"])) is not None:
                key = (resolve(target).url_name, tuple(sorted(form["fields"])), form["fields"].get("action"))
                forms.setdefault(key, (target, form["fields"]))
        if fuzz_queries is not None:
            fuzz_queries.fuzz_query(path, params)
        to_visit += _detail_pages(page.links, seen)
    assert visited > 20  # the walk found the pages
    return forms


@pytest.mark.parametrize("role", ROLES)
def test_no_filter_of_any_page_answers_5xx(org, book, records, client, role):
    fuzzer = Fuzzer(client)
    with time_machine.travel(MOMENT, tick=False):
        client.force_login(getattr(org, role).user)
        _walk(client, fuzzer)
    assert fuzzer.requests > 100
    assert not fuzzer.failures, "\n".join(fuzzer.failures)


@pytest.mark.parametrize("role", ROLES)
def test_no_form_answers_5xx_and_an_invalid_post_writes_nothing(org, book, records, client, role):
    fuzzer = Fuzzer(client)
    with time_machine.travel(MOMENT, tick=False):
        client.force_login(getattr(org, role).user)
        for target, fields in sorted(_walk(client, None).values(), key=lambda f: (f[0], sorted(f[1]))):
            fuzzer.fuzz_form(target, fields)
    assert fuzzer.requests > 20
    assert not fuzzer.failures, "\n".join(fuzzer.failures)


ADMIN_MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("app_label", sorted({m._meta.app_label for m in ADMIN_MODELS}))
def test_admin_list_filters_search_and_add_forms_never_answer_5xx(org, book, client, app_label):
    fuzzer = Fuzzer(client)
    client.force_login(org.admin.user)
    for model in (m for m in ADMIN_MODELS if m._meta.app_label == app_label):
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        page = parse(client.get(changelist).content)
        params = {"q", "o", "p", "e"}
        for href in page.links:
            if href.startswith("?"):
                params |= {pair.split("=")[0] for pair in href[1:].split("&") if pair}
        fuzzer.fuzz_query(changelist, params)
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        response = client.get(add)
        if response.status_code == 200:
            for form in parse(response.content).forms:
                if form["method"] == "post":
                    fields = {n: (False, "") for n in form["fields"]}
                    for value_name in WRITES_NOTHING:
                        fuzzer.post(add, _body(fields, value_name), value_name)
    assert not fuzzer.failures, "\n".join(fuzzer.failures)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_sign_in_forms_answer_bad_input_with_a_form_error(org, client, path):
    fuzzer = Fuzzer(client)
    for value_name in POST_VALUES:
        response = fuzzer.post(path, _body({"username": (False, ""), "password": (False, "")}, value_name), value_name)
        assert response.status_code in (200, 429), (value_name, response.status_code)
    assert not fuzzer.failures, "\n".join(fuzzer.failures)
    # and the right password still signs in: none of the above counted against the account
    username = "hq_admin" if path.startswith("/admin/") else "rm_west"
    response = client.post(path, {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("west_officer", "/complaints/new/?q=%E7%8E%8B%00"),
        ("rm_west", "/my/customers/?q=%E7%8E%8B%00"),
        ("admin", "/admin/customers/customer/?kind__exact=individual%00"),
        ("admin", "/admin/organisation/staff/?role__exact=%00rm&q=rm_west%00"),
    ],
)
def test_a_nul_in_a_filter_is_dropped_and_the_filter_still_works(org, book, client, role, path):
    """These were server errors ("A string literal cannot contain NUL"); the filter now runs without the NUL."""
    client.force_login(getattr(org, role).user)
    response = client.get(path, follow=True)  # a search term is first moved out of the URL (customers.search)
    assert response.status_code == 200
    if role == "admin" and "staff" in path:
        assert org.rm_west.name in response.content.decode() and org.rm_east.name not in response.content.decode()
    elif "my/customers" in path:
        assert book.west.name in response.content.decode()  # 王 without the NUL still finds 王西甲


@pytest.mark.parametrize("length", [151, 256, 100_000])
def test_a_username_longer_than_any_account_is_a_wrong_login(org, client, length):
    """Over 255 characters django-axes failed to record the attempt: a server error."""
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": "x" * length, "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert not AccessAttempt.objects.filter(username__startswith="xxx").exists()
