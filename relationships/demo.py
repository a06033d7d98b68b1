"""Demo organisation for seed_demo: one 分行, its 支行 and 网点, and about 30 staff in every role.

Idempotent: branches are found by code and staff by employee number, so a second run creates nothing.
"""

import random
from dataclasses import dataclass

from django.db import transaction

from . import services
from .models import Branch, Staff

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 建华 建国 志强 晓东 丽娟 海燕 "
    "子涵 欣怡 梓萱 浩然 宇轩 雨桐 俊杰 思远 嘉怡 佳琪 文博 一鸣 晨曦 天佑 若曦 慧敏 志明 春梅 国栋 立新"
).split()

BRANCH_CODE = "330100"
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
    return services.branch_create(actor=None, code=code, name=name, level=level, parent=parent)


def _staff(*, rng, username, employee_no, branch, role, password, name=None) -> Staff:
    existing = Staff.objects.filter(employee_no=employee_no).select_related("branch").first()
    name = name or person_name(rng)  # drawn even when the row exists, so that later names stay the same
    if existing is not None:
        return existing
    staff = services.staff_create(
        actor=None,
        username=username,
        password=None,
        employee_no=employee_no,
        name=name,
        branch=branch,
        role=role,
        email=f"{username}@demo.invalid",
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
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

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


DEMO_USERNAMES = ("admin", "head", "officer", "head1", "rm1")


def demo_logins() -> list[DemoLogin]:
    """The demo logins that exist, in the order seed_organisation prints them."""
    staff = {
        s.user.username: s
        for s in Staff.objects.filter(user__username__in=DEMO_USERNAMES).select_related("user", "branch")
    }
    return [
        DemoLogin(name, staff[name].get_role_display(), staff[name].name, staff[name].branch.name)
        for name in DEMO_USERNAMES
        if name in staff
    ]
