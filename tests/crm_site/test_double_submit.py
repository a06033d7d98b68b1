"""Double submits: every create form carries a submission key, and the same form posted twice (a double tap, a
retry on a flaky network) creates one record; the second post gets the first one's answer. A key is its user's
own; a failed post leaves it free; a post without a key still works; old keys are purged at night."""

import re
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintAttachment, ComplaintCategory, ComplaintEvent, ComplaintExtension
from customers.models import Customer
from feed import tasks as feed_tasks
from feed.models import Load
from idempotency.models import SubmissionKey
from organisation.tasks import purge_expired_sessions
from relationships import services as relationship_services
from relationships import views as relationship_views
from relationships.models import Assignment, Handover, Interaction, ReassignmentRequest, SatisfactionRating, VisitPlan
from reminders.models import FollowUp
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

KEY = re.compile(r'<input type="hidden" name="submission_key" value="([0-9a-f-]{36})"')
ROOT = Path(__file__).resolve().parents[2]


def key_on(response, after: str = "") -> str:
    """The submission key of the (first) form drawn on the page, after ``after`` if given."""
    html = response.content.decode()
    match = KEY.search(html, html.index(after) if after else 0)
    assert match, "no submission key on the page"
    return match.group(1)


def now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def quick_log_data(**kw) -> dict:
    return {"channel": "phone", "purpose": "care", "outcome": "reached", "occurred_at": now_local(),
            "next_follow_up_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
            "next_action": "再约"} | kw  # fmt: skip


def same_answer(first, second) -> None:
    assert first.status_code == second.status_code
    if first.status_code == 302:
        assert first.url == second.url


# ----------------------------------------------------------------------------------------------------------------
# Each create form, posted twice in a row: one record, the same answer
# ----------------------------------------------------------------------------------------------------------------


def test_the_quick_log_over_htmx_posted_twice_logs_once(org, book, login):
    client = login(org.rm_west)
    url = reverse("relationships:interaction-create", args=[book.west.pk])
    data = quick_log_data(submission_key=key_on(client.get(url, headers={"HX-Request": "true"})))
    first = client.post(url, data, headers={"HX-Request": "true"})
    second = client.post(url, data, headers={"HX-Request": "true"})
    assert first.status_code == second.status_code == 200
    assert 'data-testid="quick-log-done"' in second.content.decode()
    assert first.content == second.content  # the same fragment: the same interaction, the same follow-up
    assert Interaction.objects.count() == 1 and FollowUp.objects.count() == 1


def test_the_quick_log_page_posted_twice_logs_once(org, book, login):
    client = login(org.rm_west)
    url = reverse("relationships:interaction-create", args=[book.west.pk])
    data = quick_log_data(submission_key=key_on(client.get(url)))
    first, second = client.post(url, data), client.post(url, data)
    same_answer(first, second)
    assert first.url == reverse("customers:customer-detail", args=[book.west.pk])
    assert Interaction.objects.count() == 1 and FollowUp.objects.count() == 1


def test_a_rating_posted_twice_is_recorded_once(org, book, login):
    client = login(org.west_head)
    page = client.get(reverse("customers:customer-detail", args=[book.west.pk]))
    data = {"score": "4", "comment": "满意", "submission_key": key_on(page, after='data-testid="rating-form"')}
    url = reverse("relationships:rating-create", args=[book.west.pk])
    same_answer(client.post(url, data), client.post(url, data))
    assert SatisfactionRating.objects.count() == 1


def test_a_secondary_rm_added_twice_is_added_once(org, book, login):
    """Before, the second post was refused ("already looks after the customer"), or, at the same moment, broke
    on the unique index."""
    client = login(org.west_head)
    page = client.get(reverse("customers:customer-detail", args=[book.west.pk]))
    url = reverse("relationships:secondary-assign", args=[book.west.pk])
    data = {"staff": org.rm_west2.pk, "reason": "协助维护", "submission_key": key_on(page, after=f'action="{url}"')}
    same_answer(client.post(url, data), client.post(url, data))
    assert Assignment.objects.filter(customer=book.west, role="secondary").count() == 1
    shown = client.get(page.request["PATH_INFO"])
    assert [m.level_tag for m in shown.context["messages"]] == ["success", "success"]


def test_a_reassignment_request_posted_twice_is_sent_once(org, book, login):
    client = login(org.rm_west)
    url = reverse("relationships:reassignment-create")
    key = key_on(client.get(url, {"customer": book.west.pk}))
    data = {"customer": [book.west.pk], "to_staff": org.rm_west2.pk, "reason": "客户搬家", "submission_key": key}
    first, second = client.post(url, data), client.post(url, data)
    same_answer(first, second)
    request = ReassignmentRequest.objects.get()
    assert second.url == reverse("relationships:reassignment-detail", args=[request.pk])


def test_a_handover_posted_twice_is_prepared_once(org, book, login):
    relationship_services.staff_mark_leaving(
        actor=org.west_head.user, staff=org.rm_west, last_day=timezone.localdate() + timedelta(days=10)
    )
    client = login(org.west_head)
    url = reverse("relationships:handover-create")
    key = key_on(client.get(url, {"leaver": org.rm_west.pk}))
    data = {"leaver": org.rm_west.pk, "targets": [org.rm_west2.pk], "method": "even", "submission_key": key}
    first, second = client.post(url, data), client.post(url, data)
    same_answer(first, second)
    assert first.status_code == 302 and Handover.objects.count() == 1


@pytest.mark.parametrize("submit", [False, True])
def test_a_visit_plan_posted_twice_is_made_once(org, book, login, submit):
    client = login(org.rm_west)
    url = reverse("relationships:visit-plan-create")
    data = {"planned_on": timezone.localdate().isoformat(), "purpose": "care", "customers": [book.west.pk],
            "submission_key": key_on(client.get(url))} | ({"submit": "1"} if submit else {})  # fmt: skip
    first, second = client.post(url, data), client.post(url, data)
    same_answer(first, second)
    plan = VisitPlan.objects.get()
    assert first.status_code == 302 and plan.status == ("submitted" if submit else "draft")


@pytest.mark.parametrize("id_number", ["11010119900307299X", ""])
def test_a_customer_registered_twice_is_registered_once(org, login, id_number):
    client = login(org.rm_west)
    url = reverse("customers:customer-create")
    data = {"kind": "individual", "name": "孙小美", "id_type": "resident_id" if id_number else "",
            "id_number": id_number, "lifecycle": "new", "submission_key": key_on(client.get(url))}  # fmt: skip
    first, second = client.post(url, data), client.post(url, data)
    same_answer(first, second)
    customer = Customer.objects.get(name="孙小美")
    assert first.url == reverse("customers:customer-detail", args=[customer.pk])


def test_a_complaint_registered_twice_is_registered_once(org, book, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(org.west_officer)
    url = reverse("complaints:complaint-create")
    key = key_on(client.get(url, {"customer": book.west.pk}))

    def data():
        return {"customer": book.west.pk, "complainant_kind": "customer", "channel": "counter",
                "received_at": now_local(), "category": ComplaintCategory.objects.first().pk, "severity": "normal",
                "request": "退费", "facts": "多收手续费", "submission_key": key,
                "attachments": SimpleUploadedFile("letter.pdf", b"%PDF-1.4 x", content_type="application/pdf")}  # fmt: skip

    first, second = client.post(url, data()), client.post(url, data())
    same_answer(first, second)
    complaint = Complaint.objects.get()
    assert first.url == reverse("complaints:complaint-detail", args=[complaint.pk])
    assert ComplaintAttachment.objects.count() == 1 and len(list(tmp_path.rglob("*.pdf"))) == 1


@pytest.fixture
def handled(org, book):
    """A complaint of book.west, accepted with the west officer as handler and started."""
    c = complaint_services.complaint_register(
        actor=org.west_officer.user, customer=book.west, category=ComplaintCategory.objects.first(),
        channel="counter", request="退还手续费", facts="柜员未告知收费标准",
    )  # fmt: skip
    c = complaint_services.complaint_accept(actor=org.west_officer.user, complaint=c, handler=org.west_officer)
    return complaint_services.complaint_start(actor=org.west_officer.user, complaint=c)


def decided(org, c):
    return complaint_services.complaint_decide(
        actor=org.west_officer.user, complaint=c, decision="退费", customer_told_via="电话", remedies_told=True
    )


ACTION_CASES = {
    "note": ({"text": "已电话联系"}, lambda c: ComplaintEvent.objects.filter(complaint=c, kind="note").count()),
    "contact": (
        {"via": "电话", "text": "约定周五回复"},
        lambda c: ComplaintEvent.objects.filter(complaint=c, kind="contact").count(),
    ),
    "extend": (
        {"reason": "需调查", "customer_told_at": now_local(), "customer_told_via": "电话"},
        lambda c: ComplaintExtension.objects.filter(complaint=c).count(),
    ),
    "attach": ({}, lambda c: ComplaintAttachment.objects.filter(complaint=c).count()),
    "callback": (
        {"satisfaction": "5", "comment": "好"},
        lambda c: ComplaintEvent.objects.filter(complaint=c, kind="callback").count(),
    ),
}


@pytest.mark.parametrize("action", ACTION_CASES)
def test_a_complaint_action_that_adds_a_row_posted_twice_adds_it_once(org, handled, login, settings, tmp_path, action):
    settings.MEDIA_ROOT = tmp_path
    fields, count = ACTION_CASES[action]
    c = decided(org, handled) if action == "callback" else handled
    client = login(org.west_officer)
    url = reverse("complaints:complaint-detail", args=[c.pk])
    key = key_on(client.get(url), after=f'data-panel="{action}"')

    def data():
        upload = {"file": SimpleUploadedFile("note.pdf", b"%PDF-1.4 x", content_type="application/pdf")}
        return {"action": action, "submission_key": key, **fields, **(upload if action == "attach" else {})}

    first, second = client.post(url, data()), client.post(url, data())
    same_answer(first, second)
    assert first.status_code == 302 and count(c) == 1
    assert "该投诉当前不能执行此操作" not in client.get(url).content.decode()


def test_an_upload_posted_twice_is_queued_once(org, login, settings, tmp_path, monkeypatch):
    settings.FEED_UPLOAD_DIR = tmp_path / "uploads"
    monkeypatch.setattr(feed_tasks.run_load, "apply_async", lambda *a, **kw: None)
    client = login(org.admin)
    url = reverse("feed:load-upload")
    key = key_on(client.get(url))
    content = "cust_no|cust_type|name|branch_code\nC0001|P|王一|111\n".encode("gb18030")

    def data():
        upload = SimpleUploadedFile("CUST_20261130.txt", content)
        return {"file": upload, "kind": "CUST", "business_date": "2026-11-30", "submission_key": key}

    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False):
        first, second = client.post(url, data()), client.post(url, data())
    same_answer(first, second)
    load = Load.objects.get()
    assert first.url == reverse("feed:load-detail", args=[load.pk])
    assert [p.name for p in settings.FEED_UPLOAD_DIR.iterdir()] == [Path(load.path).name]  # one file kept


# ----------------------------------------------------------------------------------------------------------------
# The key's rules
# ----------------------------------------------------------------------------------------------------------------


def test_each_drawing_of_a_form_has_a_fresh_random_key(org, book, login):
    client = login(org.rm_west)
    url = reverse("relationships:interaction-create", args=[book.west.pk])
    keys = {key_on(client.get(url)) for _ in range(3)}
    assert len(keys) == 3 and all(uuid.UUID(k).version == 4 for k in keys)


def test_a_key_is_its_users_own(org, book, login):
    """The same key from another user is another submission: it neither replays nor shows the first user's
    record."""
    url = reverse("relationships:interaction-create", args=[book.west.pk])
    key = str(uuid.uuid4())
    login(org.rm_west).post(url, quick_log_data(notes="客户经理记录", submission_key=key))
    response = login(org.west_head).post(
        url, quick_log_data(notes="行长记录", submission_key=key), headers={"HX-Request": "true"}
    )
    assert "行长记录" in response.content.decode() and "客户经理记录" not in response.content.decode()
    assert sorted(Interaction.objects.values_list("staff__user__username", flat=True)) == ["rm_west", "west_head"]


def test_a_post_that_failed_leaves_its_key_free(org, book, login):
    client = login(org.rm_west)
    url = reverse("relationships:interaction-create", args=[book.west.pk])
    key = key_on(client.get(url))
    refused = client.post(url, quick_log_data(occurred_at="2999-01-01T10:00", submission_key=key))
    assert refused.status_code == 200 and "不能是未来" in refused.content.decode()
    assert key_on(refused) == key  # the form drawn again keeps its key
    assert not Interaction.objects.exists() and not SubmissionKey.objects.exists()
    assert client.post(url, quick_log_data(submission_key=key)).status_code == 302
    assert Interaction.objects.count() == 1


def test_a_service_refusal_also_leaves_the_key_free(org, book, login):
    """The reassignment service refuses a customer already in a pending request: nothing is kept, key included."""
    client = login(org.rm_west)
    url = reverse("relationships:reassignment-create")
    relationship_services.reassignment_request(
        actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="先前的申请"
    )
    key = str(uuid.uuid4())
    data = {"customer": [book.west.pk], "to_staff": org.rm_west2.pk, "reason": "客户搬家", "submission_key": key}
    response = client.post(url, data)
    assert response.status_code == 200 and "待审批" in response.content.decode()
    assert not SubmissionKey.objects.exists() and ReassignmentRequest.objects.count() == 1


@pytest.mark.parametrize("key", [None, "", "not-a-uuid"])
def test_a_post_without_a_usable_key_still_works(org, book, login, key):
    """An old page or a client that sends no key: each post is a submission of its own, as before."""
    client = login(org.rm_west)
    url = reverse("relationships:interaction-create", args=[book.west.pk])
    data = quick_log_data() | ({} if key is None else {"submission_key": key})
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert Interaction.objects.count() == 2


def test_a_key_already_used_by_another_form_is_a_form_error(org, book, login):
    """A key replayed onto another kind of form (only a forged post does that) is refused: never a 500, never a
    row of the other kind."""
    customer = CustomerFactory(primary_rm=org.rm_west2)
    client = login(org.west_head)
    key = str(uuid.uuid4())
    url = reverse("relationships:interaction-create", args=[customer.pk])
    client.post(url, quick_log_data(submission_key=key))
    response = client.post(
        reverse("relationships:rating-create", args=[customer.pk]), {"score": "5", "submission_key": key}, follow=True
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["success", "error"]  # the log, then this
    assert not SatisfactionRating.objects.exists() and Interaction.objects.count() == 1


def test_old_keys_are_purged_by_the_nightly_housekeeping(org, book):
    rows = {}
    for days in (8, 6):
        with time_machine.travel(timezone.now() - timedelta(days=days)):
            rows[days] = SubmissionKey.objects.create(user=org.rm_west.user, key=uuid.uuid4())
    assert purge_expired_sessions()["submission_keys"] == 1
    assert list(SubmissionKey.objects.values_list("pk", flat=True)) == [rows[6].pk]


# ----------------------------------------------------------------------------------------------------------------
# Two posts at the same moment, on PostgreSQL
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_of_the_quick_log_make_one_interaction_and_one_follow_up(org, book, monkeypatch):
    """Two connections post the same form. The second starts while the first is inside its transaction (the
    interaction written, not yet committed), waits on the key's unique index, and answers with the first result."""
    inside, answers, errors = threading.Event(), {}, []
    real = relationship_services.interaction_log

    def slow_log(**kwargs):
        interaction = real(**kwargs)
        inside.set()
        time.sleep(0.5)  # hold the first transaction open while the second post arrives
        return interaction

    monkeypatch.setattr(relationship_views.services, "interaction_log", slow_log)
    url = reverse("relationships:interaction-create", args=[book.west.pk])
    data = quick_log_data(submission_key=str(uuid.uuid4()))

    def post(name):
        try:
            client = Client()
            client.force_login(org.rm_west.user)
            started = time.monotonic()
            response = client.post(url, data, headers={"HX-Request": "true"})
            answers[name] = (response.status_code, response.content, time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=post, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=post, args=("second",))
    second.start()
    first.join(20)
    second.join(20)
    assert errors == []
    assert answers["first"][0] == answers["second"][0] == 200
    assert answers["first"][1] == answers["second"][1]  # the same success fragment
    assert b'data-testid="quick-log-done"' in answers["second"][1]
    assert Interaction.objects.count() == 1 and FollowUp.objects.count() == 1
    assert SubmissionKey.objects.count() == 1


# ----------------------------------------------------------------------------------------------------------------
# The buttons
# ----------------------------------------------------------------------------------------------------------------


def test_htmx_forms_disable_their_buttons_while_in_flight():
    for template, count in [
        ("relationships/partials/_quick_log.html", 1),
        ("reminders/partials/_follow_up.html", 3),
        ("customers/partials/_reveal.html", 1),
    ]:
        text = (ROOT / "templates" / template).read_text()
        assert text.count("hx-post=") == text.count("hx-disabled-elt=") == count, template


def test_plain_forms_disable_their_buttons_from_a_static_script(org, login):
    page = login(org.rm_west).get(reverse("relationships:visit-plan-create")).content.decode()
    assert re.search(r'<script src="[^"]*js/submit-once(\.[0-9a-f]+)?\.js"></script>', page)
    assert (ROOT / "static" / "js" / "submit-once.js").exists()
