"""Monthly statistics and repeated causes on a hand-built set: every figure is checked by hand."""

from datetime import date
from decimal import Decimal
from io import BytesIO
from urllib.parse import unquote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from complaints import selectors, services

from .conftest import at, category, cause, travel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def october(org, book, register):
    """Five complaints received in October 2026 about the west branches, one in September, one in the east:

    | # | category | branch | outcome | days to decide | satisfaction |
    | a | 01 debit card | 西一网点 | decided on day 5, closed, cause 01 | 5 | 5 |
    | b | 01 debit card | 西一网点 | decided late, on day 20, cause 06 | 20 | 2 |
    | c | 02 credit card | 西二网点 | open, overdue on 1 Nov | — | — |
    | d | 02 credit card | 西二网点 | withdrawn | — | — |
    | e | 05 wealth | 西一网点 | open, within its deadline on 1 Nov (received 25 Oct) | — | — |
    """
    officer = org.west_officer.user

    def decide(c, when, cause_code, score):
        with travel(when):
            c = services.complaint_accept(actor=officer, complaint=c, handler=org.west_officer)
            c = services.complaint_start(actor=officer, complaint=c)
            c = services.complaint_decide(
                actor=officer,
                complaint=c,
                decision="d",
                customer_told_via="电话",
                remedies_told=True,
                cause=cause(cause_code),
            )
            return services.callback_record(actor=officer, complaint=c, satisfaction=score)

    with travel(at(2026, 10, 3, 10)):
        a = register(received_at=at(2026, 10, 1, 9), category=category("01"), product=None)
        b = register(received_at=at(2026, 10, 1, 9), category=category("01"))
        c = register(received_at=at(2026, 10, 2, 9), category=category("02"), customer=book.west2)
        d = register(received_at=at(2026, 10, 3, 9), category=category("02"), customer=book.west2)
        register(received_at=at(2026, 9, 30, 9), category=category("01"))  # September
        services.complaint_register(
            actor=org.east_head.user, customer=book.east, category=category("01"), channel="counter",
            request="r", facts="f", received_at=at(2026, 10, 1, 9),
        )  # fmt: skip
    decide(a, at(2026, 10, 6, 9), "01", 5)
    with travel(at(2026, 10, 8, 9)):
        services.complaint_close(actor=officer, complaint=a, cause=None, corrective_action="培训")
    decide(b, at(2026, 10, 21, 9), "06", 2)
    with travel(at(2026, 10, 4, 9)):
        services.complaint_withdraw(actor=officer, complaint=d)
    with travel(at(2026, 10, 25, 9)):
        e = register(received_at=at(2026, 10, 25, 9), category=category("05"))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_monthly_figures(org, october):
    with travel(at(2026, 11, 1, 9)):
        stats = selectors.monthly_statistics(org.west_officer.user, date(2026, 10, 1))
    t = stats.total
    assert (t.received, t.withdrawn, t.decided, t.on_time, t.overdue_open, t.closed) == (5, 1, 2, 1, 1, 1)
    assert t.on_time_rate == Decimal("33.3")  # 1 on time of 2 decided + 1 open overdue
    assert t.avg_days == Decimal("12.5")  # (5 + 20) / 2
    assert t.satisfaction == Decimal("3.50") and t.callbacks == 2
    by_category = {r.label: (r.received, r.decided, r.on_time, r.overdue_open) for r in stats.by_category}
    assert by_category == {"Debit card": (2, 2, 1, 0), "Credit card": (2, 0, 0, 1), "Wealth products": (1, 0, 0, 0)}
    by_cause = {r.label: r.received for r in stats.by_cause}
    assert by_cause == {"Service attitude and quality": 1, "Pricing and fees": 1, "—": 3}
    by_branch = {r.label: r.received for r in stats.by_branch}
    assert by_branch == {"西一网点": 3, "西二网点": 2}
    # The groups reconcile with the total.
    for rows in (stats.by_category, stats.by_cause, stats.by_branch, stats.by_channel):
        assert sum(r.received for r in rows) == t.received
        assert sum(r.on_time for r in rows) == t.on_time


def test_statistics_are_scoped(org, october):
    with travel(at(2026, 11, 1, 9)):
        east = selectors.monthly_statistics(org.east_head.user, date(2026, 10, 1))
        everyone = selectors.monthly_statistics(org.admin.user, date(2026, 10, 1))
        outlet = selectors.monthly_statistics(org.admin.user, date(2026, 10, 1), branch=org.west_outlet2)
    assert east.total.received == 1
    assert everyone.total.received == 6
    assert outlet.total.received == 2


def test_statistics_page_and_excel_reconcile(org, october, login):
    client = login(org.west_officer)
    with travel(at(2026, 11, 1, 9)):
        page = client.get(reverse("complaints:statistics") + "?month=2026-10").content.decode()
        response = client.get(reverse("complaints:statistics") + "?month=2026-10&export=xlsx")
    assert 'data-kpi="received">5<' in page
    assert 'data-kpi="on_time_rate">33.3%<' in page
    book = load_workbook(BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][:6] == ("合计", 5, 1, 2, 1, 1)
    assert sum(r[1] for r in rows[2:-1]) == 5  # below the caption and the header
    from customers.models import AccessLog

    assert AccessLog.objects.filter(action="export", detail__month="2026-10").exists()


def test_the_statistics_workbook_has_a_chinese_name_the_month_in_its_caption_and_the_header_above_the_data(
    org, october, login
):
    with travel(at(2026, 11, 1, 9)):
        response = login(org.west_officer).get(reverse("complaints:statistics") + "?month=2026-10&export=xlsx")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''")
    assert unquote(disposition.split("''", 1)[1]).startswith("投诉统计-2026-10-")
    book = load_workbook(BytesIO(response.content))
    assert len(book.worksheets) == 4
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert "2026-10" in rows[0][0] and not any(rows[0][1:])  # row 1: the caption alone
        assert rows[1][:2] == ("分组", "受理数")  # row 2: the header
        assert all(isinstance(r[1], int) for r in rows[2:])  # then the data directly, down to the total
        assert sheet.auto_filter.ref == f"A2:J{len(rows)}" and sheet.freeze_panes == "A3"


def test_bad_month_is_not_an_error(org, login):
    response = login(org.west_officer).get(reverse("complaints:statistics") + "?month=2026-13")
    assert response.status_code == 200


def test_repeated_causes(org, october, register):
    with travel(at(2026, 10, 26, 9)):
        for _ in range(2):
            c = register(received_at=at(2026, 10, 26, 9), category=category("05"))
            services.complaint_accept(actor=org.west_officer.user, complaint=c, handler=org.west_officer)
            c.refresh_from_db()
            c.cause = cause("06")
            c.save(update_fields=["cause"])
    with travel(at(2026, 11, 1, 9)):
        result = selectors.repeated_causes(org.west_officer.user, date(2026, 10, 1), date(2026, 10, 31))
    assert [(r.cause.code, r.count) for r in result] == [("06", 3), ("01", 1)]
    top = result[0]
    assert top.branches == [("西一网点", 3)]
    assert dict(top.categories) == {"Wealth products": 2, "Debit card": 1}
