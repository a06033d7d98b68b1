"""The header's customer search (customers.views.CustomerSearchView): results as the term is typed, through the
customer list's visibility and matching rule, with the term never in a URL."""

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from organisation.models import Staff
from relationships import services as relationship_services
from tests.factories import CustomerFactory, StaffFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db

SEARCH = reverse("customers:customer-search")
HTMX = {"HTTP_HX_REQUEST": "true"}


def typed(client, term: str):
    """What the box shows after ``term`` is typed (the htmx post)."""
    return client.post(SEARCH, {"q": term}, **HTMX)


def hits(response) -> list[str]:
    """The names in the dropdown, in order."""
    html = response.content.decode()
    return [
        unescape(n) for n in re.findall(r'<a class="fw-semibold[^"]*" href="[^"]*" tabindex="-1">([^<]+)</a>', html)
    ]


@pytest.fixture
def matrix(org):
    """Three customers sharing a name prefix: one in each west outlet and one in the east sub-branch; and one of
    rm_west2's where rm_west is a secondary RM."""
    customers = {
        "west": CustomerFactory(primary_rm=org.rm_west, name="钱氏西一"),
        "west2": CustomerFactory(primary_rm=org.rm_west2, name="钱氏西二"),
        "east": CustomerFactory(primary_rm=org.rm_east, name="钱氏东三"),
        "shared": CustomerFactory(primary_rm=org.rm_west2, name="钱氏西协"),
    }
    relationship_services.assignment_add_secondary(
        actor=org.west_head.user, customer=customers["shared"], staff=org.rm_west, reason="协管"
    )
    return customers


EVERYONE = {"west", "west2", "east", "shared"}
WEST = {"west", "west2", "shared"}
SEES = {
    "admin": EVERYONE,
    "top_head": EVERYONE,
    "west_head": WEST,
    "west_officer": WEST,
    "east_head": {"east"},
    "rm_west": {"west", "shared"},  # primary and secondary
    "rm_west2": {"west2", "shared"},
    "rm_east": {"east"},
}


@pytest.mark.parametrize("who", list(SEES))
def test_each_role_finds_exactly_the_customers_they_may_see(org, matrix, login, who):
    response = typed(login(getattr(org, who)), "钱氏")
    assert response.status_code == 200
    assert set(hits(response)) == {matrix[key].name for key in SEES[who]}


@pytest.mark.parametrize("who", list(SEES))
def test_a_customer_out_of_scope_is_not_found_by_an_exact_key_either(org, matrix, login, who):
    outside = [key for key in EVERYONE - SEES[who]]
    client = login(getattr(org, who))
    for key in outside:
        assert hits(typed(client, matrix[key].customer_no)) == []


@pytest.mark.parametrize(
    "term",
    [
        pytest.param("王西", id="name prefix"),
        pytest.param("book.west.customer_no", id="customer no"),
        pytest.param("002X", id="ID last 4"),
        pytest.param("13800138000", id="mobile"),
    ],
)
def test_each_of_the_four_keys_finds_the_customer(org, book, login, term):
    if term.startswith("book."):
        term = book.west.customer_no
    response = typed(login(org.west_head), term)
    assert hits(response) == ["王西甲"]
    text = region_text(response.content, "search-hit")
    # Masked identifiers, the tier and the RM; never the full numbers.
    assert book.west.mobile_masked in text and book.west.id_number_masked in text
    assert "13800138000" not in response.content.decode() and "11010519491231002X" not in response.content.decode()
    assert org.rm_west.name in text and book.west.segment.name in text


def test_a_hit_offers_the_360_page_and_the_quick_log(org, book, login):
    html = typed(login(org.rm_west), "王西").content.decode()
    assert f'href="{reverse("customers:customer-detail", args=[book.west.pk])}"' in html
    quick_log = reverse("relationships:interaction-create", args=[book.west.pk])
    assert f'hx-get="{quick_log}" hx-target="#modal-body"' in html
    assert 'data-testid="search-all"' in html and 'form="header-search-form"' in html


def test_a_complaints_officer_gets_no_quick_log(org, book, login):
    html = typed(login(org.west_officer), "王西").content.decode()
    assert hits(typed(login(org.west_officer), "王西")) == ["王西甲"]
    assert 'data-testid="hit-log"' not in html


def test_at_most_eight_hits_and_a_word_that_there_are_more(org, login):
    for i in range(12):
        CustomerFactory(primary_rm=org.rm_west, name=f"孙氏{i:02d}")
    response = typed(login(org.rm_west), "孙氏")
    assert len(hits(response)) == 8
    assert "8" in region_text(response.content, "search-panel")
    few = typed(login(org.rm_west), "孙氏1")
    assert len(hits(few)) == 2 and "The first" not in few.content.decode()


@pytest.mark.parametrize("term", ["", " ", "王"])
def test_empty_or_one_character_gets_a_hint_and_no_customer_query(
    org, book, login, term, django_assert_max_num_queries
):
    client = login(org.west_head)
    typed(client, "王西")  # the session and the user are loaded once
    with django_assert_max_num_queries(6) as queries:
        response = typed(client, term)
    assert response.status_code == 200
    assert "customers_customer" not in " ".join(q["sql"] for q in queries.captured_queries)
    assert "2" in region_text(response.content, "search-hint")
    assert hits(response) == []


def test_no_match_says_so(org, book, login):
    assert region_text(typed(login(org.rm_east), "王西").content, "search-none")


@pytest.mark.parametrize(
    "term",
    [pytest.param("王" * 41, id="too long"), pytest.param("王\x00西", id="NUL"), pytest.param("x" * 5000, id="huge")],
)
def test_bad_input_is_a_message_not_a_500(org, book, login, term):
    client = login(org.west_head)
    response = typed(client, term)
    assert response.status_code == 200
    assert region_text(response.content, "search-error")
    assert hits(response) == []
    page = client.post(SEARCH, {"q": term})  # without htmx: the search page with the message
    assert page.status_code == 200 and region_text(page.content, "search-error")


def test_the_message_is_in_the_users_language(org, book, login):
    client = login(org.west_head)
    client.cookies["django_language"] = "zh-hans"
    response = client.post(SEARCH, {"q": "王" * 41}, HTTP_ACCEPT_LANGUAGE="zh-hans", **HTMX)
    assert "40" in region_text(response.content, "search-error")
    assert re.search("[\u4e00-\u9fff]", region_text(response.content, "search-error").replace("王", ""))


def test_a_get_opened_directly_is_a_whole_search_page(org, book, login):
    client = login(org.west_head)
    page = client.get(SEARCH)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and 'data-testid="main-nav"' in html and 'data-testid="customer-search"' in html
    assert region_text(html, "search-hint")


def test_a_post_without_htmx_goes_through_the_token_to_the_search_page(org, book, login):
    client = login(org.west_head)
    response = client.post(SEARCH, {"q": "13800138000"})
    assert response.status_code == 303
    location = response["Location"]
    assert location.startswith(SEARCH + "?s=") and "13800138000" not in location
    page = client.get(location)
    assert page.status_code == 200 and hits(page) == ["王西甲"]
    # A legacy ?q= address takes the same step.
    legacy = client.get(SEARCH, {"q": "13800138000"})
    assert legacy.status_code == 303 and "13800138000" not in legacy["Location"]


def test_all_results_and_enter_go_to_the_customer_list_through_the_token(org, book, login):
    client = login(org.west_head)
    home = client.get(reverse("home"), follow=True).content.decode()
    form = re.search(r'<form[^>]*id="header-search-form"[^>]*>', home).group(0)
    assert 'method="post"' in form and f'action="{reverse("customers:customer-list")}"' in form
    response = client.post(reverse("customers:customer-list"), {"q": "13800138000"})  # what the box submits
    assert response.status_code == 303 and "13800138000" not in response["Location"]
    assert "王西甲" in region_text(client.get(response["Location"]).content, "customer-table")


def test_the_box_is_in_the_header_of_every_role_that_may_see_customers(org, login):
    for who in SEES:
        html = login(getattr(org, who)).get(reverse("home"), follow=True).content.decode()
        assert 'data-testid="header-search"' in html, who
        assert 'hx-trigger="input changed delay:300ms"' in html


def test_who_may_not_see_customers_gets_no_box_and_no_results(org, book, client):
    nobody = get_user_model().objects.create_user("no_staff", password="x")  # noqa: S106
    client.force_login(nobody)
    assert 'data-testid="header-search"' not in client.get(reverse("home")).content.decode()
    assert typed(client, "王西").status_code == 403
    left = StaffFactory(username="left_rm", branch=org.west_outlet, role=Staff.Role.RM)
    Staff.objects.filter(pk=left.pk).update(status=Staff.Status.LEFT, left_on="2026-11-30")
    client.force_login(left.user)
    assert 'data-testid="header-search"' not in client.get(reverse("home")).content.decode()
    assert typed(client, "王西").status_code == 403


def test_the_query_count_does_not_grow_with_the_hits(org, login, django_assert_max_num_queries):
    client = login(org.west_head)
    CustomerFactory(primary_rm=org.rm_west, name="周氏00")
    with django_assert_max_num_queries(PIN) as one:
        assert len(hits(typed(client, "周氏"))) == 1
    for i in range(1, 12):
        CustomerFactory(primary_rm=[org.rm_west, org.rm_west2][i % 2], name=f"周氏{i:02d}")
    with django_assert_max_num_queries(PIN) as many:
        assert len(hits(typed(client, "周氏"))) == 8
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_query_count_of_an_rm_with_secondary_customers(org, matrix, login, django_assert_max_num_queries):
    client = login(org.rm_west)
    with django_assert_max_num_queries(PIN):
        assert len(hits(typed(client, "钱氏"))) == 2


PIN = 8  # session, user, staff, branches of the subtree (or the RM's secondary customers), the hits, the session saved (3)


def test_the_search_page_query_count_does_not_grow_with_the_hits(org, login, django_assert_max_num_queries):
    client = login(org.west_head)
    CustomerFactory(primary_rm=org.rm_west, name="吴氏00")
    location = client.post(SEARCH, {"q": "吴氏"})["Location"]
    with django_assert_max_num_queries(PAGE_PIN) as one:
        assert len(hits(client.get(location))) == 1
    for i in range(1, 12):
        CustomerFactory(primary_rm=[org.rm_west, org.rm_west2][i % 2], name=f"吴氏{i:02d}")
    with django_assert_max_num_queries(PAGE_PIN) as many:
        assert len(hits(client.get(location))) == 8
    assert len(many.captured_queries) == len(one.captured_queries)


PAGE_PIN = 9  # the fragment's, and the bell's unread count in the navigation bar
