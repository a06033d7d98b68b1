"""Demo segments (客群): a few saved filters of the customer list for the first sub-branch's head and two of its RMs
(of one outlet, so one sees the other's shared segment), the head of the 分行 and the administrator. Each is
saved through the service, as the save page saves it; a segment whose filters the customer list does not have (yet)
is left for a later run. Idempotent: a segment its owner already has (by name) is not saved again. A handful of rows
whatever the number of customers: a segment stores a filter, not its customers."""

from customers.models import Segment
from marketing import services
from marketing.models import SavedSegment
from marketing.segments import read_filter
from organisation.models import Branch, Staff

PRIVATE, SHARED = SavedSegment.Visibility.PRIVATE, SavedSegment.Visibility.SHARED

# (owner, name, description, visibility, parameters); a tier by its code.
SEGMENTS = (
    ("rm", "高净值客户（50万以上）", "金融资产 50 万元以上，按资产从高到低", PRIVATE,
     {"aum_min": ["500000"], "sort": ["-aum"]}),
    ("rm", "进取型客户（C4）", "风险承受能力 C4，可推介中高风险产品", SHARED, {"risk_level": ["C4"]}),
    ("rm", "衰退期客户 久未联系优先", "资产下滑的客户，最久未联系的排在前面", SHARED,
     {"lifecycle": ["declining"], "sort": ["last_contacted_at"]}),
    ("rm", "高净值 未联系90天", "金融资产 50 万元以上、90 天未联系", PRIVATE,
     {"aum_min": ["500000"], "not_contacted_days": ["90"]}),
    ("rm2", "潜力客户 稳健型", "", PRIVATE, {"segment": ["potential"], "risk_level": ["C3"]}),
    ("head", "财富客户 衰退期", "支行重点挽留名单", SHARED, {"segment": ["wealth"], "lifecycle": ["declining"]}),
    ("head", "对公客户", "", SHARED, {"kind": ["corporate"], "sort": ["-aum"]}),
    ("top", "全行私行客户", "私行客户，按资产从高到低", SHARED, {"segment": ["private"], "sort": ["-aum"]}),
    ("admin", "流失客户（挽回）", "已流失客户，供各行开展挽回", SHARED, {"lifecycle": ["lost"]}),
)  # fmt: skip


def _owners() -> dict[str, Staff]:
    active = Staff.objects.filter(status=Staff.Status.ACTIVE).select_related("branch", "user").order_by("employee_no")
    head = active.filter(role=Staff.Role.HEAD, branch__level=Branch.Level.SUB_BRANCH).first()
    owners = {
        "top": active.filter(role=Staff.Role.HEAD, branch__level=Branch.Level.BRANCH).first(),
        "admin": active.filter(role=Staff.Role.ADMIN).first(),
        "head": head,
    }
    if head is not None:
        rm = active.filter(role=Staff.Role.RM, branch__path__startswith=head.branch.path).first()
        owners["rm"] = rm
        if rm is not None:
            owners["rm2"] = active.filter(role=Staff.Role.RM, branch=rm.branch).exclude(pk=rm.pk).first()
    return {key: staff for key, staff in owners.items() if staff is not None}


def seed_segments() -> int:
    """Save the demo segments that are missing; returns how many were saved."""
    owners = _owners()
    tiers = dict(Segment.objects.values_list("code", "pk"))
    saved = 0
    for key, name, description, visibility, params in SEGMENTS:
        owner = owners.get(key)
        if owner is None or SavedSegment.objects.filter(owner=owner, name=name).exists():
            continue
        if "segment" in params:
            if params["segment"][0] not in tiers:
                continue
            params = {**params, "segment": [str(tiers[params["segment"][0]])]}
        read = read_filter(params, owner)
        if read.dropped or set(read.params) != set(params):
            continue  # a filter the customer list does not offer (yet), or not to this owner
        services.segment_create(
            actor=owner, name=name, description=description, visibility=visibility, params=read.params,
            criteria=read.rows(),
        )  # fmt: skip
        saved += 1
    return saved
