"""The absolute session lifetime (organisation.middleware.SessionLifetimeMiddleware): a session ends
SESSION_ABSOLUTE_SECONDS (12 hours) after its sign-in however active it is, on top of the 30-minute idle timeout."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from organisation.middleware import SIGNED_IN_AT
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db
HOME = reverse("relationships:my-customers")
START = timezone.make_aware(datetime(2026, 11, 30, 7, 0))


def test_twelve_hours_after_sign_in_the_session_ends_even_with_activity(client, org, settings):
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    with time_machine.travel(START, tick=False) as clock:
        assert client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD}).status_code == 302
        for _ in range(35):  # a request every 20 minutes, well within the idle timeout: up to 11h40
            clock.shift(timedelta(minutes=20))
            assert client.get(HOME).status_code == 200
        clock.move_to(START + timedelta(hours=11, minutes=59))
        assert client.get(HOME).status_code == 200  # 11h59: still in
        clock.move_to(START + timedelta(hours=12, minutes=1))
        response = client.get(HOME)
        assert response.status_code == 302 and response.url == f"{reverse('login')}?next={HOME}"
        assert "_auth_user_id" not in client.session
        page = client.get(response.url).content.decode()
        assert "12" in page and ("Please sign in again" in page or "请重新登录" in page)
        assert client.get(HOME).status_code == 302  # and it stays signed out


def test_signing_in_again_starts_a_new_lifetime(client, org):
    with time_machine.travel(START, tick=False) as clock:
        client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})
        clock.move_to(START + timedelta(hours=12, minutes=1))
        client.get(HOME)
        client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})
        clock.shift(timedelta(minutes=5))
        assert client.get(HOME).status_code == 200


def test_the_lifetime_is_a_setting(client, org, settings):
    settings.SESSION_ABSOLUTE_SECONDS = 3600
    with time_machine.travel(START, tick=False) as clock:
        client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})
        for minutes in (20, 20, 19):  # active within the idle timeout: only the lifetime can end it
            clock.shift(timedelta(minutes=minutes))
            assert client.get(HOME).status_code == 200
        clock.shift(timedelta(minutes=2))
        assert client.get(HOME).status_code == 302


def test_a_session_that_cannot_show_its_age_is_signed_out(client, org):
    client.force_login(org.rm_west.user)
    session = client.session
    del session[SIGNED_IN_AT]
    session.save()
    assert client.get(HOME).status_code == 302
    assert "_auth_user_id" not in client.session
