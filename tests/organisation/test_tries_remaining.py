"""A wrong password says how many tries remain before the account is locked (AXES_FAILURE_LIMIT less the failures
django-axes has counted), on the staff sign-in and on the admin sign-in."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import ngettext

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db
START = timezone.make_aware(timezone.datetime(2026, 11, 30, 9, 0))


def tries_left(count: int) -> str:
    """The form's error as a user reads it, in the site's language (zh-hans)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = ngettext(
            "Wrong username or password. %(count)s more try before the account is locked.",
            "Wrong username or password. %(count)s more tries before the account is locked.",
            count,
        )
    return escape(text % {"count": count})


@pytest.mark.parametrize("page", ["login", "admin:login"])
def test_each_failure_says_how_many_tries_remain_then_the_lock_page_says_how_long(client, org, settings, page):
    settings.AXES_FAILURE_LIMIT = 4
    url = reverse(page)
    with time_machine.travel(START, tick=False) as clock:
        for remaining in (3, 2, 1):
            response = client.post(url, {"username": "hq_admin", "password": "wrong"})
            assert response.status_code == 200
            assert tries_left(remaining) in response.content.decode()
            clock.shift(timedelta(minutes=1))
        assert client.post(url, {"username": "hq_admin", "password": "wrong"}).status_code == 429


def test_the_count_starts_again_after_a_successful_sign_in(client, org):
    with time_machine.travel(START, tick=False):
        client.post(reverse("login"), {"username": "rm_west", "password": "wrong"})
        assert client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD}).status_code == 302
        client.logout()
        response = client.post(reverse("login"), {"username": "rm_west", "password": "wrong"})
    assert tries_left(settings.AXES_FAILURE_LIMIT - 1) in response.content.decode()


def test_an_unknown_username_reads_the_same_as_a_wrong_password(client, org):
    """Whether the account exists is not given away: both count down the same way."""
    known = client.post(reverse("login"), {"username": "rm_west", "password": "wrong"}).content.decode()
    unknown = client.post(reverse("login"), {"username": "nobody_here", "password": "wrong"}).content.decode()
    assert tries_left(settings.AXES_FAILURE_LIMIT - 1) in known
    assert tries_left(settings.AXES_FAILURE_LIMIT - 1) in unknown


def test_an_over_long_username_gets_the_plain_error_and_no_count(client, org):
    response = client.post(reverse("login"), {"username": "x" * 200, "password": "wrong"})
    assert response.status_code == 200
    assert "%(count)s" not in response.content.decode()
    with translation.override(settings.LANGUAGE_CODE):
        assert tries_left(settings.AXES_FAILURE_LIMIT - 1) not in response.content.decode()
