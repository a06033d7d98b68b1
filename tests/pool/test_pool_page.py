"""The pool page (池客户): who opens it, whose pool each role sees, its filters, masking, counts, the empty state,
the navigation, and a query count that does not grow with the rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Holding
from organisation.models import Staff
from tests.factories import ProductFactory, StaffFactory

from .conftest import pool_customer

pytestmark = pytest.mark.django_db

URL = "/pool/"


def names(response) -> set[str]:
    html = response.content.decode()
    return {n for n in ("池西甲", "池西乙", "池西富", "池西二", "池东丙", "关西户", "王西甲") if n in html}


def test_the_url_is_named():
    assert reverse("pool:pool-list") == URL


@pytest.mark.parametrize(
    ("who", "status", "seen"),
    [
        ("rm_west", 200, {"池西甲", "池西乙", "池西富"}),
        ("rm_west2", 200, {"池西二"}),
        ("rm_east", 200, {"池东丙"}),
        ("west_head", 200, {"池西甲", "池西乙", "池西富", "池西二"}),
        ("east_head", 200, {"池东丙"}),
        ("top_head", 200, {"池西甲", "池西乙", "池西富", "池西二", "池东丙"}),
        ("west_officer", 403, set()),
        ("admin", 200, {"池西甲", "池西乙", "池西富", "池西二", "池东丙"}),
    ],
)
def test_role_matrix(org, pool, book, login, who, status, seen):
    response = login(getattr(org, who)).get(URL)
    assert response.status_code == status
    # Never a closed customer, never a customer who has an RM.
    assert names(response) == seen


def test_an_outlet_head_sees_their_outlet(org, pool, login):
    head = StaffFactory(branch=org.west_outlet2, role=Staff.Role.HEAD)
    assert names(login(head).get(URL)) == {"池西二"}


def test_a_user_without_staff_record_is_refused(client, django_user_model, pool):
    user = django_user_model.objects.create_user("nobody_here")
    client.force_login(user)
    assert client.get(URL).status_code == 403


def test_signed_out_goes_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("url_name", "who"), [("pool:pool-claim", "rm_west"), ("pool:pool-assign", "admin"), ("pool:pool-keeper", "admin")]
)
def test_actions_are_post_only(org, login, url_name, who):
    assert login(getattr(org, who)).get(reverse(url_name)).status_code == 405


@pytest.mark.parametrize(
    ("url_name", "allowed"),
    [
        ("pool:pool-claim", {"rm_west"}),
        ("pool:pool-assign", {"west_head", "admin"}),
        ("pool:pool-keeper", {"west_head", "admin"}),
    ],
)
def test_action_matrix(org, pool, login, url_name, allowed):
    """Who may post each action at all (403 for the others: the role, before any record is looked at)."""
    for who in ("rm_west", "west_head", "west_officer", "admin"):
        response = login(getattr(org, who)).post(reverse(url_name), {"one": pool.west_a.pk})
        assert (response.status_code != 403) == (who in allowed), (who, response.status_code)


def test_identifiers_are_masked(org, pool, login):
    html = login(org.rm_west).get(URL).content.decode()
    assert "139****9000" in html
    assert "13900139000" not in html


def test_counts_and_aum_of_the_selection(org, pool, login):
    client = login(org.rm_west)
    client.cookies["django_language"] = "en"
    html = client.get(URL).content.decode()
    assert "3 customers in the pool" in html
    assert "82.0" in html  # 800,000 + 2 × 10,000 yuan = 82.0 万


def test_head_filters_by_outlet(org, pool, login):
    client = login(org.west_head)
    response = client.get(URL, {"branch": org.west_outlet2.pk})
    assert names(response) == {"池西二"}


def test_filters_by_tier_and_aum(org, pool, login):
    client = login(org.rm_west)
    assert names(client.get(URL, {"segment": pool.west_rich.segment_id})) == {"池西富"}
    assert names(client.get(URL, {"aum_max": "50000"})) == {"池西甲", "池西乙"}


def test_filters_by_last_contact_and_products_held(org, pool, login):
    Customer.objects.filter(pk=pool.west_a.pk).update(last_contacted_at=timezone.now() - timedelta(days=5))
    Customer.objects.filter(pk=pool.west_b.pk).update(last_contacted_at=timezone.now() - timedelta(days=100))
    client = login(org.rm_west)
    # Not contacted for 30 days: west_b (100 days) and west_rich (never).
    assert names(client.get(URL, {"not_contacted_days": "30"})) == {"池西乙", "池西富"}
    fund = ProductFactory(category="fund")
    Holding.objects.create(customer=pool.west_b, product=fund, amount=Decimal("1000"), opened_on="2026-01-05")
    assert names(client.get(URL, {"product_category": "fund"})) == {"池西乙"}


def test_a_search_term_never_stays_in_the_url(org, pool, login):
    client = login(org.rm_west)
    response = client.post(URL, {"q": "池西甲"})
    assert response.status_code == 303 and "池西甲" not in response.url
    assert names(client.get(response.url)) == {"池西甲"}


def test_bad_filter_input_is_a_form_error(org, pool, login):
    response = login(org.rm_west).get(URL, {"aum_min": "10", "aum_max": "1", "not_contacted_days": "-3"})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()


def test_empty_pool_says_so(org, login):
    html = login(org.rm_west).get(URL).content.decode()
    assert 'data-empty="pool"' in html


def test_no_match_offers_to_clear_the_filters(org, pool, login):
    html = login(org.rm_west).get(URL, {"aum_min": "99999999"}).content.decode()
    assert 'data-empty="pool"' in html and 'data-testid="empty-action"' in html


def test_rm_sees_claim_buttons_and_allowance_head_sees_assign(org, pool, login):
    rm = login(org.rm_west).get(URL).content.decode()
    assert 'data-testid="claim-one"' in rm and 'data-testid="claim-allowance"' in rm
    assert 'data-testid="assign-selected"' not in rm and 'data-testid="keeper-form"' not in rm
    head = login(org.west_head).get(URL).content.decode()
    assert 'data-testid="assign-selected"' in head and 'data-testid="keeper-form"' in head
    assert 'data-testid="claim-one"' not in head


def test_in_the_customers_menu(org, login):
    for who in ("rm_west", "west_head", "admin"):
        assert f'href="{URL}"' in login(getattr(org, who)).get(reverse("customers:customer-list")).content.decode()
    assert f'href="{URL}"' not in login(org.west_officer).get(reverse("customers:customer-list")).content.decode()


def _more(org, n):
    for i in range(n):
        pool_customer(org.west_outlet, aum=str(20000 + i))
        pool_customer(org.west_outlet2, aum=str(30000 + i))


# The page's queries, whatever the number of rows: session, user, staff (middleware); the branch ids of a head's
# scope; the rows' capped count, the totals, the page of rows; the keepers (outlets, keepers, named ones,
# candidates); the unread count of the bell; the filter form's branches and tiers; then the RM's tiers, rules and
# today's claims, or the head's RMs to assign to; the session's save.
RM_QUERIES = 18
HEAD_QUERIES = 18


@pytest.mark.parametrize(("who", "expected"), [("rm_west", RM_QUERIES), ("west_head", HEAD_QUERIES)])
def test_query_count_does_not_grow_with_rows(org, pool, login, django_assert_num_queries, who, expected):
    client = login(getattr(org, who))
    client.get(URL)  # warm the session
    with django_assert_num_queries(expected):
        assert client.get(URL).status_code == 200
    _more(org, 30)
    with django_assert_num_queries(expected):
        assert client.get(URL).status_code == 200


def test_beyond_the_count_cap_the_totals_say_so_in_as_many_queries(
    org, pool, login, settings, django_assert_num_queries
):
    settings.LIST_COUNT_CAP = 2
    client = login(org.rm_west)
    client.cookies["django_language"] = "en"
    client.get(URL)
    with django_assert_num_queries(RM_QUERIES):
        html = client.get(URL).content.decode()
    assert "More than 2 customers" in html and 'data-testid="pool-aum"' not in html


def test_a_head_hands_out_a_task_for_an_outlets_pool(org, pool, login):
    """From the keepers card: a task over the outlet's pool customers, each line to the outlet's keeper."""
    from pool.services import pool_keeper_set
    from worktasks.models import Task, TaskLine

    pool_keeper_set(actor=org.west_head.user, branch=org.west_outlet, staff=org.rm_west)

    assert 'data-testid="pool-task"' not in login(org.rm_west).get("/pool/").content.decode()
    client = login(org.west_head)
    page = client.get("/pool/").content.decode()
    link = reverse("worktasks:task-create") + f"?pool={org.west_outlet.pk}"
    assert f'href="{link}"' in page
    form = client.get(link)
    assert form.status_code == 200
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    key = form.context["form"]["submission_key"].value()
    data = {
        "title": "池客户回访",
        "due_on": due,
        "priority": "medium",
        "pool": org.west_outlet.pk,
        "submission_key": key,
    }
    response = client.post(reverse("worktasks:task-create"), data)
    assert response.status_code == 302, response.context["form"].errors
    task = Task.objects.get(title="池客户回访")
    pooled = {pool.west_a.pk, pool.west_b.pk, pool.west_rich.pk}  # the closed customer is not in the pool
    lines = TaskLine.objects.filter(task=task)
    assert set(lines.values_list("customer_id", flat=True)) == pooled
    assert set(lines.values_list("assignee_id", flat=True)) == {org.rm_west.pk}
