"""The default Celery beat schedule, installed into django-celery-beat's tables so that admins can see and
edit it (Django admin → Periodic tasks). Installing never overwrites an entry an admin has changed: entries are
found by name and only missing ones are created. Times are Asia/Shanghai.

Add an entry here and a data migration calling ``install`` to ship a new periodic job.

An entry's ``name`` is its key: ``install`` and the data migrations find the row by it, and beat and the logs show
it, so it stays the same whatever the language. What the admin shows is the entry's ``label``, translated
(``label_of``); a task an admin added by hand shows its name.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Entry:
    name: str
    label: Promise
    task: str
    minute: str
    hour: str
    description: str
    day_of_week: str = "*"
    kwargs: str = "{}"


DEFAULT_SCHEDULE: tuple[Entry, ...] = (
    Entry(
        name="customers: derive the lifecycle stages",
        label=_("Derive the customers' lifecycle stages"),
        task="customers.tasks.derive_lifecycle",
        minute="40",
        hour="1",
        description="01:40 按昨日数据推导客户生命周期阶段（人工设定的除外）/ Derive the customers' lifecycle stages from yesterday's data (except those set by hand)",
    ),
    Entry(
        name="dashboards: build yesterday's daily figures",
        label=_("Build yesterday's daily figures"),
        task="dashboards.tasks.build_figures",
        minute="50",
        hour="1",
        description="01:50 计算昨日网点与客户经理的日指标（仪表盘）/ Build yesterday's branch and RM figures for the dashboards",
    ),
    Entry(
        name="housekeeping: purge expired sessions and old sign-in attempts",
        label=_("Purge expired sessions and old sign-in attempts"),
        task="organisation.tasks.purge_expired_sessions",
        minute="15",
        hour="2",
        description="清理过期会话和旧的登录尝试记录 / Purge expired sessions and old sign-in attempts",
    ),
    Entry(
        name="customers: asset snapshot partitions",
        label=_("Maintain the asset snapshot partitions"),
        task="customers.tasks.maintain_snapshot_partitions",
        minute="10",
        hour="1",
        description="01:10 为资产快照建好本月及后两个月的分区，删除超出保留期的整月分区 / Create the asset snapshots' partitions for this month and the next two, drop the months past the retention",
    ),
    Entry(
        name="customers: recompute tiers from AUM",
        label=_("Recompute customer tiers from AUM"),
        task="customers.tasks.recompute_tiers",
        minute="30",
        hour="1",
        description="按金融资产重新计算客户分层 / Reassign customer tiers from current AUM",
    ),
    Entry(
        name="pool: propose releases to the pool",
        label=_("Propose customers for release to the pool"),
        task="pool.tasks.release_candidates",
        minute="30",
        hour="5",
        description="05:30 按分层规则找出未按时联系的客户，提请释放回网点客户池（需负责人审批）/ Propose for release to the outlet pool the customers the tiers' recycle rules find (a branch head approves)",
    ),
    Entry(
        name="reminders: expire and wake follow-ups",
        label=_("Expire and wake follow-ups"),
        task="reminders.tasks.follow_ups_housekeeping",
        minute="45",
        hour="5",
        description="过期的节日/生日/到期提醒自动关闭，推迟的提醒到期恢复 / Close expired reminders, wake snoozed ones",
    ),
    *(
        Entry(
            name=f"reminders: {kind}",
            label=label,
            task="reminders.tasks.generate_reminders",
            minute=str(5 * i),
            hour="6",
            description=f"生成跟进提醒（{kind}）/ Generate follow-up reminders ({kind})",
            kwargs=f'{{"kind": "{kind}"}}',
        )
        for i, (kind, label) in enumerate(
            (
                ("manual", _("Generate the manual follow-ups")),
                ("contact_policy", _("Generate the contact-policy follow-ups")),
                ("birthday", _("Generate the birthday greetings")),
                ("holiday", _("Generate the holiday greetings")),
                ("maturity", _("Generate the maturity reminders")),
                ("movement", _("Generate the large-movement reminders")),
                ("churn", _("Generate the churn-risk reminders")),
            )
        )
    ),
    Entry(
        name="complaints: escalate overdue and major complaints",
        label=_("Escalate overdue and major complaints"),
        task="complaints.tasks.escalate_complaints",
        minute="*/15",
        hour="*",
        description="每15分钟升级已超期和重大投诉，通知负责人与投诉专员 / Escalate overdue and major complaints every 15 minutes",
    ),
    Entry(
        name="tasks: reminders of tasks due tomorrow",
        label=_("Remind the assignees of tasks due tomorrow"),
        task="worktasks.tasks.task_due_reminders",
        minute="30",
        hour="7",
        description="每日 07:30 提醒明天到期任务的执行人（每项任务只提醒一次）/ Tell the assignees of open tasks due tomorrow at 07:30, once per task",
    ),
    Entry(
        name="opportunities: match won opportunities with holdings",
        label=_("Match won opportunities with the holdings"),
        task="opportunities.tasks.reconcile_won",
        minute="5",
        hour="7",
        description="每日 07:05 将已成交商机与核心系统持仓核对，超期未匹配的标记为未匹配 / Match won opportunities with the holdings loaded from core banking at 07:05; flag those still unmatched",
    ),
    Entry(
        name="opportunities: remind owners of stale opportunities",
        label=_("Remind the owners of stale opportunities"),
        task="opportunities.tasks.stale_reminders",
        minute="35",
        hour="7",
        description="每日 07:35 提醒商机负责人跟进已过预计成交日或久未推进的商机（每人每天一条）/ Tell each owner of open opportunities past their expected date or not moved for long at 07:35, once a day",
    ),
    Entry(
        name="reminders: morning digest",
        label=_("Send the morning digest"),
        task="reminders.tasks.digest_dispatch",
        minute="0",
        hour="8",
        description="每日 08:00 向客户经理发送今日待办摘要 / Send every RM the morning digest at 08:00",
    ),
    Entry(
        name="scheduling: catch up missed daily jobs",
        label=_("Catch up missed daily jobs"),
        task="scheduling.tasks.catch_up",
        minute="*/10",
        hour="*",
        description="每10分钟补跑当天应运行而未成功运行的每日任务（如消息队列中断期间错过的）/ Every 10 minutes, run the daily jobs whose run today is missing (missed while the broker was down, failed, or lost)",
    ),
    Entry(
        name="feed: load ready files from the inbox",
        label=_("Load the ready core-banking files"),
        task="feed.tasks.scan_inbox",
        minute="*/5",
        hour="*",
        description="每5分钟加载收件目录中已就绪的核心系统数据文件 / Load the core-banking files ready in the inbox every 5 minutes",
    ),
)


LABELS = {entry.name: entry.label for entry in DEFAULT_SCHEDULE}


def label_of(name: str) -> str:
    """What the admin shows for a periodic task: the translated label of one of ours, else its name."""
    label = LABELS.get(name)
    return str(label) if label is not None else name


def install(PeriodicTask, CrontabSchedule, entries=DEFAULT_SCHEDULE) -> int:  # noqa: N803 - model classes
    """Create the missing periodic tasks. Takes the model classes so that data migrations can pass theirs."""
    created = 0
    for entry in entries:
        if PeriodicTask.objects.filter(name=entry.name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=entry.minute,
            hour=entry.hour,
            day_of_week=entry.day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone=TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=entry.name,
            task=entry.task,
            crontab=crontab,
            description=entry.description,
            kwargs=entry.kwargs,
            enabled=True,
        )
        created += 1
    return created
