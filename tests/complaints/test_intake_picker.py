"""Complaint intake's customer picker is an htmx fragment: searching and picking replace only the picker, so what
the officer has typed in the complaint stays (the browser test types, searches, picks and submits). The term goes
by POST, never in a URL; the picked customer and "same matter" reach the intake form by their form attribute."""

import pytest
from django.urls import reverse

from complaints.models import Complaint
from tests.factories import CustomerFactory

from .test_pages import intake

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_an_htmx_search_answers_the_picker_alone_with_the_matches(org, book, login):
    client = login(org.west_officer)
    response = client.post(reverse("complaints:intake-customer-search"), {"q": "王西"}, **HTMX)
    assert response.status_code == 200 and "Location" not in response  # no redirect: the term is in no URL
    html = response.content.decode()
    assert "<html" not in html and 'id="intake-customer"' in html and 'id="intake-form"' not in html
    assert book.west.name in html and f"?customer={book.west.pk}" in html


def test_an_htmx_search_sees_only_the_officers_scope(org, book, login):
    client = login(org.west_officer)
    html = client.post(reverse("complaints:intake-customer-search"), {"q": "赵东"}, **HTMX).content.decode()
    assert 'data-testid="customer-matches"' in html and book.east.name not in html


def test_picking_answers_the_picker_with_the_customer_tied_to_the_intake_form(org, book, login):
    client = login(org.west_officer)
    html = client.get(reverse("complaints:complaint-create"), {"customer": book.west.pk}, **HTMX)
    html = html.content.decode()
    assert "<html" not in html
    assert f'<input type="hidden" name="customer" value="{book.west.pk}" form="intake-form">' in html
    assert 'name="duplicate_of"' in html and 'form="intake-form"' in html
    assert client.get(reverse("complaints:complaint-create"), {"customer": book.east.pk}, **HTMX).status_code == 404


def test_without_javascript_the_search_still_goes_through_the_token(org, book, login):
    client = login(org.west_officer)
    response = client.post(reverse("complaints:intake-customer-search"), {"q": "王西"})
    assert response.status_code == 303 and "王西" not in response["Location"] and "s=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert 'id="intake-form"' in page and f"?customer={book.west.pk}" in page


def test_the_customer_posted_from_outside_the_form_registers_the_complaint(org, book, login):
    response = login(org.west_officer).post(reverse("complaints:complaint-create"), intake(book))
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.customer == book.west


def test_the_picker_fragments_run_a_fixed_number_of_queries(org, book, register, login, django_assert_max_num_queries):
    client = login(org.west_officer)
    search = reverse("complaints:intake-customer-search")
    pick = reverse("complaints:complaint-create")
    register()
    with django_assert_max_num_queries(8) as searched:
        client.post(search, {"q": "王"}, **HTMX)
    with django_assert_max_num_queries(10) as picked:
        client.get(pick, {"customer": book.west.pk}, **HTMX)
    for i in range(5):
        CustomerFactory(primary_rm=org.rm_west, name=f"王客户{i}")
        register()
    with django_assert_max_num_queries(len(searched.captured_queries)):
        client.post(search, {"q": "王"}, **HTMX)
    with django_assert_max_num_queries(len(picked.captured_queries)):
        client.get(pick, {"customer": book.west.pk}, **HTMX)


def test_the_complaint_list_labels_each_cell_and_statistics_give_one_decimal(org, book, register, login):
    register()
    client = login(org.west_officer)
    page = client.get(reverse("complaints:complaint-list")).content.decode()
    row = page[page.index("<tr data-reference=") : page.index("</tr>", page.index("<tr data-reference="))]
    assert row.count("data-label=") == 8
    stats = client.get(reverse("complaints:statistics")).content.decode()
    assert "data-label=" in stats


def test_the_intake_page_runs_a_fixed_number_of_queries(org, book, register, login, django_assert_max_num_queries):
    client = login(org.west_officer)
    url = reverse("complaints:complaint-create")
    register()
    with django_assert_max_num_queries(17) as few:  # bench/pins.toml "complaint intake"
        assert client.get(url, {"customer": book.west.pk}).status_code == 200
    for _ in range(5):
        register()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url, {"customer": book.west.pk}).status_code == 200
