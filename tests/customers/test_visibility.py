"""The role × page matrix for every customer URL: 200 where the rule allows, 404 (not 403) for a record outside
it, and nothing of another portfolio on the page."""

import pytest
from django.urls import reverse

from customers.models import AccessLog
from customers.selectors import customers_visible_to

pytestmark = pytest.mark.django_db

# who → the customers they may see
SCOPE = {
    "rm_west": {"west", "corporate"},
    "rm_east": {"east"},
    "west_head": {"west", "west2", "corporate"},
    "east_head": {"east"},
    "top_head": {"west", "west2", "east", "corporate"},
    "west_officer": {"west", "west2", "corporate"},
    "admin": {"west", "west2", "east", "corporate"},
}
ALL = ("west", "west2", "east", "corporate")


@pytest.mark.parametrize("who", SCOPE)
def test_the_one_rule(org, book, who):
    user = getattr(org, who).user
    assert {k for k in ALL if customers_visible_to(user).filter(pk=getattr(book, k).pk).exists()} == SCOPE[who]


@pytest.mark.parametrize("who", SCOPE)
@pytest.mark.parametrize("page", ["customer-detail", "customer-update"])
def test_detail_and_edit_pages(org, book, login, who, page):
    client = login(getattr(org, who))
    for key in ALL:
        customer = getattr(book, key)
        response = client.get(reverse(f"customers:{page}", args=[customer.pk]))
        if page == "customer-update" and who == "west_officer":
            assert response.status_code == 403  # officers read, they do not edit (any customer: nothing confirmed)
        elif key not in SCOPE[who]:
            assert response.status_code == 404, (who, key)
        else:
            assert response.status_code == 200, (who, key)
            assert customer.name in response.content.decode()


@pytest.mark.parametrize("who", SCOPE)
def test_list_shows_only_the_scope(org, book, login, who):
    body = login(getattr(org, who)).get(reverse("customers:customer-list")).content.decode()
    for key in ALL:
        assert (getattr(book, key).name in body) == (key in SCOPE[who]), (who, key)


@pytest.mark.parametrize("who", SCOPE)
def test_export_holds_only_the_scope(org, book, login, who):
    import io

    from openpyxl import load_workbook

    response = login(getattr(org, who)).get(reverse("customers:customer-export"))
    if who == "west_officer":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {getattr(book, k).name for k in SCOPE[who]}


@pytest.mark.parametrize("who", SCOPE)
def test_reveal_outside_the_scope_is_404_and_logs_nothing(org, book, login, who):
    client = login(getattr(org, who))
    for key in ALL:
        if key in SCOPE[who]:
            continue
        response = client.post(
            reverse("customers:customer-reveal", args=[getattr(book, key).pk]), {"field": "mobile", "reason": "contact"}
        )
        assert response.status_code == 404
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("rm_west", 200), ("west_head", 200), ("admin", 200), ("west_officer", 403)]
)
def test_create_page_by_role(org, login, who, status):
    assert login(getattr(org, who)).get(reverse("customers:customer-create")).status_code == status


def test_unknown_customer_is_404(org, login):
    assert login(org.admin).get(reverse("customers:customer-detail", args=[999999])).status_code == 404
