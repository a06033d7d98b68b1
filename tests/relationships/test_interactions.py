"""Logging contacts: the quick log over htmx and without it, the last contact, the follow-up it asks for, and
the 24-hour edit window."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from relationships import services
from relationships.models import Interaction
from reminders.models import FollowUp
from tests.html import region_text

pytestmark = pytest.mark.django_db


def url(customer):
    return reverse("relationships:interaction-create", args=[customer.pk])


def test_quick_log_form_has_sensible_defaults(org, book, login):
    response = login(org.rm_west).get(url(book.west), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body  # a fragment for the modal
    assert 'value="visit" selected' in body and 'value="maintenance" selected' in body
    assert timezone.localtime().strftime("%Y-%m-%dT") in body


def test_quick_log_over_htmx(org, book, login):
    client = login(org.rm_west)
    today = timezone.localdate()
    response = client.post(
        url(book.west),
        {"channel": "phone", "purpose": "care", "outcome": "reached",
         "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "notes": "生日问候",
         "next_follow_up_on": (today + timedelta(days=7)).isoformat(), "next_action": "邀请参加沙龙"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "已记录" in region_text(response.content, "quick-log-done")
    assert f'id="last-contact-{book.west.pk}" hx-swap-oob="true"' in response.content.decode()
    interaction = Interaction.objects.get()
    assert (interaction.channel, interaction.staff, interaction.customer) == ("phone", org.rm_west, book.west)
    book.west.refresh_from_db()
    assert book.west.last_contacted_at == interaction.occurred_at
    follow_up = FollowUp.objects.get()
    assert (follow_up.staff, follow_up.due_on, follow_up.title, follow_up.kind) == (
        org.rm_west, today + timedelta(days=7), "邀请参加沙龙", "manual",
    )  # fmt: skip


def test_quick_log_without_htmx_redirects_to_the_360_page(org, book, login):
    response = login(org.rm_west).post(
        url(book.west), {"channel": "visit", "purpose": "maintenance", "outcome": "reached",
                         "occurred_at": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    )  # fmt: skip
    assert response.status_code == 302 and response.url == reverse("customers:customer-detail", args=[book.west.pk])
    assert Interaction.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"occurred_at": "2999-01-01T10:00"}, "不能是未来"),
        ({"occurred_at": "yesterday"}, "输入一个有效的日期"),
        ({"next_follow_up_on": "2000-01-01"}, "不能早于"),
        ({"next_action": "回访", "next_follow_up_on": ""}, "请填写"),
        ({"channel": "telepathy"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_is_shown_on_the_form(org, book, login, data, message):
    payload = {"channel": "visit", "purpose": "maintenance", "outcome": "reached",
               "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")} | data  # fmt: skip
    response = login(org.rm_west).post(url(book.west), payload, headers={"HX-Request": "true"})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Interaction.objects.exists()


def test_no_answer_does_not_count_as_contact(org, book):
    services.interaction_log(actor=org.rm_west.user, customer=book.west, channel="phone", outcome="no_answer")
    book.west.refresh_from_db()
    assert book.west.last_contacted_at is None


def test_an_older_interaction_does_not_move_the_last_contact_back(org, book):
    now = timezone.now()
    services.interaction_log(actor=org.rm_west.user, customer=book.west, occurred_at=now)
    services.interaction_log(actor=org.rm_west.user, customer=book.west, occurred_at=now - timedelta(days=30))
    book.west.refresh_from_db()
    assert book.west.last_contacted_at == now


def test_edit_window_is_24_hours_for_the_author_only(org, book, login):
    start = timezone.make_aware(datetime(2026, 11, 20, 10, 0))
    with time_machine.travel(start, tick=False) as clock:
        interaction = services.interaction_log(actor=org.rm_west.user, customer=book.west, notes="初稿")
        services.interaction_update(actor=org.rm_west.user, interaction=interaction, notes="修改")
        with pytest.raises(PermissionDenied):
            services.interaction_update(actor=org.west_head.user, interaction=interaction, notes="他人修改")
        edit = reverse("relationships:interaction-update", args=[interaction.pk])
        assert login(org.rm_west).get(edit).status_code == 200
        clock.shift(timedelta(hours=24, minutes=1))
        with pytest.raises(PermissionDenied):
            services.interaction_update(actor=org.rm_west.user, interaction=interaction, notes="太晚")
        assert login(org.rm_west).get(edit).status_code == 403
    interaction.refresh_from_db()
    assert interaction.notes == "修改"


def test_changing_the_next_date_moves_the_open_follow_up(org, book):
    today = timezone.localdate()
    interaction = services.interaction_log(
        actor=org.rm_west.user, customer=book.west, next_follow_up_on=today + timedelta(days=3)
    )
    services.interaction_update(
        actor=org.rm_west.user, interaction=interaction, next_follow_up_on=today + timedelta(days=9)
    )
    assert FollowUp.objects.get().due_on == today + timedelta(days=9)


def test_a_head_logging_for_an_rm_customer_gives_the_follow_up_to_the_rm(org, book):
    services.interaction_log(
        actor=org.west_head.user, customer=book.west, next_follow_up_on=timezone.localdate() + timedelta(days=1)
    )
    assert FollowUp.objects.get().staff == org.rm_west


def test_timeline_on_the_360_page_newest_first_and_paged(org, book, login, django_assert_max_num_queries):
    now = timezone.now()
    for i in range(25):
        services.interaction_log(
            actor=org.rm_west.user, customer=book.west, occurred_at=now - timedelta(days=i), notes=f"第{i}次"
        )
    client = login(org.rm_west)
    page = client.get(reverse("customers:customer-detail", args=[book.west.pk]))
    timeline = region_text(page.content, "timeline")
    assert timeline.index("第0次") < timeline.index("第9次") and "第10次" not in timeline
    with django_assert_max_num_queries(
        11
    ) as few:  # session, user, staff, secondaries, customer, count, page, products, session's save (3)
        more = client.get(
            reverse("relationships:customer-timeline", args=[book.west.pk]), {"page": 2}, headers={"HX-Request": "true"}
        )
    assert "第10次" in more.content.decode() and "第19次" in more.content.decode()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(
            reverse("relationships:customer-timeline", args=[book.west.pk]), {"page": 3}, headers={"HX-Request": "true"}
        )


def test_future_or_out_of_order_dates_are_refused_by_the_service(org, book):
    with pytest.raises(ValidationError):
        services.interaction_log(
            actor=org.rm_west.user, customer=book.west, occurred_at=timezone.now() + timedelta(days=1)
        )
