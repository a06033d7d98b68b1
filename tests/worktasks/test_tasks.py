"""Tasks (任务下发 / 督办): creation over RMs and customer selections, completion, cancel, the reminder job, the pages
and who may open them."""

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Customer
from notifications.models import Notification
from organisation.models import Staff
from pool.models import PoolKeeper
from relationships.models import Interaction
from tests.factories import CustomerFactory, StaffFactory
from worktasks import services
from worktasks.models import Task, TaskLine
from worktasks.tasks import task_due_reminders

TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 10, 9, 0)), tick=False):
        yield


def _pool_customer(outlet, **kw):
    return CustomerFactory(primary_rm=None, branch=outlet, **kw)


def _create(actor, **kw):
    kw.setdefault("title", "回访高净值客户")
    kw.setdefault("due_on", TODAY + timedelta(days=5))
    return services.task_create(actor=actor, **kw)


# --- creation -------------------------------------------------------------------------------------------------


def test_a_customer_list_is_split_by_portfolio_and_pool_customers_go_to_the_keeper(org, book):
    head_of_outlet = StaffFactory(branch=org.west_outlet, role=Staff.Role.HEAD, name="网点长")
    pooled = _pool_customer(org.west_outlet)
    orphan = _pool_customer(org.west_outlet2)  # no keeper, no head at that outlet
    task = _create(org.west_head.user, customers=[book.west.pk, book.west2.pk, book.corporate.pk, pooled.pk, orphan.pk])
    lines = {(line.customer_id, line.assignee_id) for line in TaskLine.objects.filter(task=task)}
    assert lines == {
        (book.west.pk, org.rm_west.pk),
        (book.corporate.pk, org.rm_west.pk),
        (book.west2.pk, org.rm_west2.pk),
        (pooled.pk, head_of_outlet.pk),
    }
    assert (task.lines_total, task.customers_unowned) == (4, 1)
    # A named keeper takes over from the head.
    keeper = StaffFactory(branch=org.west_outlet, role=Staff.Role.RM)
    PoolKeeper.objects.create(branch=org.west_outlet, staff=keeper, named_at=timezone.now())
    task2 = _create(org.west_head.user, customers=[pooled.pk])
    assert TaskLine.objects.get(task=task2).assignee == keeper


def test_a_task_for_rms_has_one_line_each(org):
    task = _create(org.west_head.user, assignees=[org.rm_west, org.rm_west2])
    assert sorted(TaskLine.objects.filter(task=task).values_list("assignee_id", flat=True)) == sorted(
        [org.rm_west.pk, org.rm_west2.pk]
    )
    assert task.lines_total == 2 and task.branch == org.west


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"due_on": TODAY - timedelta(days=1)}, "in the past"),
        ({"title": "x" * 101}, "title"),
        ({"instructions": "x" * 2001}, "instructions"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(org, kw, message):
    with pytest.raises(ValidationError) as e:
        _create(org.west_head.user, assignees=[org.rm_west], **kw)
    assert message in str(e.value)
    assert not Task.objects.exists()


def test_an_rm_outside_scope_and_a_customer_outside_scope_are_refused(org, book):
    with pytest.raises(ValidationError, match="your own branches"):
        _create(org.west_head.user, assignees=[org.rm_east])
    with pytest.raises(ValidationError, match="not in your scope"):
        _create(org.west_head.user, customers=[book.west.pk, book.east.pk])
    with pytest.raises(ValidationError, match="Choose the RMs"):
        _create(org.west_head.user, customers=[])
    assert not Task.objects.exists() and not TaskLine.objects.exists()


def test_only_heads_and_admins_create(org):
    with pytest.raises(PermissionDenied):
        _create(org.rm_west.user, assignees=[org.rm_west2])
    with pytest.raises(PermissionDenied):
        _create(org.west_officer.user, assignees=[org.rm_west2])


@pytest.mark.postgres
def test_ten_thousand_customers_in_a_few_statements(org, django_assert_max_num_queries):
    rm = org.rm_west
    Customer.objects.bulk_create(
        [
            Customer(
                customer_no=f"T{i:07d}",
                kind="individual",
                name=f"客户{i}",
                branch=org.west_outlet,
                primary_rm=rm if i % 5 else None,
            )  # fmt: skip
            for i in range(10_000)
        ],
        batch_size=2_000,
    )
    head = StaffFactory(branch=org.west_outlet, role=Staff.Role.HEAD)
    qs = Customer.objects.filter(customer_no__startswith="T")
    # The savepoint, actor checks, the scope's branches, the task, ONE insert of every line, the unowned count,
    # the totals, the release: the same for 10 customers or 10,000.
    with django_assert_max_num_queries(12):
        task = _create(org.west_head.user, customers=qs)
    assert task.lines_total == 10_000
    assert TaskLine.objects.filter(task=task, assignee=head).count() == 2_000
    # Run again over the same task (a retry): nothing more.
    assert services._insert_customer_lines(task, qs)[0] == 0


# --- completion and cancel ----------------------------------------------------------------------------------------


def test_completing_a_customer_line_logs_the_contact_and_the_last_line_completes_the_task(org, book):
    task = _create(org.west_head.user, customers=[book.west.pk, book.corporate.pk])
    first, second = TaskLine.objects.filter(task=task).order_by("pk")
    services.task_line_complete(actor=org.rm_west.user, line=first, channel="phone", notes="已电话回访")
    first.refresh_from_db()
    assert first.interaction.customer == book.west and first.interaction.channel == "phone"
    task.refresh_from_db()
    assert (task.lines_done, task.status) == (1, Task.Status.OPEN)
    with pytest.raises(ValidationError, match="already done"):
        services.task_line_complete(actor=org.rm_west.user, line=first)
    services.task_line_complete(actor=org.rm_west.user, line=second)
    task.refresh_from_db()
    assert (task.lines_done, task.status) == (2, Task.Status.DONE)
    assert Interaction.objects.count() == 2


def test_a_bad_contact_leaves_the_line_open(org, book):
    task = _create(org.west_head.user, customers=[book.west.pk])
    line = TaskLine.objects.get(task=task)
    with pytest.raises(ValidationError):
        services.task_line_complete(actor=org.rm_west.user, line=line, occurred_at=timezone.now() + timedelta(days=2))
    line.refresh_from_db()
    assert line.done_at is None and not Interaction.objects.exists()


def test_a_line_without_customer_is_completed_with_a_note_by_its_assignee_only(org):
    task = _create(org.west_head.user, assignees=[org.rm_west])
    line = TaskLine.objects.get(task=task)
    with pytest.raises(PermissionDenied):
        services.task_line_complete(actor=org.rm_west2.user, line=line, note="做完了")
    with pytest.raises(ValidationError, match="Say what was done"):
        services.task_line_complete(actor=org.rm_west.user, line=line, note="")
    services.task_line_complete(actor=org.rm_west.user, line=line, note="已整理名单")
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_cancel_by_the_creator_or_a_head_above_not_by_a_peer(org):
    task = _create(org.west_head.user, assignees=[org.rm_west])
    with pytest.raises(PermissionDenied):
        services.task_cancel(actor=org.east_head.user, task=task)
    services.task_cancel(actor=org.top_head.user, task=task)
    task.refresh_from_db()
    assert task.status == Task.Status.CANCELLED and task.cancelled_by == org.top_head
    with pytest.raises(ValidationError, match="Only an open task"):
        services.task_cancel(actor=org.west_head.user, task=task)
    line = TaskLine.objects.get(task=task)
    with pytest.raises(ValidationError, match="cancelled"):
        services.task_line_complete(actor=org.rm_west.user, line=line, note="做完了")


# --- the reminder job -------------------------------------------------------------------------------------------


def test_the_morning_before_each_assignee_is_told_once(org, book, django_assert_num_queries):
    due = TODAY + timedelta(days=1)
    a = _create(org.west_head.user, customers=[book.west.pk, book.corporate.pk, book.west2.pk], due_on=due)
    _create(org.west_head.user, assignees=[org.rm_west], due_on=due, title="整理名单")
    _create(org.west_head.user, assignees=[org.rm_west2], due_on=due + timedelta(days=1))  # not tomorrow
    TaskLine.objects.filter(task=a, assignee=org.rm_west2).update(done_at=timezone.now())  # rm_west2 is done
    # The savepoint, the tasks, the pairs, one insert per distinct text, the mark, the release.
    with django_assert_num_queries(6):
        result = services.task_due_reminders(today=TODAY)
    assert result == {"tasks": 2, "notified": 1}
    note = Notification.objects.get()
    assert note.recipient == org.rm_west and "2" in note.text
    assert task_due_reminders.run(day=TODAY.isoformat()) == {"tasks": 0, "notified": 0}
    assert Notification.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_once(org):
    _create(org.west_head.user, assignees=[org.rm_west, org.rm_west2], due_on=TODAY + timedelta(days=1))
    results, barrier = [], threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            results.append(services.task_due_reminders(today=TODAY)["notified"])
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 2]
    assert Notification.objects.count() == 2


# --- pages --------------------------------------------------------------------------------------------------------


def _staff_matrix(org):
    no_staff_user = StaffFactory(branch=org.west, role=Staff.Role.RM)
    return {
        "rm": org.rm_west,
        "outlet head": StaffFactory(branch=org.west_outlet, role=Staff.Role.HEAD),
        "sub-branch head": org.west_head,
        "branch head": org.top_head,
        "officer": org.west_officer,
        "admin": org.admin,
        "left": no_staff_user,
    }


PAGES = {
    # name: {role: status}
    "task-list": {
        "rm": 200,
        "outlet head": 200,
        "sub-branch head": 200,
        "branch head": 200,
        "officer": 403,
        "admin": 200,
    },  # fmt: skip
    "task-create": {
        "rm": 403,
        "outlet head": 200,
        "sub-branch head": 200,
        "branch head": 200,
        "officer": 403,
        "admin": 200,
    },  # fmt: skip
    "task-detail": {
        "rm": 200,
        "outlet head": 404,
        "sub-branch head": 200,
        "branch head": 200,
        "officer": 403,
        "admin": 200,
    },  # fmt: skip
    "line-complete": {
        "rm": 200,
        "outlet head": 404,
        "sub-branch head": 404,
        "branch head": 404,
        "officer": 403,
        "admin": 404,
    },  # fmt: skip
}


def test_role_by_url_matrix(org, book, client):
    staff = _staff_matrix(org)
    Staff.objects.filter(pk=staff["left"].pk).update(status=Staff.Status.LEFT, left_on=TODAY)
    task = _create(org.west_head.user, customers=[book.west.pk])
    line = TaskLine.objects.get(task=task)
    urls = {
        "task-list": reverse("worktasks:task-list"),
        "task-create": reverse("worktasks:task-create"),
        "task-detail": reverse("worktasks:task-detail", args=[task.pk]),
        "line-complete": reverse("worktasks:line-complete", args=[line.pk]),
    }
    for page, expected in PAGES.items():
        for role, status in expected.items():
            client.force_login(staff[role].user)
            assert client.get(urls[page]).status_code == status, (page, role)
        client.force_login(staff["left"].user)
        assert client.get(urls[page]).status_code == 403, (page, "left")
        client.logout()
        assert client.get(urls[page]).status_code == 302, (page, "anonymous")
    # Another RM: the task is not theirs.
    client.force_login(org.rm_west2.user)
    assert client.get(urls["task-detail"]).status_code == 404
    assert client.get(urls["line-complete"]).status_code == 404


def test_create_page_posts_a_task_over_the_ticked_customers_once(org, book, login):
    client = login(org.west_head)
    page = client.get(reverse("worktasks:task-create"), {"customer": [book.west.pk, book.west2.pk]})
    assert page.status_code == 200
    key = page.context["form"]["submission_key"].value()
    data = {"title": "三月回访", "due_on": "2026-03-20", "priority": "high", "instructions": "",
            "customer": [book.west.pk, book.west2.pk], "submission_key": key}  # fmt: skip
    first = client.post(reverse("worktasks:task-create"), data)
    second = client.post(reverse("worktasks:task-create"), data)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Task.objects.count() == 1 and TaskLine.objects.count() == 2


def test_create_page_over_the_list_filter_carries_the_search_as_a_token(org, book, login):
    client = login(org.west_head)
    listed = client.post(reverse("customers:customer-list"), {"q": "王西"})
    assert listed.status_code == 303 and "s=" in listed["Location"] and "王" not in listed["Location"]
    query = listed["Location"].split("?", 1)[1]
    page = client.get(reverse("worktasks:task-create") + "?from=list&" + query)
    assert page.status_code == 200 and page.context["count"] == 1
    data = {"title": "名单任务", "due_on": "2026-03-20", "priority": "medium",
            "list_query": page.context["form"]["list_query"].value()}  # fmt: skip
    response = client.post(reverse("worktasks:task-create"), data)
    assert response.status_code == 302
    assert list(TaskLine.objects.values_list("customer_id", flat=True)) == [book.west.pk]


def test_create_page_errors_are_shown_in_english_and_nothing_is_written(org, book, login):
    client = login(org.west_head)
    with translation.override("en"):
        response = client.post(
            reverse("worktasks:task-create"),
            {"title": "x", "due_on": "2026-03-01", "priority": "medium", "assignees": [org.rm_west.pk]},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        assert "in the past" in response.content.decode()
        response = client.post(
            reverse("worktasks:task-create"),
            {"title": "x", "due_on": "2026-03-20", "priority": "medium", "customer": [book.east.pk]},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert "not in your scope" in response.content.decode()
        response = client.get(reverse("worktasks:task-create"), {"from": "selection"}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302
    assert not Task.objects.exists()


def test_line_complete_page_logs_and_completes(org, book, login):
    task = _create(org.west_head.user, customers=[book.west.pk])
    line = TaskLine.objects.get(task=task)
    client = login(org.rm_west)
    url = reverse("worktasks:line-complete", args=[line.pk])
    form = client.get(url, HTTP_HX_REQUEST="true")
    assert f'action="{url}"' in form.content.decode()
    data = {"channel": "phone", "purpose": "maintenance", "outcome": "reached", "occurred_at": "2026-03-10 08:30",
            "notes": "好", "submission_key": form.context["form"]["submission_key"].value()}  # fmt: skip
    done = client.post(url, data, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and b"quick-log-done" in done.content
    again = client.post(url, data, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and b"quick-log-done" in again.content
    line.refresh_from_db()
    assert line.done_at is not None and Interaction.objects.count() == 1


def test_today_shows_the_tasks_and_the_dashboard_flags_the_overdue(org, book, login):
    task = _create(org.west_head.user, customers=[book.west.pk, book.corporate.pk])
    page = login(org.rm_west).get(reverse("reminders:today"))
    assert [t.task for t in page.context["today_tasks"]] == [task]
    assert page.context["today_tasks"][0].open == 2 and len(page.context["today_tasks"][0].customers) == 2
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 20, 9, 0)), tick=False):
        board = login(org.west_head).get(reverse("dashboards:dashboard"))
        assert board.context["tasks_overdue"] == 2
        assert b"dashboard-tasks-overdue" in board.content
        east = login(org.east_head).get(reverse("dashboards:dashboard"))
        assert east.context["tasks_overdue"] == 0
        listed = login(org.west_head).get(reverse("worktasks:task-list"), {"state": "overdue"})
        assert list(listed.context["page_obj"]) == [task]


# --- query pins: the same count whatever the number of rows ---------------------------------------------------------


def _many(org, n):
    customers = [CustomerFactory(primary_rm=org.rm_west) for _ in range(n)]
    for i in range(n):
        _create(org.west_head.user, customers=[c.pk for c in customers[: i + 1]], title=f"任务{i}")
    return customers


# Whole requests (session, user and staff, the bell, the session's save included), pinned for 1 and for 4 tasks.
PINS = {"task list (head)": 9, "task page (head)": 11, "task create form": 9, "task page (rm)": 10, "today (rm)": 11}


@pytest.mark.parametrize("n", [1, 4])
def test_page_query_counts_do_not_grow_with_rows(org, login, n):
    from django.test.utils import CaptureQueriesContext

    _many(org, n)
    task = Task.objects.order_by("-pk").first()
    pages = {
        "task list (head)": (org.west_head, reverse("worktasks:task-list")),
        "task page (head)": (org.west_head, reverse("worktasks:task-detail", args=[task.pk])),
        "task create form": (org.west_head, reverse("worktasks:task-create")),
        "task page (rm)": (org.rm_west, reverse("worktasks:task-detail", args=[task.pk])),
        "today (rm)": (org.rm_west, reverse("reminders:today")),
    }
    counts = {}
    for name, (staff, url) in pages.items():
        client = login(staff)
        client.get(url)  # the session's first save
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts[name] = len(ctx)
    assert counts == PINS


def test_demo_tasks_in_every_state_and_idempotent(org, book):
    from demo.worktasks import seed_tasks

    StaffFactory(branch=org.west_outlet, role=Staff.Role.HEAD)
    assert seed_tasks(seed=1) == 5
    states = {t.state for t in Task.objects.all()}
    assert states == {"open", "done", "overdue", "cancelled"}
    assert Task.objects.filter(lines_done__gt=0, status="open").exists()  # partly done
    assert seed_tasks(seed=1) == 0
