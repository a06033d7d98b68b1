"""Demo organisation for seed_demo: one 分行, its 支行 and 网点, and about 30 staff in every role.

Idempotent: branches are found by code and staff by employee number, so a second run creates nothing.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Segment
from organisation import services
from organisation.access import SYSTEM
from organisation.models import Branch, Staff
from relationships.models import Interaction, VisitPlan, VisitPlanItem
from relationships.services.contact import _touch_last_contact as touch_last_contact

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 建华 建国 志强 晓东 丽娟 海燕 "
    "子涵 欣怡 梓萱 浩然 宇轩 雨桐 俊杰 思远 嘉怡 佳琪 文博 一鸣 晨曦 天佑 若曦 慧敏 志明 春梅 国栋 立新"
).split()

BRANCH_CODE = "330100"
DEMO_EMAIL_DOMAIN = "@demo.invalid"  # every demo account's e-mail address ends so (RFC 2606: never a real address)
TREE = {
    "name": "示范银行杭州分行",
    "code": BRANCH_CODE,
    "children": [
        {
            "name": "西湖支行",
            "code": "330101",
            "children": [("文三路网点", "33010101"), ("黄龙网点", "33010102"), ("灵隐网点", "33010103")],
        },
        {
            "name": "滨江支行",
            "code": "330102",
            "children": [("江南大道网点", "33010201"), ("长河网点", "33010202")],
        },
        {
            "name": "萧山支行",
            "code": "330103",
            "children": [("城厢网点", "33010301"), ("北干网点", "33010302"), ("新塘网点", "33010303")],
        },
    ],
}


@dataclass
class DemoLogin:
    username: str
    role: str
    name: str
    branch: str


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _branch(code: str, name: str, level: str, parent: Branch | None) -> Branch:
    existing = Branch.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return services.branch_create(actor=SYSTEM, code=code, name=name, level=level, parent=parent)


def _staff(*, rng, username, employee_no, branch, role, password, name=None) -> Staff:
    existing = Staff.objects.filter(employee_no=employee_no).select_related("branch").first()
    name = name or person_name(rng)  # drawn even when the row exists, so that later names stay the same
    if existing is not None:
        return existing
    staff = services.staff_create(
        actor=SYSTEM,
        username=username,
        password=None,
        employee_no=employee_no,
        name=name,
        branch=branch,
        role=role,
        email=f"{username}{DEMO_EMAIL_DOMAIN}",
    )
    _new_users.append(staff.user_id)
    return staff


_new_users: list[int] = []

EXTRA_SUB_BRANCHES = (
    "拱墅 上城 余杭 临平 富阳 临安 桐庐 建德 淳安 钱塘 下沙 良渚 未来科技城 湘湖 之江 三墩 九堡 丁桥 笕桥 转塘".split()
)
ROADS = (
    "解放 延安 庆春 凤起 体育场 文一 文二 天目山 莫干山 湖墅 东新 秋涛 钱江 新城 世纪 市心 金城 人民 建设 育才".split()
)
RMS_PER_EXTRA_OUTLET = 4
OUTLETS_PER_EXTRA_SUB = 10


def rms_for_customers(customers: int) -> int:
    """About 2,500 customers per RM, at least the 16 of the base demo, at most 400 (with heads and officers,
    about 500 staff for a million customers)."""
    return max(16, min(customers // 2500, 400))


@transaction.atomic
def seed_organisation(*, password: str, seed: int = 2026, rms_per_outlet: int = 2, rms: int = 16) -> list[DemoLogin]:
    """Create (or find) the demo tree and staff; with ``rms`` above the base 16, more 支行 and 网点 with RMs.
    Returns the demo logins."""

    _new_users.clear()
    rng = random.Random(seed)
    top = _branch(TREE["code"], TREE["name"], Branch.Level.BRANCH, None)
    _staff(rng=rng, username="admin", employee_no="A0001", branch=top, role=Staff.Role.ADMIN, password=password)
    _staff(rng=rng, username="head", employee_no="H0001", branch=top, role=Staff.Role.HEAD, password=password)
    _staff(rng=rng, username="officer", employee_no="O0001", branch=top, role=Staff.Role.OFFICER, password=password)
    rm_no = 0
    for s, sub in enumerate(TREE["children"], start=1):
        sub_branch = _branch(sub["code"], sub["name"], Branch.Level.SUB_BRANCH, top)
        _staff(
            rng=rng,
            username=f"head{s}",
            employee_no=f"H{s:04d}0",
            branch=sub_branch,
            role=Staff.Role.HEAD,
            password=password,
        )
        _staff(
            rng=rng,
            username=f"officer{s}",
            employee_no=f"O{s:04d}0",
            branch=sub_branch,
            role=Staff.Role.OFFICER,
            password=password,
        )
        for o, (name, code) in enumerate(sub["children"], start=1):
            outlet = _branch(code, name, Branch.Level.OUTLET, sub_branch)
            if o == 1:
                _staff(
                    rng=rng,
                    username=f"head{s}{o}",
                    employee_no=f"H{s:04d}{o}",
                    branch=outlet,
                    role=Staff.Role.HEAD,
                    password=password,
                )
            for _ in range(rms_per_outlet):
                rm_no += 1
                _staff(
                    rng=rng,
                    username=f"rm{rm_no}",
                    employee_no=f"R{rm_no:04d}",
                    branch=outlet,
                    role=Staff.Role.RM,
                    password=password,
                )
    _seed_extra(rng=rng, top=top, password=password, extra_rms=rms - rm_no, first_rm=rm_no + 1)
    if _new_users:
        # One hash for every new demo account: hashing 500 passwords one by one would take minutes.
        get_user_model().objects.filter(pk__in=_new_users).update(password=make_password(password))
    return demo_logins()


def _seed_extra(*, rng, top: Branch, password: str, extra_rms: int, first_rm: int) -> None:
    rm_no = first_rm
    outlets_needed = -(-max(extra_rms, 0) // RMS_PER_EXTRA_OUTLET)
    for s in range(-(-outlets_needed // OUTLETS_PER_EXTRA_SUB)):
        sub_code = f"3301{s + 10:02d}"
        sub = _branch(sub_code, f"{EXTRA_SUB_BRANCHES[s % len(EXTRA_SUB_BRANCHES)]}支行", Branch.Level.SUB_BRANCH, top)
        _staff(
            rng=rng,
            username=f"head{sub_code}",
            employee_no=f"H{sub_code}",
            branch=sub,
            role=Staff.Role.HEAD,
            password=password,
        )
        _staff(
            rng=rng,
            username=f"officer{sub_code}",
            employee_no=f"O{sub_code}",
            branch=sub,
            role=Staff.Role.OFFICER,
            password=password,
        )
        for o in range(OUTLETS_PER_EXTRA_SUB):
            if outlets_needed <= 0:
                return
            outlets_needed -= 1
            code = f"{sub_code}{o + 1:02d}"
            outlet = _branch(code, f"{ROADS[(s * 3 + o) % len(ROADS)]}路{o + 1}号网点", Branch.Level.OUTLET, sub)
            _staff(
                rng=rng,
                username=f"head{code}",
                employee_no=f"H{code}",
                branch=outlet,
                role=Staff.Role.HEAD,
                password=password,
            )
            for _ in range(RMS_PER_EXTRA_OUTLET):
                _staff(
                    rng=rng,
                    username=f"rm{rm_no}",
                    employee_no=f"R{rm_no:04d}",
                    branch=outlet,
                    role=Staff.Role.RM,
                    password=password,
                )
                rm_no += 1


def demo_data_present() -> bool:
    """Whether this database holds the demo: any staff member with a demo account."""
    return Staff.objects.filter(user__email__endswith=DEMO_EMAIL_DOMAIN).exists()


def other_data_present() -> bool:
    """Whether this database holds an organisation or customers of its own (checked when it has no demo staff):
    seed_demo then writes nothing, so that demo rows never mix with real ones."""
    return Staff.objects.exists() or Branch.objects.exists() or Customer.objects.exists()


DEMO_USERNAMES = ("admin", "head", "officer", "head1", "rm1")


def demo_logins() -> list[DemoLogin]:
    """The demo logins that exist, in the order seed_organisation prints them."""
    staff = {
        s.user.username: s
        for s in Staff.objects.filter(user__username__in=DEMO_USERNAMES).select_related("user", "branch")
    }
    return [
        DemoLogin(name, staff[name].role_title, staff[name].name, staff[name].branch.name)
        for name in DEMO_USERNAMES
        if name in staff
    ]


# ----------------------------------------------------------------------------------------------------------------
# Per-customer relationship data for seed_demo --customers (called by customers.demo for every customer)
# ----------------------------------------------------------------------------------------------------------------

CHANNELS = (
    ["phone"] * 35 + ["wechat"] * 25 + ["counter"] * 15 + ["visit"] * 10 + ["sms"] * 10 + ["event"] * 3 + ["email"] * 2
)
PURPOSES = ["maintenance"] * 40 + ["marketing"] * 25 + ["service"] * 20 + ["care"] * 10 + ["complaint"] * 5
OUTCOMES = ["reached"] * 60 + ["no_answer"] * 15 + ["interested"] * 12 + ["deal"] * 8 + ["declined"] * 5
NOTES = (
    "电话回访，客户近期无资金需求。",
    "介绍了新发行的稳健理财产品，客户表示考虑。",
    "客户咨询定期存款到期续存事宜。",
    "节日问候，客户反馈良好。",
    "客户关注养老规划，约下周面谈。",
    "协助客户办理手机银行签约。",
    "客户对近期服务表示满意。",
    "提醒客户风险测评即将到期。",
)
NEXT_ACTIONS = ("再次电话回访", "约客户到网点面谈", "发送产品说明书", "跟进理财到期续购", "邀请参加客户活动")
# Interactions a year by tier code: (low, high) of a uniform draw; about 20 on average over the whole book.
PER_YEAR = {"private": (40, 90), "wealth": (24, 56), "potential": (14, 40), "mass": (10, 30), None: (0, 6)}

INTERACTION_COLUMNS = [
    "id", "customer", "staff", "channel", "purpose", "occurred_at", "created_at", "updated_at", "outcome", "notes",
    "next_follow_up_on", "next_action",
]  # fmt: skip
ASSIGNMENT_COLUMNS = ["id", "customer", "staff", "role", "started_at", "ended_at", "reason", "end_reason"]
FOLLOW_UP_COLUMNS = [
    "id", "customer", "staff", "kind", "due_on", "title", "detail", "source_ref", "dedupe_key", "status", "created_at",
    "skip_reason", "completed_at",
]  # fmt: skip
RATING_COLUMNS = ["id", "customer", "rated_staff", "score", "comment", "recorded_by", "recorded_at"]


def relationship_reference() -> dict:
    """What the per-customer generator needs, loaded once."""

    raters = list(Staff.objects.filter(role__in=[Staff.Role.HEAD, Staff.Role.OFFICER]).values_list("pk", flat=True))
    return {
        "segment_codes": dict(Segment.objects.values_list("pk", "code")),
        "policy_days": dict(Segment.objects.values_list("pk", "contact_policy_days")),
        "raters": raters,
    }


# About one customer in six under a contact policy was last reached before their tier's window (the branch's coverage
# is then about 85 %); about 40 % of 大众 customers have no RM (their RM moved on, or they came from core banking without
# one): they wait in their outlet's customer pool (docs/pool.md).
LAPSED_SHARE = 0.18
POOL_SHARE_OF_MASS = 0.45  # a few are claimed or assigned since (demo/pool.py): about 40 % stay
# Customers with an RM who answered a satisfaction survey in the last RATED_WITHIN_DAYS days (one in five: with
# 40 % of 大众 customers in pools, about as many ratings as one in seven of every customer gave before).
RATED_SHARE = 0.2
RATED_WITHIN_DAYS = 120
ON_TIME_SHARE = 0.8  # follow-ups done by their due day; the others a few days late


def pool_customer(values: dict, rng: random.Random, ref: dict) -> None:
    """Now and then a 大众 customer whose RM moved on and who waits in the customer pool: ``primary_rm`` becomes
    None and ``former_rm`` keeps who looked after them (their history stays)."""
    if ref["segment_codes"].get(values["segment"]) == "mass" and rng.random() < POOL_SHARE_OF_MASS:
        values["former_rm"], values["primary_rm"] = values["primary_rm"], None


def customer_relationship_rows(values: dict, rng: random.Random, ref: dict, ids: dict) -> dict[str, list]:
    """Assignments (with some history and secondary RMs), a year of interactions, the follow-ups they ask for,
    and now and then a satisfaction rating, for one demo customer. ``values`` is the customer row (its
    last_contacted_at is set here); ``ids`` holds the next id of each table and is advanced."""

    cid, created, tz, today = values["id"], values["created_at"], ref["tz"], ref["today"]
    former = values.get("former_rm")  # a customer of the pool: their last RM
    rm_id = values["primary_rm"] or former
    rms = ref["rms"]
    rows: dict[str, list] = {"assignments": [], "interactions": [], "follow_ups": [], "ratings": []}
    # Portfolio history: one customer in ten had another RM before.
    start = created
    previous = None
    if rng.random() < 0.10:
        previous = rms[rng.randrange(len(rms))].pk
        if previous != rm_id:
            start = created + timedelta(days=rng.randint(1, max(1, (datetime.now(tz) - created).days - 1)))
            rows["assignments"].append(
                (ids["assignment"], cid, previous, "primary", created, start, "开户登记", "管户调整")
            )
            ids["assignment"] += 1
        else:
            previous = None
    now = datetime.now(tz)
    pooled_at = None
    if former is not None:
        moved_on = today - timedelta(days=30 + rng.randrange(150))
        pooled_at = max(start + timedelta(days=1), datetime.combine(moved_on, time(17, 0), tzinfo=tz))
    rows["assignments"].append((
        ids["assignment"], cid, rm_id, "primary", start, pooled_at, "开户登记" if previous is None else "管户调整",
        "客户经理调岗，转入客户池" if pooled_at else "",
    ))  # fmt: skip
    ids["assignment"] += 1
    if former is None and rng.random() < 0.03:
        secondary = rms[rng.randrange(len(rms))].pk
        if secondary != rm_id:
            rows["assignments"].append((ids["assignment"], cid, secondary, "secondary", start, None, "协管", ""))
            ids["assignment"] += 1
    # A year of contact.
    low, high = PER_YEAR.get(ref["segment_codes"].get(values["segment"]), PER_YEAR[None])
    if values["lifecycle"] in ("lost", "prospect"):
        high = low + 2
    count = rng.randint(low, high) if high > low else low
    # A lapsed customer was last contacted in the half-year before their tier's window, and already before the
    # window of every day of the dashboards' 90 days (so that coverage holds steady over them).
    policy = ref["policy_days"].get(values["segment"])
    lapsed = policy is not None and rng.random() < LAPSED_SHARE
    first_day, span = (policy + 90, 180) if lapsed else (0, 365)
    last = None
    random_ = rng.random  # the hot loop of the whole demo: one call per draw, no randrange
    for _ in range(count):
        day = today - timedelta(days=first_day + int(random_() * span))
        at = datetime.combine(day, time(9 + int(random_() * 9), int(random_() * 60)), tzinfo=tz)
        if at < created or at > now or (pooled_at is not None and at > pooled_at):
            continue
        staff = previous if previous is not None and at < start else rm_id
        outcome = OUTCOMES[int(random_() * 100)]
        next_on, next_action = None, ""
        if random_() < 0.05:
            next_on = day + timedelta(days=3 + int(random_() * 28))
            next_action = NEXT_ACTIONS[int(random_() * len(NEXT_ACTIONS))]
        iid = ids["interaction"]
        ids["interaction"] += 1
        notes = NOTES[int(random_() * len(NOTES))] if random_() < 0.3 else ""
        rows["interactions"].append((
            iid, cid, staff, CHANNELS[int(random_() * 100)], PURPOSES[int(random_() * 100)], at, at, at, outcome,
            notes, next_on, next_action,
        ))  # fmt: skip
        if outcome != "no_answer" and (last is None or at > last):
            last = at
        if next_on is not None and next_on >= today - timedelta(days=30) and former is None:
            status = "open" if next_on >= today - timedelta(days=7) else "done"
            completed = None
            if status == "done":
                # Most done by the day they were due, some a few days late (the 按时跟进 figure).
                late = random_() >= ON_TIME_SHARE
                done_on = next_on + timedelta(days=1 + int(random_() * 5) if late else -int(random_() * 3))
                completed = datetime.combine(done_on, time(10 + int(random_() * 7), int(random_() * 60)), tzinfo=tz)
            rows["follow_ups"].append((
                ids["follow_up"], cid, rm_id, "manual", next_on, next_action, "{}", f"interaction:{iid}",
                f"manual:interaction:{iid}", status, at, "", completed,
            ))  # fmt: skip
            ids["follow_up"] += 1
    values["last_contacted_at"] = last
    if former is None and rng.random() < RATED_SHARE and ref["raters"]:
        score = rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 12, 5, 3])[0]
        recorded = now - timedelta(days=rng.randrange(RATED_WITHIN_DAYS))
        rows["ratings"].append(
            (ids["rating"], cid, rm_id, score, "", ref["raters"][rng.randrange(len(ref["raters"]))], recorded)
        )
        ids["rating"] += 1
    return rows


def seed_visit_plans(*, seed: int, weeks: int = 4) -> int:
    """For each RM: reported plans for the past weeks, an approved one this week and a draft for next week."""

    if VisitPlan.objects.exists():
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    heads = {s.branch_id: s for s in Staff.objects.filter(role=Staff.Role.HEAD)}
    created = 0
    for rm in Staff.objects.filter(role=Staff.Role.RM, status=Staff.Status.ACTIVE).select_related("branch"):
        customers = list(Customer.objects.filter(primary_rm=rm).order_by("-aum").values_list("pk", flat=True)[:40])
        if not customers:
            continue
        reviewer = heads.get(rm.branch_id) or heads.get(rm.branch.parent_id)
        for week in range(-weeks, 2):
            day = monday + timedelta(days=7 * week + rng.randint(0, 4))
            status = "reported" if day < today else ("approved" if week == 0 else "draft")
            plan = VisitPlan.objects.create(
                staff=rm, planned_on=day, purpose=rng.choice(["maintenance", "marketing", "care"]), status=status,
                preparation="准备客户资产配置建议和产品资料", reviewed_by=reviewer if status != "draft" else None,
            )  # fmt: skip
            for pk in rng.sample(customers, min(len(customers), rng.randint(2, 5))):
                interaction = None
                if status == "reported":
                    at = datetime.combine(day, time(rng.randint(9, 16), 0), tzinfo=timezone.get_current_timezone())
                    interaction = Interaction.objects.create(
                        customer_id=pk, staff=rm, channel="visit", purpose=plan.purpose, occurred_at=at,
                        outcome="reached", notes="按计划上门拜访。", created_at=at, updated_at=at,
                    )  # fmt: skip
                    touch_last_contact(pk, at)
                VisitPlanItem.objects.create(plan=plan, customer_id=pk, interaction=interaction)
            created += 1
    return created
