"""Personal identifiers never travel in a URL (customers.search; docs/security.md, "Personal financial
information"): every free-text search posts its term, the server keeps it in the session behind a short-lived
token and redirects to ``?s=<token>``; pagination, filter and export links carry the token; a legacy ``?q=`` URL is
redirected through the same step; gunicorn's access log has no query strings. The end-to-end proof under gunicorn
is in test_pii_logs.py."""

import io
import logging
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from complaints import services as complaint_services
from complaints.models import ComplaintCategory
from customers import search
from customers.views import CustomerListView
from tests.factories import CustomerFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db

MOBILE, ID_NUMBER = "13800138000", "11010519491231002X"  # book.west's; the ID's GB 11643 check digit is valid
LIST = reverse("customers:customer-list")


def query(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def assert_clean(url: str, *terms: str) -> None:
    for term in terms:
        assert term not in url and term[-4:] + "&" not in url, url
    assert "q" not in query(url), url


# (URL the search box posts to, the page it lands on, who, the result region)
SEARCH_PAGES = {
    "customer list": ("customers:customer-list", "customers:customer-list", "west_head", "customer-table"),
    "my customers": ("relationships:my-customers", "relationships:my-customers", "rm_west", "portfolio"),
    "header search": ("customers:customer-search", "customers:customer-search", "west_head", "search-results"),
    "complaint intake": (
        "complaints:intake-customer-search",
        "complaints:complaint-create",
        "west_officer",
        "customer-matches",
    ),
}


@pytest.mark.parametrize("page", list(SEARCH_PAGES))
@pytest.mark.parametrize("term", [MOBILE, ID_NUMBER, "王西"])
def test_a_search_posts_its_term_and_the_url_carries_only_a_token(org, book, login, page, term):
    post_to, lands_on, who, region = SEARCH_PAGES[page]
    client = login(getattr(org, who))
    response = client.post(reverse(post_to), {"q": term})
    assert response.status_code == 303
    location = response["Location"]
    assert urlsplit(location).path == reverse(lands_on)
    assert_clean(location, term)
    assert re.fullmatch(r"[\w-]{16}", query(location)["s"][0])
    page_ = client.get(location)
    assert page_.status_code == 200
    assert "王西甲" in region_text(page_.content, region) and "李西乙" not in region_text(page_.content, region)
    # The page's search form is a POST with CSRF, and no link on the page carries the term.
    html = page_.content.decode()
    forms = [f for f in re.findall(r"<form\b.*?</form>", html, re.S) if 'name="q"' in f]
    assert forms and all('method="post"' in f and "csrfmiddlewaretoken" in f for f in forms)
    assert all(term not in unescape(href) for href in re.findall(r'(?:href|action)="([^"]*)"', html))


@pytest.mark.parametrize("term", [MOBILE, ID_NUMBER, "王西"])
def test_the_header_search_answers_as_one_types_without_the_term_in_any_url(org, book, login, term):
    client = login(org.west_head)
    response = client.post(reverse("customers:customer-search"), {"q": term}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Location" not in response
    html = response.content.decode()
    assert "王西甲" in region_text(html, "search-hit")
    assert all(term not in unescape(url) for url in re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', html))
    assert term not in html or term == "王西"  # the numbers are shown masked
    # Every page's header box posts its term: to the dropdown as it is typed, to the list on Enter.
    home = client.get(reverse("customers:customer-list")).content.decode()
    box = re.search(r'<form[^>]*id="header-search-form".*?</form>', home, re.S).group(0)
    assert 'method="post"' in box and "csrfmiddlewaretoken" in box and 'hx-post="' in box and "hx-get" not in box


def test_the_complaint_list_search_by_complainant_posts_too(org, book, login):
    complaint = complaint_services.complaint_register(
        actor=org.west_head.user,
        customer=book.west,
        category=ComplaintCategory.objects.get(code="01"),
        channel="hotline",
        request="退费",
        facts="多收手续费",
    )
    client = login(org.west_officer)
    response = client.post(reverse("complaints:complaint-list"), {"q": "王西", "status": ""})
    assert response.status_code == 303 and "王西" not in response["Location"]
    assert complaint.reference in client.get(response["Location"]).content.decode()


def test_filters_and_sort_stay_in_the_url_and_a_new_search_starts_on_page_one(org, book, login):
    client = login(org.west_head)
    location = client.post(LIST, {"q": MOBILE, "lifecycle": "", "risk_level": "C3", "sort": "name", "page": "4"})[
        "Location"
    ]
    params = query(location)
    assert params["risk_level"] == ["C3"] and params["sort"] == ["name"]
    assert "lifecycle" not in params and "page" not in params  # empty values and the page number are dropped
    assert_clean(location, MOBILE)


def test_pagination_and_export_links_carry_the_token(org, book, login, monkeypatch):
    CustomerFactory(primary_rm=org.rm_west, name="王西丁")
    monkeypatch.setattr(CustomerListView, "per_page", 1)
    client = login(org.west_head)
    location = client.post(LIST, {"q": "王西"})["Location"]
    token = query(location)["s"][0]
    page = client.get(location).content.decode()
    links = [unescape(h) for h in re.findall(r'href="([^"]*page=2[^"]*)"', page)]
    assert links and all(f"s={token}" in link and "q=" not in link for link in links)
    second = client.get(LIST + links[0]).content

    def shown(html):
        return set(re.findall("王西[甲丁]", region_text(html, "customer-table")))

    assert len(shown(page)) == len(shown(second)) == 1 and shown(page) | shown(second) == {"王西甲", "王西丁"}
    export = unescape(re.search(r'href="([^"]*)" data-testid="export-link"', page).group(1))
    assert f"s={token}" in export and "王西" not in export
    rows = list(load_workbook(io.BytesIO(client.get(export).content)).active.iter_rows(values_only=True))
    assert len(rows) == 3  # the header and the two matches, not the whole scope


def test_a_legacy_query_string_is_redirected_through_the_token_step(org, book, login):
    client = login(org.west_head)
    response = client.get(LIST, {"q": ID_NUMBER, "sort": "name"})
    assert response.status_code == 303
    assert_clean(response["Location"], ID_NUMBER)
    assert query(response["Location"])["sort"] == ["name"]
    assert "王西甲" in region_text(client.get(response["Location"]).content, "customer-table")
    legacy_export = client.get(reverse("customers:customer-export"), {"q": MOBILE})
    assert legacy_export.status_code == 303 and MOBILE not in legacy_export["Location"]
    legacy_intake = login(org.west_officer).get(reverse("complaints:complaint-create"), {"q": MOBILE})
    assert legacy_intake.status_code == 303 and MOBILE not in legacy_intake["Location"]


def test_an_expired_token_gives_the_list_without_the_search_and_says_so(org, book, login, settings):
    client = login(org.west_head)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        location = client.post(LIST, {"q": MOBILE, "sort": "name"})["Location"]
        clock.shift(timedelta(seconds=settings.SEARCH_TERM_SECONDS - 5))
        client.post(LIST, {"q": "other"})  # activity keeps the session alive (SESSION_COOKIE_AGE)
        assert "李西乙" not in region_text(client.get(location).content, "customer-table")  # still the search
        clock.shift(timedelta(seconds=10))
        response = client.get(location)
        assert response.status_code == 303 and query(response["Location"]) == {"sort": ["name"]}
        page = client.get(response["Location"])
    assert "搜索已过期" in page.content.decode() or "That search has expired" in page.content.decode()
    assert "李西乙" in region_text(page.content, "customer-table")  # the whole list again


def test_an_unknown_token_or_one_from_another_session_is_not_honoured(org, book, login):
    theirs = Client()
    theirs.force_login(org.west_head.user)
    location = theirs.post(LIST, {"q": MOBILE})["Location"]
    mine = login(org.west_head)  # the same user, another session
    assert mine.get(location).status_code == 303
    assert mine.get(LIST, {"s": "not-a-token"}).status_code == 303


def test_the_term_is_kept_encrypted_and_bounded_in_the_session(org, book, login):
    client = login(org.west_head)
    for i in range(search.MAX_TERMS + 5):
        client.post(LIST, {"q": f"{MOBILE[:-2]}{i:02d}"})
    kept = client.session[search.SESSION_KEY]
    assert len(kept) == search.MAX_TERMS
    assert MOBILE[:-2] not in repr(dict(client.session.items()))


def test_gunicorn_logs_paths_without_query_strings():
    import importlib.util

    from django.conf import settings

    spec = importlib.util.spec_from_file_location("gunicorn_conf", settings.BASE_DIR / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert "%(U)s" in conf.access_log_format
    for atom in ("%(r)s", "%(q)s", "%(f)s", "{"):
        assert atom not in conf.access_log_format
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, "", 0, "Error handling request %s", (f"/x/?q={MOBILE}",), None
    )
    conf.NoQueryStrings().filter(record)
    assert record.getMessage() == "Error handling request /x/"
