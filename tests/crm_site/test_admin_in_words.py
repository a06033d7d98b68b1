"""What Django admin shows of the third-party records, in the user's language: periodic tasks by their label and
schedule in words, django-axes' records named in words with their form data under the fields' labels, and the
permissions of a group by the models' translated names."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from django_celery_beat.models import PeriodicTask

from crm_site import schedule

pytestmark = pytest.mark.django_db


def zh(text: str, **values) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return escape(gettext(text) % values if values else gettext(text))


@pytest.fixture
def hq(client, org):
    client.force_login(org.admin.user)
    return client


def test_periodic_tasks_are_listed_by_their_label_with_the_schedule_in_words(hq):
    body = hq.get(reverse("admin:django_celery_beat_periodictask_changelist")).content.decode()
    assert zh("Send the morning digest") in body
    assert "在 08:00 Asia/Shanghai" in body  # cron-descriptor in Chinese, 24-hour clock
    assert ">reminders: morning digest<" not in body  # the name is the key, not what the list shows


def test_a_periodic_task_page_is_titled_by_its_label_and_keeps_its_name(hq):
    task = PeriodicTask.objects.get(name="reminders: morning digest")
    body = hq.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])).content.decode()
    assert f"<h2>{zh('Send the morning digest')}</h2>" in body
    assert 'value="reminders: morning digest"' in body  # still editable, still the key beat and install() use


def test_every_default_entry_has_a_label_and_a_hand_made_task_shows_its_name():
    assert all(entry.label for entry in schedule.DEFAULT_SCHEDULE)
    assert schedule.label_of("a task added by hand") == "a task added by hand"


def test_an_access_attempt_is_named_in_words_and_its_form_data_by_field_labels(hq):
    Client().post(reverse("login"), {"username": "rm_west", "password": "wrong", "next": "/today/"})
    attempt = AccessAttempt.objects.get(username="rm_west")
    body = hq.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk])).content.decode()
    form_data = re.search(r'field-form_in_words.*?<div class="readonly">(.*?)</div>', body, re.S).group(1)
    assert zh("Username") + "：rm_west" in form_data and zh("Page after sign-in") + "：/today/" in form_data
    assert "password=" not in form_data and "csrfmiddlewaretoken" not in form_data
    assert "Attempted Access" not in body  # django-axes' English __str__


def test_a_groups_permissions_are_named_in_chinese(hq):
    body = hq.get(reverse("admin:auth_group_add")).content.decode()
    assert zh("Can view %(name)s", name=zh("customer")) in body
    assert "Can view customer" not in body
