"""Create and edit through the forms: bad input is a message on the form, never a 500, and nothing is saved."""

import pytest
from django.urls import reverse

from customers.models import Customer

pytestmark = pytest.mark.django_db
CREATE = reverse("customers:customer-create")


def individual(**kw):
    data = {"kind": "individual", "name": "孙小美", "id_type": "resident_id", "id_number": "11010119900307299X",
            "mobile": "13912345678", "lifecycle": "new", "tags": "代发工资, 养老金"}  # fmt: skip
    data.update(kw)
    return data


def test_rm_registers_a_customer_in_their_own_portfolio(org, login):
    response = login(org.rm_west).post(CREATE, individual())
    customer = Customer.objects.get(name="孙小美")
    assert response.status_code == 302 and response.url == reverse("customers:customer-detail", args=[customer.pk])
    assert customer.primary_rm == org.rm_west and customer.branch == org.west_outlet
    assert customer.gender == "M" and str(customer.birth_date) == "1990-03-07"
    assert sorted(t.name for t in customer.tags.all()) == ["代发工资", "养老金"]


def test_an_rm_cannot_put_a_customer_in_another_portfolio(org, login):
    login(org.rm_west).post(CREATE, individual(primary_rm=org.rm_east.pk, branch=org.east_outlet.pk))
    customer = Customer.objects.get(name="孙小美")
    assert customer.primary_rm == org.rm_west and customer.branch == org.west_outlet


def test_head_chooses_branch_and_rm_within_the_subtree(org, login):
    client = login(org.west_head)
    client.post(CREATE, individual(branch=org.west_outlet2.pk, primary_rm=org.rm_west2.pk))
    assert Customer.objects.get(name="孙小美").primary_rm == org.rm_west2
    response = client.post(
        CREATE, individual(name="越界", id_number="", branch=org.east_outlet.pk, primary_rm=org.rm_east.pk)
    )
    assert response.status_code == 200 and not Customer.objects.filter(name="越界").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (individual(id_number="11010119900307299Y"), "身份证号码"),
        (individual(id_number="110101199003072991"), "校验码"),
        (individual(id_number="110101900307299"), "18位"),
        (individual(mobile="12345"), "手机号码"),
        (individual(birth_date="1991-01-01"), "出生日期与证件号码不一致"),
        (individual(gender="F"), "性别与证件号码不一致"),
        (individual(name=""), "这个字段是必填项"),
        (individual(risk_level="C9"), "选择一个有效的选项"),
        (individual(birth_date="2020-02-30"), "输入一个有效的日期"),
        ({"kind": "corporate", "name": "某公司", "credit_code": "91350100M000100Y44", "lifecycle": "new"}, "校验位"),
    ],
)
def test_invalid_input_is_a_form_error(org, login, data, message):
    response = login(org.rm_west).post(CREATE, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Customer.objects.exists()


def test_a_duplicate_id_points_to_the_existing_customer(org, book, login):
    response = login(org.rm_west).post(CREATE, individual(id_number=book.west.reveal("id_number")))
    body = response.content.decode()
    assert response.status_code == 200 and book.west.customer_no in body
    assert reverse("customers:customer-detail", args=[book.west.pk]) in body  # visible to this RM: a link
    assert Customer.objects.filter(name="孙小美").count() == 0


def test_a_duplicate_outside_the_scope_gives_the_number_but_no_link(org, book, login):
    response = login(org.rm_east).post(CREATE, individual(id_number=book.west.reveal("id_number")))
    body = response.content.decode()
    assert book.west.customer_no in body
    assert reverse("customers:customer-detail", args=[book.west.pk]) not in body
    assert book.west.name not in body


def test_edit_keeps_identifiers_when_left_empty(org, book, login):
    client = login(org.rm_west)
    url = reverse("customers:customer-update", args=[book.west.pk])
    page = client.get(url).content.decode()
    assert "110***********002X" in page and "11010519491231002X" not in page
    response = client.post(url, individual(name="王西甲", id_number="", mobile="", occupation="医生"))
    assert response.status_code == 302
    book.west.refresh_from_db()
    assert book.west.occupation == "医生" and book.west.reveal("id_number") == "11010519491231002X"
    assert book.west.reveal("mobile") == "13800138000"


def test_unknown_kind_is_404(org, login):
    assert login(org.rm_west).get(CREATE, {"kind": "alien"}).status_code == 404
