"""Reads of tasks. Every read starts from ``tasks_visible_to``; a task outside it is a 404."""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from organisation import access
from organisation.models import Branch, Staff

from .models import Task, TaskLine

TODAY_TASKS = 10  # tasks shown on Today
TODAY_CUSTOMERS = 3  # customers shown under each of them

STATES = ("open", "overdue", "done", "cancelled")


def tasks_visible_to(user) -> QuerySet[Task]:
    """The one visibility rule for tasks.

    - Administrator (HQ): every task.
    - Branch head: the tasks of their branch and every branch below it, those they created, and those with a line
      for them (as an outlet's pool keeper).
    - Anyone else (RM): the tasks with a line for them.
    - No active staff: none."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none:
        return Task.objects.none()
    if scope.is_all:
        return Task.objects.all()
    staff = scope.staff
    mine = Exists(TaskLine.objects.filter(task=OuterRef("pk"), assignee=staff))
    if scope.is_subtree:
        return Task.objects.filter(access.subtree_q(scope, "branch") | Q(created_by=staff) | mine)
    return Task.objects.filter(mine)


def task_get_visible(user, pk) -> Task:
    return get_object_or_404(tasks_visible_to(user).select_related("created_by", "branch", "cancelled_by"), pk=pk)


def _in_state(qs: QuerySet[Task], state: str, today) -> QuerySet[Task]:
    if state == "open":
        return qs.filter(status=Task.Status.OPEN, due_on__gte=today)
    if state == "overdue":
        return qs.filter(status=Task.Status.OPEN, due_on__lt=today)
    if state in (Task.Status.DONE, Task.Status.CANCELLED):
        return qs.filter(status=state)
    return qs


def task_list(user, *, state: str = "") -> QuerySet[Task]:
    """The task list: the visible tasks in a state (open, overdue, done, cancelled; any by default), the soonest
    due first among the open ones, then the newest."""
    qs = _in_state(tasks_visible_to(user), state, timezone.localdate())
    return qs.select_related("created_by", "branch").order_by("status", "due_on", "-pk")


@dataclass(frozen=True)
class AssigneeProgress:
    staff_id: int
    name: str
    branch_name: str
    total: int
    done: int
    overdue: int

    @property
    def pct(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def task_progress_by_assignee(task: Task) -> list[AssigneeProgress]:
    """Done / total per assignee of a task, and how many of their lines are overdue: one grouped query over the
    lines' (task, assignee) index."""
    overdue = task.is_overdue
    rows = (
        TaskLine.objects.filter(task=task)
        .values("assignee_id", "assignee__name", "assignee__branch__name")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(done_at__isnull=False)))
        .order_by("assignee__name", "assignee_id")
    )
    return [
        AssigneeProgress(
            r["assignee_id"],
            r["assignee__name"],
            r["assignee__branch__name"],
            r["total"],
            r["done"],
            r["total"] - r["done"] if overdue else 0,
        )  # fmt: skip
        for r in rows
    ]


def task_lines_for(user, task: Task, *, assignee_id=None) -> QuerySet[TaskLine]:
    """The lines of a task the page lists: an assignee's own (an RM sees only theirs); a head or an administrator
    sees every line, or one assignee's (``assignee_id``). Open lines first."""
    staff = access.active_staff(user)
    qs = TaskLine.objects.filter(task=task)
    if staff is None:
        return qs.none()
    if staff.role not in access.HEADS_AND_ADMINS or (task.created_by_id != staff.pk and _only_own(staff, task)):
        qs = qs.filter(assignee=staff)
    elif assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    return qs.select_related("assignee", "customer", "customer__segment", "interaction").order_by(
        F("done_at").asc(nulls_first=True), "assignee_id", "pk"
    )


def _only_own(staff: Staff, task: Task) -> bool:
    """A head who sees a task only because it has a line for them (another branch's task): their own lines."""
    return not (staff.role == Staff.Role.ADMIN or task.branch.is_within(staff.branch))


def task_follows(user, task: Task) -> bool:
    """Whether the user follows the task as a whole (its progress per RM): its creator, an administrator, a head of
    its branch's subtree."""
    staff = access.active_staff(user)
    if staff is None:
        return False
    return task.created_by_id == staff.pk or access.can_approve(staff, task.branch)


def task_line_get_own(user, pk) -> TaskLine:
    """An open-or-done line of the user's own, for completing it; anyone else's is a 404."""
    staff = access.active_staff(user)
    if staff is None:
        raise Http404
    return get_object_or_404(TaskLine.objects.select_related("task", "customer").filter(assignee=staff), pk=pk)


@dataclass
class TodayTask:
    task: Task
    total: int
    done: int
    customers: list

    @property
    def open(self) -> int:
        return self.total - self.done

    @property
    def pct(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def tasks_open_for(staff: Staff, *, limit: int = TODAY_TASKS) -> list[TodayTask]:
    """Today's 任务 section: the open tasks with an open line for ``staff``, the soonest due first, with their
    progress (of ``staff``'s lines) and their first few open customers. Two queries whatever the sizes."""
    tasks = list(
        Task.objects.filter(status=Task.Status.OPEN)
        .filter(Exists(TaskLine.objects.filter(task=OuterRef("pk"), assignee=staff, done_at__isnull=True)))
        .annotate(
            my_total=Count("lines", filter=Q(lines__assignee=staff)),
            my_done=Count("lines", filter=Q(lines__assignee=staff, lines__done_at__isnull=False)),
        )
        .order_by("due_on", "priority", "pk")[:limit]
    )
    if not tasks:
        return []
    first = (
        TaskLine.objects.filter(task__in=[t.pk for t in tasks], assignee=staff, done_at__isnull=True)
        .exclude(customer=None)
        .annotate(rank=Window(RowNumber(), partition_by=F("task_id"), order_by=F("pk").asc()))
        .filter(rank__lte=TODAY_CUSTOMERS)
        .select_related("customer", "customer__segment")
    )
    by_task: dict[int, list] = {}
    for line in first:
        by_task.setdefault(line.task_id, []).append(line)
    return [TodayTask(t, t.my_total, t.my_done, by_task.get(t.pk, [])) for t in tasks]


def task_lines_overdue_count(user, branch: Branch | None) -> int:
    """Open lines of open tasks past their due date whose assignee works in ``branch``'s subtree (the whole scope of
    the user when None), for the branch dashboard's flag: one query."""
    scope = access.scope_of(user, subtree_roles=access.HEADS)
    if scope.is_none or scope.is_own:
        return 0
    qs = TaskLine.objects.filter(
        done_at__isnull=True, task__status=Task.Status.OPEN, task__due_on__lt=timezone.localdate()
    ).filter(access.subtree_q(scope, "assignee__branch"))
    if branch is not None:
        qs = qs.filter(access.within_q(branch, "assignee__branch"))
    return qs.count()
