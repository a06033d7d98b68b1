"""Amounts on the dashboards are in 万元 with one decimal, the unit said once in the card label or the column
header; percentages have one decimal (crm_site/templatetags/numbers.py). Every table cell carries its label for
the stacked layout on a phone."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crm_site.templatetags.numbers import pct, wan
from dashboards import figures
from tests.dashboards.helpers import DAY, NOW
from tests.html import region_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(org, book, data, login):
    with time_machine.travel(NOW, tick=False):
        figures.figures_rebuild(since=DAY - timedelta(days=61), until=DAY)
        response = login(org.west_head).get(reverse("dashboards:dashboard"))
    assert response.status_code == 200
    return response


def test_kpi_amounts_are_in_wan_with_the_unit_in_the_label(page):
    board = page.context["board"]
    html = page.content.decode()
    aum = region_text(html, "kpi-aum")
    assert "万元" in aum and wan(board.figures.value("aum")) in aum
    assert aum.count("万元") == 1
    coverage = region_text(html, "kpi-coverage")
    assert pct(board.figures.value("coverage")) in coverage


def test_table_amounts_are_in_wan_with_the_unit_in_the_header_and_every_cell_labelled(page):
    board = page.context["board"]
    html = page.content.decode()
    table = region_text(html, "rm-table")
    line = board.rms[0]
    assert wan(line.figures["aum"]) in table
    assert "万元" in table
    assert 'data-label="金融资产（万元）"' in html
    rm_table = html[html.index('data-testid="rm-table"') :]
    first_row = rm_table[rm_table.index("<tbody>") : rm_table.index("</tr>", rm_table.index("<tbody>"))]
    assert first_row.count("data-label=") == 10  # the RM and their nine figures
