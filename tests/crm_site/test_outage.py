"""Availability: the site against a real Redis server that the test stops (connection refused) and hangs (SIGSTOP:
connections accepted, nothing answered), and against a database where nothing listens.

With Redis unreachable every page of every role answers as it does with Redis up, each within a second; signing
in works; a quick log, a complaint registration, a reassignment's approval and an upload are saved, each within a
second; and the work their tasks would have done is found by the periodic sweeps. A dependency that is down
escaping a view or a middleware is a 503 with ``Retry-After`` on the site's own page; any other error is a 500."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from datetime import timedelta

import kombu.pools
import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintCategory
from crm_site.celery import app
from customers.models import Customer
from feed import inbox
from feed.models import Load
from opportunities import services as opportunity_services
from relationships import services
from relationships.models import Interaction
from reminders import services as reminder_services
from reminders.models import FollowUp
from tests.factories import TEST_PASSWORD
from tests.urlwalk import all_urls

pytestmark = pytest.mark.slow

BUDGET = 1.0  # seconds: what any request may take with Redis refused or hung
WHO = ("rm_west", "west_head", "west_officer", "admin")
NOTHING_LISTENS = 16389  # a port of the test's own range where no server is started


def _port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 16381 + int(worker.removeprefix("gw") or 0) % 8


class RedisServer:
    """A redis-server of the test's own: started, stopped (SIGTERM), hung (SIGSTOP) and resumed (SIGCONT)."""

    def __init__(self, port: int, folder) -> None:
        self.port, self.folder, self.process = port, folder, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(5)

    def hang(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def queued(self) -> int:
        return redis.Redis.from_url(self.url, socket_timeout=1).llen(app.conf.task_default_queue)


@pytest.fixture
def redis_server(tmp_path, settings):
    """A Redis of the test's own as the site's cache and broker, with the production timeouts."""
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("needs redis-server")
        pytest.skip("needs redis-server")
    server = RedisServer(_port(), tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "crm_site.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "crm-outage",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, "breaker_seconds": 5},
        }
    }
    settings.BROKER_PUBLISH_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.15, "socket_timeout": 0.15}
    settings.BROKER_PUBLISH_BREAKER_SECONDS = 5
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = server.url
    app.conf.broker_transport_options = {"socket_connect_timeout": 2, "socket_timeout": 5}
    yield server
    app.conf.broker_url, app.conf.broker_transport_options = saved
    kombu.pools.reset()
    if server.process.poll() is None:
        server.stop()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# ----------------------------------------------------------------------------------------------------------------
# Every page of every role
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture
def records(org, book, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    interaction = services.interaction_log(actor=org.rm_west.user, customer=book.west)
    request = services.reassignment_request(
        actor=org.rm_west.user, customers=[book.west], to_staff=org.rm_west2, reason="r"
    )
    plan = services.visit_plan_create(
        actor=org.rm_west.user,
        planned_on=timezone.localdate() + timedelta(days=1),
        customers=[book.west],
        purpose="care",
    )
    services.visit_plan_submit(actor=org.rm_west.user, plan=plan)
    services.staff_mark_leaving(
        actor=org.west_head.user, staff=org.rm_west2, last_day=timezone.localdate() + timedelta(days=30)
    )
    handover = services.handover_start(
        actor=org.west_head.user, leaver=org.rm_west2, targets=[org.rm_west], method="even"
    )
    complaint = complaint_services.complaint_register(
        actor=org.west_officer.user,
        customer=book.west,
        category=ComplaintCategory.objects.get(code="01"),
        channel="counter",
        request="退费",
        facts="多收手续费",
        attachments=[SimpleUploadedFile("信.pdf", b"%PDF-1.4 letter")],
    )
    load = Load.objects.create(
        kind="CUST",
        business_date=timezone.localdate(),
        file_name="CUST.txt",
        sha256="ab" * 32,
        size_bytes=1,
        source=Load.Source.INBOX,
        status=Load.Status.LOADED,
    )
    from marketing.services import segment_create

    segment = segment_create(
        actor=org.west_head.user, name="衰退客户", params={"lifecycle": ["declining"]}, visibility="shared"
    )
    opportunity = opportunity_services.opportunity_create(
        actor=org.rm_west.user, customer=book.west, amount="200000", expected_on=timezone.localdate(),
        product_category="wealth",
    )  # fmt: skip
    return {
        "segment": segment.pk,
        "opportunity": opportunity.pk,
        "customer": book.west.pk,
        "interaction": interaction.pk,
        "reassignment": request.pk,
        "plan": plan.pk,
        "handover": handover.pk,
        "complaint": complaint.pk,
        "attachment": complaint.attachments.get().pk,
        "staff": org.rm_west.pk,
        "load": load.pk,
    }


# The record each path argument names, by the path's prefix (the URL walk fills in the rest).
ARGUMENTS = {
    "/customers/": "customer",
    "/interactions/": "interaction",
    "/reassignments/": "reassignment",
    "/visits/plans/": "plan",
    "/handovers/": "handover",
    "/complaints/": "complaint",
    "/staff/": "staff",
    "/performance/": "staff",
    "/feed/": "load",
    "/marketing/segments/": "segment",
    "/opportunities/": "opportunity",
}
SKIPPED = {"logout", "set_language"}  # POST-only and changing the client's state; the sign-in is tested below


def site_pages(records) -> list[tuple[str, str]]:
    """(URL name, URL) of every page of the project outside Django admin, with real records for its arguments."""
    return [
        (name, _with_records(path, records))
        for path, name, _view in all_urls()
        if not name.startswith("admin:") and name not in SKIPPED
    ]


def _with_records(path: str, records) -> str:
    if path == "/complaints/1/attachments/1/":
        return f"/complaints/{records['complaint']}/attachments/{records['attachment']}/"
    for prefix, record in ARGUMENTS.items():
        if path.startswith(prefix + "1/"):
            return f"{prefix}{records[record]}/{path[len(prefix) + 2 :]}"
    return path


def walk(org, pages) -> dict[tuple[str, str], tuple[int, float]]:
    """Every page for every role: (status, seconds). A page slower than the budget is asked again, twice at most,
    and its fastest answer counts: a busy test machine can stall one request, while waiting on a hung Redis (a
    socket timeout in every request) would make every attempt slow."""
    answers = {}
    for who in WHO:
        client = Client()
        client.force_login(getattr(org, who).user)
        for name, url in pages:
            for _attempt in range(3):
                response, seconds = timed(lambda url=url, client=client: client.get(url))
                fastest = min(seconds, answers.get((who, name), (0, seconds))[1])
                answers[who, name] = (response.status_code, fastest)
                if fastest <= BUDGET:
                    break
    return answers


def sign_in_works(org) -> float:
    client = Client()
    response, seconds = timed(
        lambda: client.post(reverse("login"), {"username": org.rm_west.user.username, "password": TEST_PASSWORD})
    )
    assert response.status_code == 302 and response.url == reverse("home"), response.status_code
    assert client.get(reverse("reminders:today")).status_code == 200
    return seconds


def test_the_walk_covers_every_page_of_the_project(records):
    names = {name for name, _url in site_pages(records)}
    expected = {n for _p, n, _v in all_urls() if not n.startswith("admin:")} - SKIPPED
    assert names == expected
    assert {"home", "customers:customer-detail", "dashboards:dashboard", "complaints:complaint-create"} <= names


def test_every_page_of_every_role_answers_with_redis_refused_or_hung(org, records, redis_server, caplog):
    pages = site_pages(records)
    up = walk(org, pages)
    opened = [key for key, (status, _s) in up.items() if status == 200]
    assert len(opened) >= 90 and {who for who, _ in opened} == set(WHO)  # the walk really opens pages
    sign_in_works(org)

    redis_server.hang()
    try:
        hung = walk(org, pages)
        hung_sign_in = sign_in_works(org)
    finally:
        redis_server.resume()
    redis_server.stop()
    refused = walk(org, pages)
    refused_sign_in = sign_in_works(org)

    for outage, answers in (("hung", hung), ("refused", refused)):
        changed = {key: (up[key][0], answers[key][0]) for key in up if answers[key][0] != up[key][0]}
        assert changed == {}, (outage, changed)
        slow = {key: round(seconds, 2) for key, (_status, seconds) in answers.items() if seconds > BUDGET}
        assert slow == {}, (outage, slow)
    assert hung_sign_in < BUDGET and refused_sign_in < BUDGET
    outages = [r for r in caplog.records if r.name == "crm_site.cache" and "unreachable" in r.getMessage()]
    assert 1 <= len(outages) <= 2  # logged when an outage starts, not on every call


# ----------------------------------------------------------------------------------------------------------------
# Work done during an outage, and the sweeps
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outage", ["refused", "hung"])
def test_work_done_during_an_outage_is_saved_and_the_sweeps_catch_up(
    org, book, redis_server, settings, tmp_path, outage, caplog
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FEED_UPLOAD_DIR = tmp_path / "uploads"
    # A customer of a year's standing, never contacted: due a 定期回访 follow-up from whoever looks after them.
    Customer.objects.filter(pk=book.west2.pk).update(created_at=timezone.now() - timedelta(days=400))
    request = services.reassignment_request(
        actor=org.rm_west2.user, customers=[book.west2], to_staff=org.rm_west, reason="调整"
    )
    rm, head, officer, admin = Client(), Client(), Client(), Client()
    for client, staff in ((rm, org.rm_west), (head, org.west_head), (officer, org.west_officer), (admin, org.admin)):
        client.force_login(staff.user)
    if outage == "hung":
        redis_server.hang()
    else:
        redis_server.stop()
    try:
        quick_log, quick_log_seconds = timed(
            lambda: rm.post(
                reverse("relationships:interaction-create", args=[book.west.pk]),
                {"channel": "visit", "purpose": "maintenance", "outcome": "reached",
                 "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "notes": "上门拜访"},
            )
        )  # fmt: skip
        registration, registration_seconds = timed(
            lambda: officer.post(
                reverse("complaints:complaint-create"),
                {"customer": book.west.pk, "complainant_kind": "customer", "channel": "counter",
                 "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                 "category": ComplaintCategory.objects.get(code="01").pk, "severity": "major",
                 "request": "退费", "facts": "多收手续费"},
            )
        )  # fmt: skip
        approval, approval_seconds = timed(
            lambda: head.post(reverse("relationships:reassignment-detail", args=[request.pk]), {"action": "approve"})
        )
        upload, upload_seconds = timed(
            lambda: admin.post(
                reverse("feed:load-upload"),
                {"file": SimpleUploadedFile("CUST_20261130.txt", b"cust_no|cust_type|name|branch_code\n"),
                 "kind": "CUST", "business_date": "2026-11-30"},
            )
        )  # fmt: skip
    finally:
        if outage == "hung":
            redis_server.resume()

    assert [r.status_code for r in (quick_log, registration, approval, upload)] == [302, 302, 302, 302]
    seconds = {"quick log": quick_log_seconds, "registration": registration_seconds}
    seconds |= {"approval": approval_seconds, "upload": upload_seconds}
    assert max(seconds.values()) < BUDGET, seconds
    # Saved: the contact, the complaint (a major one is escalated at once, without the broker), the move.
    assert Interaction.objects.filter(customer=book.west, notes="上门拜访").exists()
    complaint = Complaint.objects.get(severity=Complaint.Severity.MAJOR)
    assert complaint.major_escalated_at is not None
    book.west2.refresh_from_db()
    assert book.west2.primary_rm == org.rm_west
    # The tasks the approval and the upload fired were not handed over, and the outage was logged.
    assert any("not enqueued" in r.getMessage() for r in caplog.records if r.name == "crm_site.celery")
    load = Load.objects.get(source=Load.Source.UPLOAD)
    assert load.status == Load.Status.QUEUED and "inbox sweep" in load.message_en

    # The sweeps find what the tasks would have done.
    assert not FollowUp.objects.filter(customer=book.west2, staff=org.rm_west).exists()
    reminder_services.reminders_generate()
    assert FollowUp.objects.filter(customer=book.west2, staff=org.rm_west).exists()
    assert complaint_services.escalate_due() == {"overdue": 0, "major": 0}  # nothing left over
    assert load.pk in inbox.queued_uploads(now=timezone.now() + inbox.QUEUED_AFTER + timedelta(seconds=1))


@pytest.mark.django_db(transaction=True)
def test_with_redis_up_the_approval_hands_its_task_to_the_broker(org, book, redis_server):
    """The other side of the test above: the task the sweeps stand in for is really sent when Redis is up."""
    request = services.reassignment_request(
        actor=org.rm_west2.user, customers=[book.west2], to_staff=org.rm_west, reason="调整"
    )
    head = Client()
    head.force_login(org.west_head.user)
    assert (
        head.post(reverse("relationships:reassignment-detail", args=[request.pk]), {"action": "approve"}).status_code
        == 302
    )
    assert redis_server.queued() == 1


# ----------------------------------------------------------------------------------------------------------------
# 503 with Retry-After for a dependency that is down; 500 for a defect
# ----------------------------------------------------------------------------------------------------------------


def _on_a_dead_database(django_db_blocker, requests):
    """Run ``requests(client)`` in a thread whose database connection points at a port where nothing listens."""
    from django.db import connections

    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", NOTHING_LISTENS)) != 0, "something listens on the test's dead port"
    results, errors = [], []

    def run():
        connection = connections["default"]
        connection.settings_dict = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": NOTHING_LISTENS}
        try:
            results.extend(requests(Client(raise_request_exception=False)))
        except BaseException as exc:  # noqa: BLE001 - reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    with django_db_blocker.unblock():
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(30)
    assert not errors, errors
    return results


@pytest.mark.postgres
def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after(django_db_blocker, settings):
    assert settings.DEBUG is False

    def requests(client):
        signed_in = Client(raise_request_exception=False)
        signed_in.cookies["sessionid"] = "x" * 32  # a session to load: a middleware asks the database
        return [
            timed(lambda: signed_in.get(reverse("reminders:today"))),
            timed(lambda: client.post(reverse("login"), {"username": "rm_west", "password": TEST_PASSWORD})),
        ]

    answers = _on_a_dead_database(django_db_blocker, requests)
    assert len(answers) == 2
    for response, seconds in answers:
        assert response.status_code == 503 and seconds < BUDGET
        assert response["Retry-After"] == "30"
        body = response.content.decode()
        assert 'lang="zh-hans"' in body and "Traceback" not in body
        assert "暂时无法使用" in body or "The CRM is briefly unavailable" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "status"),
    [
        (redis.exceptions.ConnectionError("Connection refused"), 503),
        (redis.exceptions.TimeoutError("Timeout reading from socket"), 503),
        (__import__("kombu").exceptions.OperationalError("broker down"), 503),
        (__import__("django.db").db.InterfaceError("connection already closed"), 503),
        (RuntimeError("a defect"), 500),
        (KeyError("a defect"), 500),
    ],
    ids=["redis-refused", "redis-timeout", "broker", "db-closed", "runtime-error", "key-error"],
)
def test_a_dependency_down_in_a_view_is_503_and_a_defect_is_500(org, monkeypatch, error, status):
    from crm_site import views

    def broken(self, request, *args, **kwargs):
        raise error

    monkeypatch.setattr(views.HomeView, "get", broken)
    client = Client(raise_request_exception=False)
    client.force_login(org.rm_west.user)
    response = client.get(reverse("home"))
    assert response.status_code == status
    assert ("Retry-After" in response) is (status == 503)
    page = response.content.decode()
    assert ("请稍后" in page or "try again" in page) and "a defect" not in page


def test_a_dependency_error_raised_from_another_is_still_an_outage():
    from django.db import OperationalError

    from crm_site.errors import is_outage

    try:
        try:
            raise OperationalError("could not connect to server")
        except OperationalError as exc:
            raise ValueError("could not build the page") from exc
    except ValueError as wrapped:
        assert is_outage(wrapped)
    assert not is_outage(ValueError("a defect"))


# ----------------------------------------------------------------------------------------------------------------
# The cache backend
# ----------------------------------------------------------------------------------------------------------------


def test_the_cache_is_a_miss_while_redis_is_hung_and_asks_again_after_the_breaker(redis_server, settings, caplog):
    from django.core.cache import cache

    settings.CACHES["default"]["OPTIONS"]["breaker_seconds"] = 0.5
    settings.CACHES = {**settings.CACHES}  # the cache is built again with the shorter breaker
    cache.set("k", "v")
    assert cache.get("k") == "v"
    redis_server.hang()
    try:
        first, first_seconds = timed(lambda: cache.get("k", "default"))
        calls, calls_seconds = timed(
            lambda: [cache.get("k"), cache.set("k", 1), cache.add("n", 1), cache.delete("k"), cache.get_many(["k"]),
                     cache.has_key("k"), cache.touch("k"), cache.set_many({"a": 1, "b": 2}), cache.get_or_set("k", 2)]
        )  # fmt: skip
        with pytest.raises(ValueError):
            cache.incr("n")  # as for a key that is not there
        time.sleep(0.6)
        _, retry_seconds = timed(lambda: cache.get("k"))
    finally:
        redis_server.resume()
    assert first == "default" and 0.15 < first_seconds < 0.5  # one socket timeout, no retries
    assert calls == [None, None, False, False, {}, False, False, ["a", "b"], 2] and calls_seconds < 0.05
    assert 0.15 < retry_seconds < 0.5  # asked again once the breaker's time was up
    assert cache.get("k") is None  # the breaker is open again after the failed retry: Redis is not asked
    time.sleep(0.6)
    assert cache.get("k") == "v"  # then Redis is back: the value it kept is read again
    messages = [r.getMessage() for r in caplog.records if r.name == "crm_site.cache"]
    assert len(messages) == 2 and "unreachable" in messages[0] and "reachable again" in messages[1]
