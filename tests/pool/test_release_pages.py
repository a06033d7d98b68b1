"""The release page (pool:release-list) and its two POSTs: the role × URL matrix, what each role sees, the
decisions through the page, bad input, the count on the approvals page, and the query pins."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from customers.models import Customer
from pool.models import ReleaseRequest
from tests.factories import CustomerFactory

from .conftest import PRIVATE, START, run_job, travel

pytestmark = pytest.mark.django_db

DAY = START + timedelta(days=61)
WHO = ("rm_west", "rm_east", "west_head", "east_head", "top_head", "west_officer", "admin", "nobody")


@pytest.fixture
def proposal(org):
    with travel(START):
        customer = CustomerFactory(primary_rm=org.rm_west, aum=PRIVATE, name="释放甲")
    run_job(DAY)
    return ReleaseRequest.objects.get(customer=customer)


def _client(client, org, who):
    if who == "nobody":
        user = get_user_model().objects.create_user(username="nobody", password="x-Long-password-1")
    else:
        user = getattr(org, who).user
    client.force_login(user)
    return client


# who → (list GET, decide POST, propose POST); a POST the role may make answers with a redirect (302)
EXPECTED = {
    "rm_west": (200, 403, 403),
    "rm_east": (200, 403, 403),
    "west_head": (200, 302, 302),
    "east_head": (200, 302, 200),  # outside their subtree: the ticked row is not theirs; the number is unknown
    "top_head": (200, 302, 302),
    "west_officer": (403, 403, 403),
    "admin": (200, 302, 302),
    "nobody": (403, 403, 403),
}


@pytest.mark.parametrize("who", WHO)
def test_role_by_url_matrix(client, org, proposal, who):
    c = _client(client, org, who)
    got = (
        c.get(reverse("pool:release-list")).status_code,
        c.post(reverse("pool:release-decide"), {"ids": [proposal.pk], "decision": "reject", "note": "n"}).status_code,
        c.post(
            reverse("pool:release-propose"), {"customer_no": proposal.customer.customer_no, "note": "x"}
        ).status_code,
    )
    assert got == EXPECTED[who]


@pytest.mark.parametrize(
    "who, sees", [("rm_west", True), ("rm_east", False), ("west_head", True), ("east_head", False), ("admin", True)]
)
def test_who_sees_the_proposal(client, org, proposal, who, sees):
    page = _client(client, org, who).get(reverse("pool:release-list")).content.decode()
    assert (f'data-release="{proposal.pk}"' in page) is sees
    assert ('data-testid="release-bulk"' in page) is (who in ("west_head", "east_head", "admin"))


def test_the_row_shows_the_facts(client, org, proposal):
    with translation.override("en"):
        page = _client(client, org, "west_head").get(reverse("pool:release-list"), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "释放甲" in text and org.rm_west.name in text


def test_approve_through_the_page(client, org, proposal):
    c = _client(client, org, "west_head")
    response = c.post(reverse("pool:release-decide"), {"ids": [proposal.pk], "decision": "approve"}, follow=True)
    assert response.status_code == 200
    assert Customer.objects.get(pk=proposal.customer_id).primary_rm is None
    assert ReleaseRequest.objects.get(pk=proposal.pk).status == "approved"


def test_bad_input_is_a_message_and_changes_nothing(client, org, proposal):
    c = _client(client, org, "west_head")
    for data in (
        {"decision": "approve"},  # nothing ticked
        {"ids": ["x"], "decision": "approve"},
        {"ids": [proposal.pk], "decision": "reject", "note": ""},  # a rejection needs a note
        {"ids": [proposal.pk], "decision": "explode"},
    ):
        response = c.post(reverse("pool:release-decide"), data, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"])[0].level_tag == "error"
    assert ReleaseRequest.objects.get(pk=proposal.pk).status == "proposed"
    response = c.post(reverse("pool:release-propose"), {"customer_no": "NOPE", "note": "x"})
    assert response.status_code == 200 and response.context["propose_form"].errors["customer_no"]


def test_a_head_proposes_by_hand_and_a_double_post_makes_one(client, org, book):
    c = _client(client, org, "west_head")
    page = c.get(reverse("pool:release-list")).content.decode()
    key = page.split('name="submission_key" value="')[1].split('"')[0]
    data = {"customer_no": book.west.customer_no, "note": "客户迁居外地", "submission_key": key}
    first = c.post(reverse("pool:release-propose"), data)
    second = c.post(reverse("pool:release-propose"), data)
    assert first.status_code == second.status_code == 302
    assert ReleaseRequest.objects.filter(customer=book.west, reason="by_hand").count() == 1


def test_the_approvals_page_counts_the_releases_waiting(client, org, proposal):
    page = _client(client, org, "west_head").get(reverse("relationships:approvals")).content.decode()
    assert 'data-testid="pending-releases"' in page and reverse("pool:release-list") in page
    assert '<span class="badge text-bg-warning">1</span>' in page.split('data-testid="pending-releases"')[1]


def test_the_navigation_offers_the_page_to_heads(client, org, proposal):
    page = _client(client, org, "west_head").get(reverse("reminders:today")).content.decode()
    assert reverse("pool:release-list") in page


def _more(org, n):
    with travel(START):
        for i in range(n):
            CustomerFactory(primary_rm=org.rm_west if i % 2 else org.rm_west2, aum=PRIVATE)
    run_job(DAY + timedelta(days=1))


@pytest.mark.parametrize("n", [0, 5])
@pytest.mark.parametrize("who, pin", [("west_head", 9), ("rm_west", 9), ("admin", 9)])
def test_the_list_runs_a_fixed_number_of_queries(client, org, proposal, n, who, pin, django_assert_num_queries):
    _more(org, n)
    c = _client(client, org, who)
    with django_assert_num_queries(pin):
        assert c.get(reverse("pool:release-list")).status_code == 200
