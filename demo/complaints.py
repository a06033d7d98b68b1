"""Demo complaints for ``seed_demo``: about one a year per 200 customers, spread over the past year, in every
state — most closed, some extended, a few overdue, withdrawn or reopened after a review. Written in bulk, with
the fields the services would have set (the clock from ``complaints.rules``) and a matching timeline."""

import random
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from complaints import rules
from complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintCause,
    ComplaintEvent,
    ComplaintExtension,
    ReferenceCounter,
)
from customers.models import Customer
from organisation.models import Staff

S = Complaint.Status
E = ComplaintEvent.Kind

REQUESTS = [
    ("退还多收取的手续费", "客户称办理跨行转账时被收取手续费，柜员未事先告知收费标准。"),
    ("解释理财产品亏损原因并赔偿", "客户购买的理财产品到期收益低于销售时所称的预期收益，认为销售人员夸大收益。"),
    ("撤销信用卡逾期记录", "客户称已按时还款，但征信报告显示逾期，要求更正。"),
    ("改善排队等候时间", "客户在网点等候超过一小时，大堂无人引导。"),
    ("停止频繁的营销电话", "客户多次接到营销电话，已明确拒绝仍被致电。"),
    ("解冻账户", "客户账户被临时冻结，未收到任何通知，影响工资入账。"),
    ("退还贷款提前还款违约金", "客户提前还款被收取违约金，合同中未见明确约定。"),
    ("查明不明扣款", "客户借记卡出现一笔不明扣款，怀疑信息泄露。"),
    ("更换服务态度差的柜员", "客户反映柜员态度冷淡，拒绝解释业务流程。"),
    ("手机银行无法登录", "客户升级手机银行后多次无法登录，客服热线无法解决。"),
]
DECISIONS = [
    "经核实，系我行告知不到位，已退还手续费并向客户致歉。",
    "经调阅录音录像，销售过程合规，已向客户详细解释产品收益情况。",
    "经核查，已向征信中心提交更正申请，并书面告知客户。",
    "已对网点人员进行培训，增设引导岗，并向客户致歉。",
    "已将客户号码加入营销免打扰名单。",
]
ACTIONS = ["开展专项培训", "修订业务流程", "柜面公示收费标准", "加强销售录音录像抽查", "优化系统功能", "纳入绩效考核"]
VIA = ["电话", "短信", "书面回复", "当面告知"]


FORCED = ("overdue", "overdue", "overdue", "due_soon", "due_soon", "registered", "accepted", "withdrawn", "reopened")


def seed_complaints(*, seed: int, customers: int, today=None) -> int:
    """About ``customers / 200`` complaints over the past 365 days (at least 60, so that a small demo shows every
    state). Does nothing when complaints exist."""

    if Complaint.objects.exists():
        return 0
    bounds = Customer.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return 0
    rng = random.Random(seed + 6)
    now = timezone.now()
    target = max(60, customers // 200)
    picks = sorted({rng.randint(bounds["lo"], bounds["hi"]) for _ in range(target * 2)})
    people = list(
        Customer.objects.filter(pk__in=picks, primary_rm__isnull=False)
        .select_related("branch")
        .values("pk", "name", "branch_id", "branch__path", "primary_rm_id")[:target]
    )
    rng.shuffle(people)
    categories = list(ComplaintCategory.objects.filter(is_active=True))
    causes = list(ComplaintCause.objects.filter(is_active=True))
    cat_weights = [3 if c.code in ("01", "02", "05") else 1 for c in categories]
    cause_weights = [3 if c.code in ("01", "02", "03", "06") else 1 for c in causes]
    overseers = defaultdict(list)  # branch path → heads and officers there
    for s in Staff.objects.active().filter(role__in=[Staff.Role.HEAD, Staff.Role.OFFICER]).select_related("branch"):
        overseers[s.branch.path].append(s)
    registrar_default = Staff.objects.filter(role=Staff.Role.OFFICER).order_by("pk").first()

    complaints, plans = [], []
    counters: dict = defaultdict(int)
    for i, person in enumerate(people):
        received = now - timedelta(days=rng.uniform(0, 365), minutes=rng.randint(0, 600))
        force = FORCED[i] if i < len(FORCED) else None
        if force == "overdue":
            received = now - timedelta(days=rng.uniform(17, 20))
        elif force == "due_soon":
            received = now - timedelta(days=13, minutes=rng.randint(0, 60))
        elif force in ("registered", "accepted"):
            received = now - timedelta(minutes=rng.randint(20, 50))
        elif force in ("withdrawn", "reopened"):
            received = now - timedelta(days=rng.uniform(40, 60))
        day = timezone.localdate(received)
        counters[day] += 1
        ancestors = [p for p in _ancestors(person["branch__path"]) if overseers.get(p)]
        officers = [s for p in ancestors for s in overseers[p] if s.role == Staff.Role.OFFICER]
        heads = [s for p in ancestors for s in overseers[p] if s.role == Staff.Role.HEAD]
        registrar = rng.choice(officers or heads or [registrar_default])
        subject = person["primary_rm_id"] if rng.random() < 0.35 else None
        handler_pool = [s for s in officers + heads if s.pk != subject] or [registrar]
        handler = rng.choice(handler_pool)
        request, facts = rng.choice(REQUESTS)
        c = Complaint(
            reference=f"TS{day:%Y%m%d}{counters[day]:05d}",
            customer_id=person["pk"],
            complainant_name=person["name"],
            branch_id=person["branch_id"],
            subject_staff_id=subject,
            channel=rng.choices(Complaint.Channel.values, weights=[30, 35, 3, 8, 15, 6, 1, 2])[0],
            received_at=received,
            category=rng.choices(categories, weights=cat_weights)[0],
            severity=Complaint.Severity.MAJOR if rng.random() < 0.02 else Complaint.Severity.NORMAL,
            request=request,
            facts=facts,
            registered_by=registrar,
            handler=handler,
            clock_started_at=received,
            due_at=rules.due_at(received, 0),
        )
        plan = _outcome(rng, c, now, causes, cause_weights, force=force)
        if c.severity == Complaint.Severity.MAJOR:
            c.major_escalated_at = received + timedelta(minutes=1)
        complaints.append(c)
        plans.append(plan)
    with transaction.atomic():
        Complaint.objects.bulk_create(complaints, batch_size=2000)
        for day, last in counters.items():
            ReferenceCounter.objects.update_or_create(day=day, defaults={"last": last})
        events, extensions = [], []
        for c, plan in zip(complaints, plans, strict=True):
            events += _events(c, plan)
            extensions += [
                ComplaintExtension(
                    complaint=c,
                    level=level,
                    reason=reason,
                    customer_told_at=at,
                    customer_told_via="电话",
                    requested_by=c.handler,
                    requested_at=at,
                    status="approved",
                    decided_by=approver,
                    decided_at=at,
                )  # fmt: skip
                for level, reason, at, approver in plan["extensions"]
            ]
        ComplaintEvent.objects.bulk_create(events, batch_size=5000)
        ComplaintExtension.objects.bulk_create(extensions, batch_size=2000)
    return len(complaints)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _outcome(rng, c: Complaint, now: datetime, causes, cause_weights, force=None) -> dict:
    """Decide what happened to the complaint, setting its fields; return what the timeline needs. ``force``
    makes sure that even a small demo shows every state."""
    plan = {"accepted": None, "started": None, "extensions": [], "decided": None, "callback": None, "closed": None}
    accepted = c.received_at + timedelta(hours=rng.uniform(0.5, 20))
    if force == "accepted":
        accepted = c.received_at + timedelta(minutes=5)
    if accepted > now or force == "registered":
        c.status = S.REGISTERED
        c.handler = None
        return plan
    plan["accepted"] = accepted
    started = accepted + timedelta(hours=rng.uniform(1, 30))
    if started > now or force == "accepted":
        c.status = S.ACCEPTED
        return plan
    plan["started"] = started
    c.status = S.IN_PROGRESS
    if force in ("overdue", "due_soon"):
        return plan
    # One in six is complex (30 days), one in forty particularly complex (60).
    roll = rng.random()
    level = 2 if roll < 0.025 else (1 if roll < 0.17 else 0)
    if level:
        at = c.received_at + timedelta(days=rng.randint(5, 13))
        if at < now:
            plan["extensions"].append((1, "案情复杂，需调取录音录像并核实交易记录", at, c.handler))
            c.extension_level = 1
            if level == 2:
                at2 = c.received_at + timedelta(days=rng.randint(20, 28))
                if at2 < now:
                    plan["extensions"].append((2, "需第三方机构出具鉴定意见", at2, c.registered_by))
                    c.extension_level = 2
    c.due_at = rules.due_at(c.clock_started_at, c.extension_level)
    if rng.random() < 0.04 or force == "withdrawn":
        at = started + timedelta(days=rng.uniform(0.5, 5))
        if at < now:
            c.status, c.withdrawn_at = S.WITHDRAWN, at
            plan["withdrawn"] = at
            return plan
    limit = rules.limit_days(c.extension_level)
    late = rng.random() < 0.06 and force != "reopened"
    days = rng.uniform(limit + 0.5, limit + 8) if late else rng.uniform(1, limit - 1 if limit > 15 else 13)
    decided = c.received_at + timedelta(days=days)
    if decided > now:
        return plan  # still being handled (overdue when a late decision was coming)
    c.status = S.DECIDED
    c.decision = rng.choice(DECISIONS)
    c.decided_at = c.first_decided_at = decided
    c.decided_on_time = decided <= c.due_at
    c.cause = rng.choices(causes, weights=cause_weights)[0]
    plan["decided"] = decided
    callback = decided + timedelta(days=rng.uniform(1, 5))
    if callback > now:
        return plan
    c.satisfaction = 1 if force == "reopened" else rng.choices([5, 4, 3, 2, 1], weights=[45, 30, 12, 8, 5])[0]
    c.satisfaction_comment = "" if c.satisfaction >= 3 else "处理结果不满意"
    c.callback_at = callback
    plan["callback"] = callback
    closed = callback + timedelta(days=rng.uniform(0.5, 3))
    if closed > now:
        return plan
    if force == "reopened" or (c.satisfaction <= 2 and rng.random() < 0.4 and closed + timedelta(days=5) < now):
        # The complainant asked for a review: a new clock from the request.
        review = closed
        c.status = S.REOPENED
        c.reopen_count = 1
        c.clock_started_at = review
        c.extension_level = 0
        c.due_at = rules.due_at(review, 0)
        plan["reopened"] = review
        return plan
    c.status = S.CLOSED
    c.closed_at = closed
    c.corrective_action = rng.choice(ACTIONS)
    plan["closed"] = closed
    return plan


def _events(c: Complaint, plan: dict) -> list[ComplaintEvent]:
    ev = [
        ComplaintEvent(
            complaint=c,
            kind=E.REGISTERED,
            actor=c.registered_by,
            at=c.received_at,
            to_status=S.REGISTERED,
            data={"channel": c.channel, "received_at": c.received_at.isoformat(), "severity": c.severity},
        )  # fmt: skip
    ]

    def move(at, frm, to, text=""):
        ev.append(ComplaintEvent(complaint=c, kind=E.TRANSITION, actor=c.registered_by, at=at, from_status=frm,
                                 to_status=to, text=text))  # fmt: skip

    if plan["accepted"]:
        move(plan["accepted"], S.REGISTERED, S.ACCEPTED)
        ev.append(ComplaintEvent(complaint=c, kind=E.ASSIGNED, actor=c.registered_by, at=plan["accepted"],
                                 data={"handler": c.handler.name if c.handler else "", "previous": ""}))  # fmt: skip
    if plan["started"]:
        ev.append(ComplaintEvent(complaint=c, kind=E.TRANSITION, actor=c.handler, at=plan["started"],
                                 from_status=S.ACCEPTED, to_status=S.IN_PROGRESS))  # fmt: skip
    for level, reason, at, approver in plan["extensions"]:
        ev.append(ComplaintEvent(complaint=c, kind=E.CONTACT, actor=c.handler, at=at, text="告知延期",
                                 data={"via": "电话"}))  # fmt: skip
        ev.append(ComplaintEvent(complaint=c, kind=E.EXTENDED, actor=approver, at=at, text=reason,
                                 data={"level": level, "days": rules.limit_days(level)}))  # fmt: skip
    if plan.get("withdrawn"):
        move(plan["withdrawn"], S.IN_PROGRESS, S.WITHDRAWN, "客户来电撤回投诉")
    if plan["decided"]:
        ev.append(ComplaintEvent(complaint=c, kind=E.TRANSITION, actor=c.handler, at=plan["decided"],
                                 from_status=S.IN_PROGRESS, to_status=S.DECIDED, text=c.decision,
                                 data={"via": "电话", "on_time": c.decided_on_time}))  # fmt: skip
    if plan["callback"]:
        ev.append(ComplaintEvent(complaint=c, kind=E.CALLBACK, actor=c.registered_by, at=plan["callback"],
                                 text=c.satisfaction_comment, data={"satisfaction": c.satisfaction}))  # fmt: skip
    if plan.get("reopened"):
        move(plan["reopened"], S.DECIDED, S.REOPENED, "客户申请核查")
        ev.append(ComplaintEvent(complaint=c, kind=E.REOPENED, actor=c.registered_by, at=plan["reopened"],
                                 text="客户申请核查", data={"round": 1}))  # fmt: skip
    if plan["closed"]:
        move(plan["closed"], S.DECIDED, S.CLOSED, c.corrective_action)
    if c.major_escalated_at:
        ev.append(ComplaintEvent(complaint=c, kind=E.ESCALATED, at=c.major_escalated_at, data={"reason": "major"}))
    return ev
