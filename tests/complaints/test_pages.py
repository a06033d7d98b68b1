"""The complaint pages: the role × page matrix, query counts, the intake form, the actions on the detail page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Complaint

from .conftest import at, category, cause, travel

pytestmark = pytest.mark.django_db

WHO = ("rm_west", "rm_west2", "west_head", "east_head", "west_officer", "admin")


@pytest.fixture
def records(org, book, register, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = register(attachments=[SimpleUploadedFile("信.pdf", b"%PDF-1.4 letter")])
    c = services.complaint_accept(actor=org.west_officer.user, complaint=c, handler=org.rm_west2)
    return {"complaint": c, "attachment": c.attachments.get()}


def pages(records):
    c = records["complaint"]
    return {
        "complaint-list": reverse("complaints:complaint-list"),
        "complaint-create": reverse("complaints:complaint-create"),
        "intake-customer-search": reverse("complaints:intake-customer-search"),
        "complaint-detail": reverse("complaints:complaint-detail", args=[c.pk]),
        "attachment-download": reverse("complaints:attachment-download", args=[c.pk, records["attachment"].pk]),
        "statistics": reverse("complaints:statistics"),
        "repeated-causes": reverse("complaints:repeated-causes"),
    }


# page → status for each of WHO. rm_west2 handles the complaint; rm_west is the customer's RM (read-only on the
# 360° page, not here).
EXPECTED = {
    "complaint-list":      (200, 200, 200, 200, 200, 200),
    "complaint-create":    (403, 403, 200, 200, 200, 200),
    "intake-customer-search": (403, 403, 405, 405, 405, 405),  # POST only: the search box of intake
    "complaint-detail":    (404, 200, 200, 404, 200, 200),
    "attachment-download": (404, 200, 200, 404, 200, 200),
    "statistics":          (403, 403, 200, 200, 200, 200),
    "repeated-causes":     (403, 403, 200, 200, 200, 200),
}  # fmt: skip


def test_every_page_is_in_the_matrix():
    from tests.urlwalk import all_urls

    ours = {name.split(":")[1] for _path, name, _view in all_urls() if name.startswith("complaints:")}
    assert ours == set(EXPECTED)


@pytest.mark.parametrize("page", list(EXPECTED))
def test_matrix(org, records, login, page):
    url = pages(records)[page]
    reference = records["complaint"].reference
    for who, status in zip(WHO, EXPECTED[page], strict=True):
        response = login(getattr(org, who)).get(url)
        assert response.status_code == status, (page, who, response.status_code)
        if status in (403, 404):
            assert reference not in response.content.decode(errors="ignore")


def test_lists_are_scoped(org, book, records, login, register):
    east = services.complaint_register(
        actor=org.east_head.user, customer=book.east, category=category(), channel="hotline", request="r", facts="f"
    )
    ref = records["complaint"].reference
    west_page = login(org.west_officer).get(reverse("complaints:complaint-list")).content.decode()
    assert ref in west_page and east.reference not in west_page
    east_page = login(org.east_head).get(reverse("complaints:complaint-list")).content.decode()
    assert east.reference in east_page and ref not in east_page
    admin_page = login(org.admin).get(reverse("complaints:complaint-list")).content.decode()
    assert ref in admin_page and east.reference in admin_page
    rm_page = login(org.rm_west2).get(reverse("complaints:complaint-list")).content.decode()
    assert ref in rm_page and east.reference not in rm_page  # the RM sees what they handle
    assert ref not in login(org.rm_west).get(reverse("complaints:complaint-list")).content.decode()


def test_the_rm_reads_their_customers_complaints_on_the_360_page(org, book, records, login):
    ref = records["complaint"].reference
    page = login(org.rm_west).get(reverse("customers:customer-detail", args=[book.west.pk])).content.decode()
    assert ref in page
    assert reverse("complaints:complaint-detail", args=[records["complaint"].pk]) not in page  # read-only
    assert "register-complaint" not in page
    officer_page = login(org.west_officer).get(reverse("customers:customer-detail", args=[book.west.pk]))
    assert reverse("complaints:complaint-detail", args=[records["complaint"].pk]) in officer_page.content.decode()


def test_list_query_count_is_constant(org, book, register, login, django_assert_max_num_queries):
    for _ in range(3):
        register()
    client = login(org.west_officer)
    with django_assert_max_num_queries(14) as small:
        client.get(reverse("complaints:complaint-list"))
    for _ in range(12):
        register(subject_staff=org.rm_west2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("complaints:complaint-list") + "?deadline=on_track")
    assert response.content.decode().count("data-reference=") == 15


def test_detail_query_count_is_constant(org, records, login, django_assert_max_num_queries):
    c = records["complaint"]
    client = login(org.west_officer)
    url = reverse("complaints:complaint-detail", args=[c.pk])
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for i in range(10):
        services.note_add(actor=org.west_officer.user, complaint=c, text=f"note {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('data-kind="note"') == 10


def test_filters(org, register, login):
    a = register(category=category("02"), channel="hotline")
    b = register(category=category("05"), channel="letter", severity="major")
    client = login(org.west_officer)

    def refs(query):
        html = client.get(reverse("complaints:complaint-list") + query, follow=True).content.decode()
        return {r for r in (a.reference, b.reference) if r in html}

    assert refs(f"?category={category('02').pk}") == {a.reference}
    assert refs("?channel=letter") == {b.reference}
    assert refs("?severity=major") == {b.reference}
    assert refs(f"?q={a.reference}") == {a.reference}
    assert refs("?status=withdrawn") == set()
    assert refs("?deadline=bogus") == {a.reference, b.reference}  # an unknown value is ignored, not a 500


# ----------------------------------------------------------------------------------------------------------------
# Intake through the page
# ----------------------------------------------------------------------------------------------------------------


def intake(book, **kw):
    data = {
        "customer": book.west.pk,
        "complainant_kind": "customer",
        "channel": "counter",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "category": category().pk,
        "severity": "normal",
        "request": "退费",
        "facts": "多收手续费",
    }
    data.update(kw)
    return data


def test_customer_search_on_the_intake_page(org, book, login):
    client = login(org.west_officer)
    search = reverse("complaints:intake-customer-search")
    page = client.post(search, {"q": "王西"}, follow=True).content.decode()
    assert f"?customer={book.west.pk}" in page
    assert book.east.name not in client.post(search, {"q": "赵东"}, follow=True).content.decode()
    assert client.get(reverse("complaints:complaint-create") + f"?customer={book.east.pk}").status_code == 404


def test_intake_registers_and_redirects(org, book, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    response = login(org.west_officer).post(reverse("complaints:complaint-create"), intake(book, attachments=upload))
    c = Complaint.objects.get()
    assert response.status_code == 302 and response.url == reverse("complaints:complaint-detail", args=[c.pk])
    assert c.customer == book.west and c.branch == book.west.branch and c.attachments.count() == 1


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("virus.exe", b"MZ\x90"), "不接受此类文件"),
        (SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * 4096), "过大"),
    ],
)
def test_a_bad_attachment_is_a_form_error_and_nothing_is_written(org, book, login, settings, tmp_path, upload, message):
    settings.MEDIA_ROOT = tmp_path
    settings.COMPLAINT_ATTACHMENT_MAX_BYTES = 1024
    response = login(org.west_officer).post(reverse("complaints:complaint-create"), intake(book, attachments=upload))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Complaint.objects.exists()


def test_intake_errors_are_form_errors(org, book, login):
    client = login(org.west_officer)
    response = client.post(reverse("complaints:complaint-create"), intake(book, request="", received_at="nonsense"))
    assert response.status_code == 200
    assert not Complaint.objects.exists()
    response = client.post(
        reverse("complaints:complaint-create"), intake(book, complainant_kind="agent", complainant_name="代理人")
    )
    assert "代理投诉须提供授权委托书" in response.content.decode()
    assert not Complaint.objects.exists()


def test_intake_in_chinese(org, book, login):
    client = login(org.west_officer)
    response = client.post(
        reverse("complaints:complaint-create"), intake(book, request=""), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "登记" in response.content.decode()


# ----------------------------------------------------------------------------------------------------------------
# Actions on the detail page
# ----------------------------------------------------------------------------------------------------------------


def test_actions_through_the_page(org, records, login):
    c = records["complaint"]
    url = reverse("complaints:complaint-detail", args=[c.pk])
    handler = login(org.rm_west2)
    assert handler.post(url, {"action": "start"}).status_code == 302
    response = handler.post(url, {"action": "extend", "reason": "", "customer_told_via": ""})
    assert response.status_code == 200 and 'open data-panel="extend"' in response.content.decode()
    response = handler.post(
        url,
        {
            "action": "extend",
            "reason": "需调查",
            "customer_told_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "customer_told_via": "电话",
        },
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.extension_level == 1
    # An action not available to this user is refused with a message, and changes nothing.
    response = handler.post(url, {"action": "withdraw"}, follow=True)
    assert "该投诉当前不能执行此操作" in response.content.decode()
    handler.post(url, {"action": "decide", "decision": "退费", "customer_told_via": "电话", "remedies_told": "on"})
    officer = login(org.west_officer)
    officer.post(url, {"action": "callback", "satisfaction": "5", "comment": "好"})
    officer.post(url, {"action": "close", "cause": cause("06").pk, "corrective_action": "培训"})
    c.refresh_from_db()
    assert (c.status, c.satisfaction, c.cause.code) == ("closed", 5, "06")


def test_an_outsider_cannot_post_actions(org, records, login):
    url = reverse("complaints:complaint-detail", args=[records["complaint"].pk])
    assert login(org.east_head).post(url, {"action": "withdraw"}).status_code == 404
    assert login(org.rm_west).post(url, {"action": "withdraw"}).status_code == 404


def test_deadline_badges_show_on_the_list(org, register, login):
    with travel(at(2026, 11, 1, 10)):
        register(received_at=at(2026, 10, 5, 9))
        html = login(org.west_officer).get(reverse("complaints:complaint-list")).content.decode()
    assert 'data-deadline="breached"' in html


def test_the_handler_sees_their_complaints_on_today(org, records, login):
    c = records["complaint"]  # handled by rm_west2
    page = login(org.rm_west2).get(reverse("reminders:today")).content.decode()
    assert c.reference in page and reverse("complaints:complaint-detail", args=[c.pk]) in page
    assert c.reference not in login(org.rm_west).get(reverse("reminders:today")).content.decode()
    services.complaint_withdraw(actor=org.west_officer.user, complaint=c)
    assert c.reference not in login(org.rm_west2).get(reverse("reminders:today")).content.decode()


def test_a_handler_who_is_not_the_customers_rm_sees_the_name_without_a_link(org, book, register, login):
    """An RM handling a complaint of another RM's customer may not open that customer: the detail page names
    them without a link to a 404, with their RM."""
    c = services.complaint_accept(actor=org.west_officer.user, complaint=register(), handler=org.rm_west2)
    client = login(org.rm_west2)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("complaints:complaint-detail", args=[c.pk])).content.decode()
    assert book.west.name in html and f"RM: {org.rm_west.name}" in html
    assert f'href="{reverse("customers:customer-detail", args=[book.west.pk])}"' not in html
    html = login(org.west_officer).get(reverse("complaints:complaint-detail", args=[c.pk])).content.decode()
    assert f'href="{reverse("customers:customer-detail", args=[book.west.pk])}"' in html
