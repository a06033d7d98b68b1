"""Demo customers at any scale for seed_demo: individuals and corporates with valid identifiers, holdings with
maturities, and 90 days of asset snapshots, spread over branches, RMs and tiers.

Deterministic: customer i is generated from its own random stream (seed, i), so the same seed gives the same
customers however the run is batched, and a second run only adds what is missing. Rows are written with COPY
on PostgreSQL (crm_site.bulk); the snapshots are generated inside the database in one INSERT … SELECT per batch.
"""

import queue
import random
import threading
import time
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from crm_site.bulk import bulk_load_mode, load, next_id, prepare, reset_sequence
from crm_site.lunar import lunar_month_day
from customers import masking, pii
from customers.models import AssetSnapshot, Customer, Holding, Product, Segment, Tag
from customers.validators import resident_id_check_char, uscc_check_char
from demo.organisation import (
    ASSIGNMENT_COLUMNS,
    FOLLOW_UP_COLUMNS,
    GIVEN,
    INTERACTION_COLUMNS,
    RATING_COLUMNS,
    SURNAMES,
    customer_relationship_rows,
    pool_customer,
    relationship_reference,
)
from organisation.models import Branch, Staff
from relationships.models import Assignment, Interaction, SatisfactionRating
from reminders.models import FollowUp

DEMO_PREFIX = "9"  # demo customer numbers: 9 + 11 digits
AREAS = ("330102", "330105", "330106", "330108", "330109", "330110", "330122", "330182", "110105", "310104",
         "320102", "440305", "510104", "420102", "370102", "350203")  # fmt: skip
OCCUPATIONS = "教师 医生 工程师 公务员 个体经营 企业管理 退休 销售 会计 律师 自由职业 学生 农民 司机 设计师".split()
STREETS = "文三路 教工路 学院路 莫干山路 延安路 解放路 江南大道 滨盛路 市心路 金城路 人民路 建设一路".split()
COMPANY_WORDS = "恒信 华瑞 东方 新亚 佳和 宏达 顺丰 嘉禾 锦程 天成 永安 博远 汇通 盛世 鼎力 瑞丰".split()
INDUSTRIES = (("制造业", "制造有限公司"), ("批发和零售业", "贸易有限公司"), ("信息技术", "科技有限公司"),
              ("建筑业", "建设工程有限公司"), ("餐饮业", "餐饮管理有限公司"), ("物流", "物流有限公司"))  # fmt: skip
TAGS = ("代发工资", "养老金", "房贷客户", "商户", "理财偏好", "高净值潜客", "社保卡")
MOBILE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177",
                   "180", "181", "186", "187", "188", "189", "199")  # fmt: skip

PRODUCTS = (
    # code, name, category, risk, term days
    ("DEP-CUR", "活期储蓄", "deposit", "R1", None),
    ("DEP-3M", "整存整取三个月", "time_deposit", "R1", 91),
    ("DEP-6M", "整存整取六个月", "time_deposit", "R1", 182),
    ("DEP-1Y", "整存整取一年", "time_deposit", "R1", 365),
    ("DEP-3Y", "大额存单三年", "time_deposit", "R1", 1095),
    ("WM-R1-90", "安心理财90天", "wealth", "R1", 90),
    ("WM-R2-180", "稳健理财180天", "wealth", "R2", 180),
    ("WM-R2-365", "稳健理财一年", "wealth", "R2", 365),
    ("WM-R3-365", "平衡理财一年", "wealth", "R3", 365),
    ("WM-R4-730", "进取理财两年", "wealth", "R4", 730),
    ("FD-MMF", "货币基金", "fund", "R1", None),
    ("FD-BOND", "债券基金", "fund", "R2", None),
    ("FD-MIX", "混合基金", "fund", "R3", None),
    ("FD-EQ", "股票基金", "fund", "R4", None),
    ("FD-QDII", "海外股票基金", "fund", "R5", None),
    ("INS-ANN", "年金保险", "insurance", "R2", 3650),
    ("INS-UL", "万能险", "insurance", "R3", 1825),
    ("LN-MORT", "个人住房贷款", "loan", "R1", 7300),
    ("LN-CONS", "个人消费贷款", "loan", "R1", 365),
)


def products_ensure() -> list[Product]:
    for code, name, category, risk, term in PRODUCTS:
        Product.objects.get_or_create(
            code=code, defaults={"name": name, "category": category, "risk_level": risk, "term_days": term}
        )
    return list(Product.objects.filter(code__in=[p[0] for p in PRODUCTS]).order_by("code"))


def resident_id(i: int, rng: random.Random) -> tuple[str, date, str]:
    """A valid, unique resident ID for customer i: (area, birth day, sequence) is a bijection of i."""
    j = (i * 7919) % 23_000_000  # 23,000 birth days × 1,000 sequence numbers; 7919 is coprime to 23,000,000
    birth = date(1942, 1, 1) + timedelta(days=j // 1000)
    seq = j % 1000
    area = (
        AREAS[(i // 23_000_000 + rng.randrange(len(AREAS))) % len(AREAS)] if i >= 23_000_000 else AREAS[i % len(AREAS)]
    )
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_char(first17), birth, "M" if seq % 2 else "F"


def credit_code(i: int) -> str:
    first17 = f"913301{(i * 7919) % 10**11:011d}"
    return first17 + uscc_check_char(first17)


def mobile(i: int) -> str:
    return MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)] + f"{(i * 7919 + 13) % 10**8:08d}"


def aum_for(rng: random.Random) -> Decimal:
    # Log-normal: median about 22,000 CNY; roughly 1 in 1,000 above 6,000,000 (private banking).
    value = rng.lognormvariate(10.0, 1.8)
    return Decimal(min(value, 2e8)).quantize(Decimal("0.01"))


def segment_for(aum: Decimal, segments: list[Segment]) -> int | None:
    for segment in segments:
        if segment.contains(aum):
            return segment.pk
    return None


def seed_customers(*, n: int, seed: int, out=print) -> dict:
    """Make sure the first ``n`` demo customers exist; returns counts of what was written, and timings.

    A producer thread generates and formats each batch of rows (pure Python) while this thread loads the
    previous one into the database, so the two cores work at once.
    """
    existing = Customer.objects.filter(customer_no__regex=r"^9\d{11}$").count()
    if existing >= n:
        return {"customers": 0}
    reference = reference_data()
    first_customer = next_id(Customer)
    ids = {
        "holding": next_id(Holding),
        "assignment": next_id(Assignment),
        "interaction": next_id(Interaction),
        "follow_up": next_id(FollowUp),
        "rating": next_id(SatisfactionRating),
    }
    batches: queue.Queue = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def produce():
        try:
            for start in range(existing, n, BATCH):
                stop = min(start + BATCH, n)
                batches.put(_batch(start, stop, first_customer + start - existing, ids, seed, reference))
        except BaseException as exc:  # noqa: BLE001 - handed to the loading thread
            failure.append(exc)
        finally:
            batches.put(None)

    written = dict.fromkeys(["customers", "holdings", "snapshots", "tags", *RELATIONSHIP_TABLES], 0)
    seconds = {"load": 0.0, "snapshots": 0.0, "indexes": 0.0}
    producer = threading.Thread(target=produce, name="seed-producer", daemon=True)
    producer.start()
    # A large load rebuilds the indexes once at the end instead of updating them row by row.
    mode = bulk_load_mode if n - existing >= 100_000 else (lambda *models: nullcontext())
    with transaction.atomic(), mode(*LOADED_MODELS):
        while (batch := batches.get()) is not None:
            clock = time.monotonic()
            for name, payload in batch["payloads"].items():
                written[name] += load(payload)
            seconds["load"] += time.monotonic() - clock
            clock = time.monotonic()
            written["snapshots"] += snapshots_generate(
                batch["first_id"], batch["last_id"], reference["today"], first_snapshot_id=next_id(AssetSnapshot)
            )
            seconds["snapshots"] += time.monotonic() - clock
            out(f"  customers {batch['stop']:,}/{n:,}")
        if failure:
            raise failure[0]
        for model in LOADED_MODELS:
            if model is not Customer.tags.through:
                reset_sequence(model)
        out("  indexes …")
        clock = time.monotonic()
    seconds["indexes"] = time.monotonic() - clock
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (*LOADED_MODELS, Branch, Staff):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    written["seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    return written


BATCH = 50_000


def reference_data() -> dict:
    """What every batch needs, loaded once: RMs, products, tags, tiers, and the relationships' references."""
    rms = list(Staff.objects.filter(role=Staff.Role.RM, status=Staff.Status.ACTIVE).order_by("employee_no"))
    if not rms:
        raise RuntimeError("seed the organisation first")
    return {
        "rms": rms,
        "products": products_ensure(),
        "tags": [Tag.objects.get_or_create(name=name)[0] for name in TAGS],
        "segments": list(Segment.objects.all()),
        "today": timezone.localdate(),
        "tz": timezone.get_current_timezone(),
        **relationship_reference(),
    }


RELATIONSHIP_TABLES = {
    "assignments": (Assignment, ASSIGNMENT_COLUMNS),
    "interactions": (Interaction, INTERACTION_COLUMNS),
    "follow_ups": (FollowUp, FOLLOW_UP_COLUMNS),
    "ratings": (SatisfactionRating, RATING_COLUMNS),
}
LOADED_MODELS = (
    Customer,
    Holding,
    AssetSnapshot,
    Customer.tags.through,
    Assignment,
    Interaction,
    FollowUp,
    SatisfactionRating,
)


def _batch(start: int, stop: int, first_id: int, ids: dict, seed: int, ref: dict) -> dict:
    """Customers start..stop-1 (ids from first_id) with their holdings, tags and relationship data (portfolio
    history, a year of interactions, follow-ups, ratings), formatted for loading. ``ids`` is advanced."""
    customers, holdings, tag_rows = [], [], []
    related: dict[str, list] = {name: [] for name in RELATIONSHIP_TABLES}
    for offset, i in enumerate(range(start, stop)):
        cid = first_id + offset
        rng = random.Random(seed * 1_000_003 + i)
        values, risk = _customer_row(i, cid, rng, ref["rms"], ref["segments"], ref["today"], ref["tz"])
        pool_customer(values, rng, ref)
        for h in _holdings(cid, rng, ref["products"], risk, values, ref["today"]):
            holdings.append((ids["holding"], *h))
            ids["holding"] += 1
        if rng.random() < 0.25:
            for tag in rng.sample(ref["tags"], rng.randint(1, 2)):
                tag_rows.append((cid, tag.pk))
        for name, rows in customer_relationship_rows(values, rng, ref, ids).items():
            related[name].extend(rows)
        customers.append(tuple(values[c] for c in CUSTOMER_COLUMNS))
    payloads = {
        "customers": prepare(Customer, CUSTOMER_COLUMNS, customers),
        "holdings": prepare(Holding, HOLDING_COLUMNS, holdings),
        "tags": prepare(Customer.tags.through, ["customer", "tag"], tag_rows),
    }
    for name, (model, columns) in RELATIONSHIP_TABLES.items():
        payloads[name] = prepare(model, columns, related[name])
    return {"payloads": payloads, "first_id": first_id, "last_id": first_id + (stop - start) - 1, "stop": stop}


CUSTOMER_COLUMNS = [
    "id", "customer_no", "kind", "name", "branch", "primary_rm", "segment", "lifecycle", "aum", "aum_as_of",
    "last_contacted_at", "notes", "id_type", "id_number_enc", "id_number_hash", "id_number_masked", "id_last4",
    "gender", "birth_date", "birth_md", "lunar_birth_md", "lunar_birthday", "occupation", "address", "risk_level",
    "risk_assessed_on",
    "risk_expires_on", "mobile_enc", "mobile_hash", "mobile_masked", "credit_code", "legal_representative",
    "industry", "contact_person", "created_at", "updated_at",
]  # fmt: skip
HOLDING_COLUMNS = ["id", "customer", "product", "amount", "account_no_masked", "opened_on", "maturity_on"]
LIFECYCLES = (("new", 10), ("growing", 25), ("mature", 45), ("declining", 12), ("lost", 5), ("prospect", 3))


def _customer_row(i, cid, rng, rms, segments, today, tz):
    rm = rms[rng.randrange(len(rms))]
    corporate = rng.random() < 0.05
    aum = aum_for(rng) * (5 if corporate else 1)
    lifecycle = rng.choices([x for x, _ in LIFECYCLES], weights=[w for _, w in LIFECYCLES])[0]
    created = datetime.combine(today - timedelta(days=rng.randint(30, 3650)), clock_time(9, 0), tzinfo=tz)
    phone = mobile(i)
    common = {
        "mobile_enc": pii.encrypt(phone),
        "mobile_hash": pii.search_hash("mobile", phone),
        "mobile_masked": masking.mask_mobile(phone),
    }
    address = f"浙江省杭州市{rng.choice(STREETS)}{rng.randint(1, 999)}号"
    if corporate:
        word = rng.choice(COMPANY_WORDS)
        industry, suffix = rng.choice(INDUSTRIES)
        name = f"杭州{word}{suffix}"
        ind = dict.fromkeys(("id_type", "id_number_enc", "id_number_hash", "id_number_masked", "id_last4", "gender",
                             "occupation", "risk_level"), "")  # fmt: skip
        ind.update(
            birth_date=None,
            birth_md=None,
            lunar_birth_md=None,
            lunar_birthday=False,
            risk_assessed_on=None,
            risk_expires_on=None,
        )
        corp = {
            "credit_code": credit_code(i),
            "legal_representative": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "industry": industry,
            "contact_person": rng.choice(SURNAMES) + rng.choice(GIVEN),
        }
        kind, risk = "corporate", ""
    else:
        number, birth, gender = resident_id(i, rng)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN)[0] if rng.random() < 0.3 else "")
        risk = rng.choices(["C1", "C2", "C3", "C4", "C5", ""], weights=[15, 30, 30, 12, 5, 8])[0]
        assessed = today - timedelta(days=rng.randint(0, 700)) if risk else None
        ind = {
            "id_type": "resident_id",
            "id_number_enc": pii.encrypt(number),
            "id_number_hash": pii.search_hash("resident_id", number),
            "id_number_masked": masking.mask_id_number(number),
            "id_last4": number[-4:],
            "gender": gender,
            "birth_date": birth,
            "birth_md": birth.month * 100 + birth.day,
            "lunar_birth_md": lunar_month_day(birth),
            "lunar_birthday": rng.random() < 0.05,
            "occupation": rng.choice(OCCUPATIONS),
            "risk_level": risk,
            "risk_assessed_on": assessed,
            "risk_expires_on": assessed + timedelta(days=settings.RISK_ASSESSMENT_VALID_DAYS) if assessed else None,
        }
        corp = {"credit_code": None, "legal_representative": "", "industry": "", "contact_person": ""}
        kind = "individual"
    values = {
        "id": cid,
        "customer_no": f"{DEMO_PREFIX}{i:011d}",
        "kind": kind,
        "name": name,
        "branch": rm.branch_id,
        "primary_rm": rm.pk,
        "segment": segment_for(aum, segments),
        "lifecycle": lifecycle,
        "aum": aum,
        "aum_as_of": today,
        "last_contacted_at": None,  # set from the generated interactions
        "notes": "",
        "address": address,
        "created_at": created,
        "updated_at": created,
        **common,
        **ind,
        **corp,
    }
    return values, risk


def _holdings(cid, rng, products, risk, values, today):
    aum = values["aum"]
    count = rng.choices([0, 1, 2, 3, 4], weights=[10, 35, 30, 17, 8])[0]
    level = int(risk[1]) if risk else 2
    for _ in range(count):
        product = rng.choice(products)
        if product.category in Product.INVESTMENT and int(product.risk_level[1]) > level and rng.random() < 0.9:
            # Most sales respect suitability; a few do not, and the 360° page flags them.
            product = next(p for p in products if p.code == "DEP-1Y")
        opened = today - timedelta(days=rng.randint(1, 900))
        maturity = None
        if product.term_days:
            maturity = opened + timedelta(days=product.term_days)
            if maturity < today and product.category != "loan":
                opened = today - timedelta(days=rng.randint(1, product.term_days - 1 if product.term_days > 1 else 1))
                maturity = opened + timedelta(days=product.term_days)
        share = Decimal(rng.randint(5, 60)) / 100
        amount = (
            (aum * share).quantize(Decimal("0.01"))
            if product.category != "loan"
            else Decimal(rng.randint(5, 200) * 10000)
        )
        account = f"622202{rng.randint(0, 10**9 - 1):09d}{rng.randint(0, 9)}"
        yield (cid, product.pk, amount, masking.mask_account(account), opened, maturity)


def snapshots_generate(first_id: int, last_id: int, today: date, days: int = 90, *, first_snapshot_id: int) -> int:
    """90 days of AUM snapshots for customers first_id..last_id, generated in the database.

    Today's value is the customer's AUM; earlier days follow a deterministic pattern by customer id: most
    wander within ±1 %, every 23rd was higher (assets leaving), every 7th lower (growing), and every 211th
    fell by more than a third overnight (a large movement). Ids are given (contiguous from
    ``first_snapshot_id``) rather than drawn from the sequence one by one.
    """
    values = ", ".join(["(%s, %s)"] * days)
    params: list = []
    for t in range(days):
        params += [t, today - timedelta(days=t)]
    table = connection.ops.quote_name(AssetSnapshot._meta.db_table)
    customers = connection.ops.quote_name(Customer._meta.db_table)
    sql = f"""
        WITH days(t, d) AS (VALUES {values})
        INSERT INTO {table} (id, customer_id, date, aum)
        SELECT %s + (c.id - %s) * {days:d} + days.t, c.id, days.d, ROUND(c.aum * (CASE
            WHEN days.t = 0 THEN 1.0
            WHEN c.id %% 211 = 0 THEN 1.6
            WHEN c.id %% 23 = 0 THEN 1.0 + 0.005 * days.t
            WHEN c.id %% 7 = 0 THEN 1.0 - 0.002 * days.t
            ELSE 1.0 + ((c.id * 7919 + days.t * 104729) %% 41 - 20) / 2000.0
        END), 2)
        FROM {customers} c CROSS JOIN days
        WHERE c.id BETWEEN %s AND %s
    """  # noqa: S608 - table names from _meta, days an int; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, first_snapshot_id, first_id, first_id, last_id])
        return cursor.rowcount if cursor.rowcount >= 0 else (last_id - first_id + 1) * days
