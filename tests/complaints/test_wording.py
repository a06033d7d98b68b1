"""The wording of the complaint pages in Chinese, their first language: column headings that say what the column
holds, and labels whose punctuation is part of the translation (full-width in Chinese)."""

import pytest
from django.urls import reverse
from django.utils import translation

from .conftest import cause

pytestmark = pytest.mark.django_db


def test_the_complaint_lists_date_column_is_headed_received_at_not_number_received(org, register, login):
    register()
    page = login(org.west_officer).get(reverse("complaints:complaint-list")).content.decode()
    headings = page[page.index("<thead") : page.index("</thead>")]
    assert "受理时间" in headings and "受理数" not in headings


def test_the_cause_label_on_a_complaint_keeps_its_colon_inside_the_translation(org, register, login):
    c = register(cause=cause("01"))
    page = login(org.west_officer).get(reverse("complaints:complaint-detail", args=[c.pk])).content.decode()
    assert "投诉原因:" not in page  # no ASCII colon after a Chinese label
    with translation.override("zh-hans"):
        assert translation.gettext("cause: %(cause)s") % {"cause": cause("01")} in page
