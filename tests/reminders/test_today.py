"""Today (今日工作): scoping, the one-tap actions over htmx, and a constant number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships import services
from relationships.models import Interaction
from reminders.models import FollowUp
from tests.factories import CustomerFactory
from tests.html import region_text

pytestmark = pytest.mark.django_db
URL = reverse("reminders:today")


def follow_up(org, customer, days=0, action="回访"):
    interaction = services.interaction_log(
        actor=org.rm_west.user,
        customer=customer,
        next_follow_up_on=timezone.localdate() + timedelta(days=days),
        next_action=action,
    )
    return FollowUp.objects.get(source_ref=f"interaction:{interaction.pk}")


def test_home_of_an_rm_is_today(org, login):
    response = login(org.rm_west).get(reverse("home"))
    assert response.status_code == 302 and response.url == URL


def test_groups_overdue_first_with_tier_and_aum(org, book, login):
    late = follow_up(org, book.west, days=0, action="逾期的跟进")
    FollowUp.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=2))
    follow_up(org, book.corporate, days=3, action="三天后跟进")
    FollowUp.objects.create(
        customer=book.west,
        staff=org.rm_west,
        kind="birthday",
        due_on=timezone.localdate(),
        title="生日祝福：王西甲",
        dedupe_key="b1",
    )
    page = login(org.rm_west).get(URL)
    manual = region_text(page.content, "group-manual")
    assert manual.index("逾期的跟进") < manual.index("三天后跟进") and "逾期" in manual
    assert "大众客户" in manual and "10,000" in manual
    body = page.content.decode()
    assert body.index('data-testid="group-manual"') < body.index('data-testid="group-birthday"')  # overdue group first
    summary = region_text(page.content, "today-summary")
    assert "3 项待办" in summary and "1 项逾期" in summary


def test_an_rm_sees_only_their_own(org, book, login):
    follow_up(org, book.west, action="我的")
    services.interaction_log(
        actor=org.rm_west2.user, customer=book.west2, next_follow_up_on=timezone.localdate(), next_action="别人的"
    )
    body = login(org.rm_west).get(URL).content.decode()
    assert "我的" in body and "别人的" not in body
    # An RM cannot look at another RM's day: the parameter is ignored for them.
    assert "别人的" not in login(org.rm_west).get(URL, {"rm": org.rm_west2.pk}).content.decode()


def test_a_head_sees_counts_per_rm_and_any_rm_of_the_subtree_read_only(org, book, login):
    follow_up(org, book.west, action="己的跟进")
    client = login(org.west_head)
    table = region_text(client.get(URL).content, "per-rm")
    assert org.rm_west.name in table and org.rm_east.name not in table
    page = client.get(URL, {"rm": org.rm_west.pk})
    assert "己的跟进" in page.content.decode()
    assert 'data-testid="done-form"' not in page.content.decode()  # read-only
    assert client.get(URL, {"rm": org.rm_east.pk}).status_code == 404


def test_officer_has_no_today(org, login):
    assert login(org.west_officer).get(URL).status_code == 403


def test_done_with_a_quick_log_over_htmx(org, book, login):
    f = follow_up(org, book.west)
    response = login(org.rm_west).post(
        reverse("reminders:follow-up-action", args=[f.pk, "done"]),
        {"channel": "wechat", "outcome": "reached", "notes": "已发送祝福"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "已完成" in region_text(response.content, "follow-up-closed")
    f.refresh_from_db()
    assert f.status == "done" and f.completed_by == org.rm_west
    assert f.interaction.channel == "wechat" and f.interaction.notes == "已发送祝福"
    book.west.refresh_from_db()
    assert book.west.last_contacted_at == f.interaction.occurred_at


def test_snooze_hides_until_the_day(org, book, login):
    f = follow_up(org, book.west, action="推迟的跟进")
    client = login(org.rm_west)
    until = timezone.localdate() + timedelta(days=10)
    client.post(
        reverse("reminders:follow-up-action", args=[f.pk, "snooze"]),
        {"until": until.isoformat()},
        headers={"HX-Request": "true"},
    )
    f.refresh_from_db()
    assert (f.status, f.snoozed_until) == ("snoozed", until)
    assert "推迟的跟进" not in client.get(URL).content.decode()
    response = client.post(
        reverse("reminders:follow-up-action", args=[f.pk, "snooze"]),
        {"until": "2000-01-01"},
        headers={"HX-Request": "true"},
    )
    assert "90" in region_text(response.content, "follow-up-error")  # "to a day after today, at most 90 days ahead"
    f.refresh_from_db()
    assert f.snoozed_until == until


def test_skip_needs_a_reason(org, book, login):
    f = follow_up(org, book.west)
    client = login(org.rm_west)
    response = client.post(
        reverse("reminders:follow-up-action", args=[f.pk, "skip"]), {"reason": ""}, headers={"HX-Request": "true"}
    )
    assert region_text(response.content, "follow-up-error")
    f.refresh_from_db()
    assert f.status == "open"
    client.post(
        reverse("reminders:follow-up-action", args=[f.pk, "skip"]),
        {"reason": "客户已出国"},
        headers={"HX-Request": "true"},
    )
    f.refresh_from_db()
    assert (f.status, f.skip_reason) == ("skipped", "客户已出国")


def test_nobody_else_can_act_on_a_follow_up(org, book, login):
    f = follow_up(org, book.west)
    response = login(org.rm_west2).post(reverse("reminders:follow-up-action", args=[f.pk, "skip"]), {"reason": "越权"})
    assert response.status_code == 404
    assert login(org.rm_west).post(reverse("reminders:follow-up-action", args=[f.pk, "explode"]), {}).status_code == 404
    f.refresh_from_db()
    assert f.status == "open" and not Interaction.objects.filter(notes="越权").exists()


def test_query_count_is_constant(org, login, django_assert_max_num_queries):
    client = login(org.rm_west)
    c = CustomerFactory(primary_rm=org.rm_west)
    follow_up(org, c)
    with django_assert_max_num_queries(11) as few:  # + the tasks section (worktasks.panels)
        client.get(URL)
    for i in range(30):
        c = CustomerFactory(primary_rm=org.rm_west)
        follow_up(org, c, days=i % 5)
        FollowUp.objects.create(
            customer=c,
            staff=org.rm_west,
            kind="birthday",
            due_on=timezone.localdate(),
            title="生日",
            dedupe_key=f"q{i}",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).status_code == 200
