"""Create and edit through the forms: bad input is a message on the form, never a 500, and nothing is saved."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

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


TODAY = date(2026, 11, 23)
FOREIGN_PERMANENT = "911156199001010010"  # worked example: tests/customers/test_validators.py


def message(text: str, **params) -> str:
    """A message as the page shows it: in Chinese, the page's language (in English until it is translated)."""
    with translation.override("zh-hans"):
        return gettext(text) % params if params else gettext(text)


@pytest.mark.parametrize(
    ("data", "text", "params"),
    [
        # 2030: "-4 岁" on the 360° page before
        (individual(id_number="", birth_date="2030-01-01"), "The birth date cannot be in the future.", {}),
        # 9999-12-31: a raw "确保该值小于或等于32767" before (the lunar birthday of a date outside the calendar)
        (individual(id_number="", birth_date="9999-12-31"), "The birth date cannot be in the future.", {}),
        (
            individual(id_number="", birth_date="1880-01-01"),
            "That makes the customer older than %(max)s years; please check the birth date.",
            {"max": 120},
        ),
        # 2999: accepted before, and valid until 3000
        (
            individual(risk_level="C3", risk_assessed_on="2999-01-01"),
            "The risk assessment date cannot be in the future.",
            {},
        ),
        (
            individual(risk_level="C3", risk_assessed_on="1990-01-01"),
            "A risk assessment more than %(years)s years old cannot be recorded; assess the customer again.",
            {"years": 10},
        ),
        # GB 11643-1999's own example is a valid number, but not of a living customer: the age rule says so
        (
            individual(id_number="440524188001010014"),
            "The birth date in this ID number (%(date)s) makes the customer older than %(max)s years; please check "
            "the number.",
            {"date": "1880-01-01", "max": 120},
        ),
        (
            individual(notes="备" * 2001),
            "At most %(limit_value)d characters, please (this text has %(show_value)d).",
            {"limit_value": 2000, "show_value": 2001},
        ),
    ],
    ids=["born-2030", "born-9999", "born-1880", "assessed-2999", "assessed-1990", "id-born-1880", "notes-2001"],
)
def test_dates_that_cannot_be_and_overlong_notes_are_form_errors(org, login, data, text, params):
    with time_machine.travel(TODAY):
        response = login(org.rm_west).post(CREATE, data)
    assert response.status_code == 200
    assert message(text, **params) in response.content.decode()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        individual(id_number="", birth_date="2026-11-23"),  # born today
        individual(id_number="", birth_date="1906-11-23"),  # 120 today
        individual(risk_level="C3", risk_assessed_on="2026-11-23"),  # assessed today
        individual(notes="备" * 2000),
    ],
    ids=["born-today", "aged-120", "assessed-today", "notes-2000"],
)
def test_the_bounds_themselves_are_accepted(org, login, data):
    with time_machine.travel(TODAY):
        response = login(org.rm_west).post(CREATE, data)
    assert response.status_code == 302
    assert Customer.objects.count() == 1


def test_a_risk_assessment_of_today_is_valid_for_a_year_from_today(org, login):
    with time_machine.travel(TODAY):
        login(org.rm_west).post(CREATE, individual(risk_level="C3", risk_assessed_on="2026-11-23"))
    customer = Customer.objects.get()
    assert customer.risk_assessed_on == TODAY and customer.risk_expires_on == date(2027, 11, 23)


def test_a_foreign_permanent_resident_registers_with_the_2023_card(org, login):
    response = login(org.rm_west).post(CREATE, individual(id_type="foreign_permanent", id_number=FOREIGN_PERMANENT))
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.id_type == Customer.IdType.FOREIGN_PERMANENT
    assert customer.reveal("id_number") == FOREIGN_PERMANENT
    assert customer.id_number_masked == "911***********0010"  # masked like a resident ID (docs/customers.md)
    # and found again by its full number in the list's search
    page = login(org.rm_west).post(reverse("customers:customer-list"), {"q": FOREIGN_PERMANENT}, follow=True)
    assert customer.customer_no in page.content.decode()


def test_a_foreign_permanent_id_with_a_wrong_check_character_is_a_form_error(org, login):
    response = login(org.rm_west).post(CREATE, individual(id_type="foreign_permanent", id_number="911156199001010011"))
    assert response.status_code == 200
    assert message("The ID number's check digit is wrong; please check the number for a typing error.") in (
        response.content.decode()
    )
    assert not Customer.objects.exists()


def test_an_edit_keeps_a_stored_date_the_rules_would_refuse_today(org, book, login):
    """The rules judge what is typed: a customer assessed eleven years ago can still have their address changed
    (the form posts the stored date back), and the old assessment stays expired."""
    Customer.objects.filter(pk=book.west2.pk).update(risk_level="C3", risk_assessed_on=date(2015, 1, 5))
    url = reverse("customers:customer-update", args=[book.west2.pk])
    data = individual(name="李西乙", id_number="", mobile="", address="新地址", risk_level="C3",
                      risk_assessed_on="2015-01-05", birth_date=str(book.west2.birth_date))  # fmt: skip
    with time_machine.travel(TODAY):
        response = login(org.rm_west2).post(url, data)
        assert response.status_code == 302
        book.west2.refresh_from_db()
        assert book.west2.address == "新地址" and book.west2.risk_expired
        # a changed date is judged
        response = login(org.rm_west2).post(url, data | {"risk_assessed_on": "2015-01-06"})
    assert response.status_code == 200
    assert (
        message(
            "A risk assessment more than %(years)s years old cannot be recorded; assess the customer again.", years=10
        )
        in response.content.decode()
    )
