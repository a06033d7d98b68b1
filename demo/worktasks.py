"""Demo tasks (任务): for the first sub-branch head's RMs, one in every state — open, partly done, done, overdue,
cancelled — and one over a few hundred of the sub-branch's customers (split by portfolio, pool customers to the
keepers). Idempotent: a database that holds tasks is left as it is; deterministic for a seed."""

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from organisation.access import SYSTEM
from organisation.models import Staff
from relationships.models import Interaction
from worktasks import services
from worktasks.models import Task, TaskLine

LARGE_TASK = 300


def _complete(lines, rng) -> None:
    for line in lines:
        actor = line.assignee.user
        if line.customer_id:
            services.task_line_complete(
                actor=actor, line=line, channel=rng.choice(["phone", "visit", "wechat"]),
                outcome=Interaction.Outcome.REACHED, notes="已按任务要求联系客户",
            )  # fmt: skip
        else:
            services.task_line_complete(actor=actor, line=line, note="已完成")


def seed_tasks(*, seed: int, today: date | None = None) -> int:
    today = today or timezone.localdate()
    if Task.objects.exists():
        return 0
    head = Staff.objects.filter(role=Staff.Role.HEAD, status=Staff.Status.ACTIVE, branch__level="sub_branch")
    head = head.select_related("branch").order_by("employee_no").first()
    if head is None:
        return 0
    rms = list(
        Staff.objects.accepting_customers().filter(branch__path__startswith=head.branch.path).order_by("employee_no")
    )[:4]
    if not rms:
        return 0
    rng = random.Random(seed + 17)
    subtree = Customer.objects.filter(branch__path__startswith=head.branch.path, closed_on__isnull=True)
    if not Customer.objects.filter(primary_rm__in=rms).exists():
        return 0  # a demo without customers (seed_demo --customers 0) has no task to hand out
    week = today + timedelta(days=7)
    with transaction.atomic():
        # Open, over a few hundred customers (the largest portfolios first).
        large = services.task_create(
            actor=head, title="季末存量客户回访", due_on=week, priority=Task.Priority.HIGH,
            instructions="逐一电话回访，了解到期资金去向，登记客户意向。",
            customers=list(subtree.order_by("-aum", "pk").values_list("pk", flat=True)[:LARGE_TASK]),
        )  # fmt: skip
        # Partly done.
        partly = services.task_create(
            actor=head, title="理财到期客户续作沟通", due_on=today + timedelta(days=3),
            customers=[c for rm in rms for c in Customer.objects.filter(primary_rm=rm).order_by("pk")
                       .values_list("pk", flat=True)[:4]],
        )  # fmt: skip
        lines = list(TaskLine.objects.filter(task=partly).select_related("assignee", "customer").order_by("pk"))
        _complete(lines[: len(lines) // 2], rng)
        # Done: an RMs' task without customers, every line completed.
        done = services.task_create(actor=head, title="整理本月拜访计划", due_on=today, assignees=rms)
        _complete(TaskLine.objects.filter(task=done).select_related("assignee", "customer"), rng)
        # Overdue: handed out last week, due two days ago (written as the past it stands for).
        overdue = services.task_create(
            actor=head, title="春节前贵宾客户问候", due_on=today, priority=Task.Priority.MEDIUM,
            customers=[c for rm in rms for c in Customer.objects.filter(primary_rm=rm).order_by("-aum")
                       .values_list("pk", flat=True)[:3]],
        )  # fmt: skip
        Task.objects.filter(pk=overdue.pk).update(
            due_on=today - timedelta(days=2), created_at=timezone.now() - timedelta(days=9)
        )
        # Cancelled.
        cancelled = services.task_create(
            actor=head, title="旧版产品宣传（已撤回）", due_on=week, priority=Task.Priority.LOW, assignees=rms[:2]
        )
        services.task_cancel(actor=SYSTEM, task=cancelled)
    return Task.objects.count() if large else 0
