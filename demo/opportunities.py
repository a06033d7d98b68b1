"""Demo opportunities (商机) for seed_demo: one customer in 25 (the same ones for a seed) has an opportunity, owned
by whoever looks after them (the RM, or the pool's keeper), across the stages — 线索 30 %, 意向 25 %, 方案 15 %,
成交 20 %, 失败 10 % — with expected dates from three weeks ago (overdue ones) to five months ahead. Most won ones
show in the customers' holdings (the sale, opened on the won day), and the morning's reconciliation matches them;
the won ones older than its grace without a holding come out unmatched.

Set-based and fast at a million customers: one read of the chosen customers, COPY of the opportunities, their
events and the holdings of the sales (about 40,000, 50,000 and 5,000 rows at a million customers), then the
reconciliation job's few statements. Idempotent: only chosen customers without an opportunity get one, so running
seed_demo again adds only what is missing (for customers added since)."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Mod
from django.utils import timezone

from crm_site.bulk import load_rows, next_id, reset_sequence
from customers import masking
from customers.models import Customer, Holding, Product
from opportunities.models import Opportunity, OpportunityEvent
from opportunities.services import opportunities_reconcile
from pool.keepers import customer_owner_expression

SHARE = 25  # one customer in SHARE
STAGES = (("lead", 30), ("interest", 25), ("proposal", 15), ("won", 20), ("lost", 10))
SOLD = 0.75  # the share of won ones whose sale shows in the holdings
LOST_REASONS = ("price", "competitor", "no_funds", "unsuitable", "not_interested")
# Amounts in 10,000 CNY by kind of product: (lowest, highest).
AMOUNTS = {
    "deposit": (2, 50), "time_deposit": (10, 500), "wealth": (5, 300), "fund": (5, 200), "insurance": (5, 100),
    "loan": (20, 300),
}  # fmt: skip
NOTES = ("理财到期资金续作", "客户有闲置资金，推荐稳健型产品", "代发工资客户，介绍定期存款", "客户子女留学，咨询外汇与保险",
         "房贷客户，提前还款意向", "企业主，关注大额存单", "")  # fmt: skip
OPPORTUNITY_COLUMNS = [
    "id", "customer", "branch", "owner", "product", "product_category", "amount", "expected_on", "stage", "lost_reason",
    "lost_note", "note", "source", "created_by", "created_at", "updated_at", "stage_changed_at", "won_on",
    "match_status",
]  # fmt: skip
EVENT_COLUMNS = ["opportunity", "kind", "actor", "at", "from_stage", "to_stage", "to_owner", "text", "data"]
HOLDING_COLUMNS = ["customer", "product", "amount", "account_no_masked", "opened_on", "maturity_on", "as_of"]


def _chosen(seed: int):
    """The chosen customers without an opportunity, with who looks after them: one query."""
    return (
        Customer.objects.annotate(_m=Mod("id", SHARE))
        .filter(_m=seed % SHARE, closed_on__isnull=True)
        .exclude(Exists(Opportunity.objects.filter(customer_id=OuterRef("pk"))))
        .annotate(_owner=customer_owner_expression())
        .filter(_owner__isnull=False)
        .order_by("pk")
        .values_list("pk", "branch_id", "_owner")
    )


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())


@transaction.atomic
def seed_opportunities(*, seed: int, today=None) -> dict:
    """The demo's opportunities; returns what was written."""
    today = today or timezone.localdate()
    customers = list(_chosen(seed))
    if not customers:
        return {"opportunities": 0, "holdings": 0, "matched": 0, "unmatched": 0}
    products: dict[str, list[Product]] = {}
    for product in Product.objects.filter(is_active=True).order_by("code"):
        products.setdefault(product.category, []).append(product)
    kinds = sorted(products) or ["wealth"]
    rng = random.Random(seed + 31)
    stages, weights = zip(*STAGES, strict=True)
    first = next_id(Opportunity)
    opportunities, events, holdings = [], [], []
    for n, (customer_id, branch_id, owner) in enumerate(customers):
        pk = first + n
        kind = rng.choice(kinds)
        product = rng.choice(products[kind]) if products.get(kind) and rng.random() < 0.7 else None
        low, high = AMOUNTS.get(kind, (5, 100))
        amount = Decimal(rng.randint(low, high) * 10000)
        stage = rng.choices(stages, weights)[0]
        age = rng.randint(3, 120)
        created = _at(today - timedelta(days=age), 10)
        changed = created if stage == "lead" else _at(today - timedelta(days=rng.randint(0, age - 1)), 15)
        expected = today + timedelta(days=rng.randint(-20, 150))
        won_on = timezone.localdate(changed) if stage == "won" else None
        if won_on is not None:
            expected = min(expected, won_on + timedelta(days=10))
        lost_reason = rng.choice(LOST_REASONS) if stage == "lost" else ""
        opportunities.append((
            pk, customer_id, branch_id, owner, product.pk if product else None, kind, amount, expected, stage,
            lost_reason, "", rng.choice(NOTES), "manual", owner, created, changed, changed, won_on,
            "pending" if stage == "won" else "",
        ))  # fmt: skip
        events.append((pk, "created", owner, created, "", "lead", owner, "", "{}"))
        if stage != "lead":
            data = f'{{"lost_reason": "{lost_reason}"}}' if lost_reason else "{}"
            events.append((pk, "stage", owner, changed, "lead", stage, None, "", data))
        if won_on is not None and rng.random() < SOLD:
            sold = product or (rng.choice(products[kind]) if products.get(kind) else None)
            if sold is not None:
                account = f"622202{rng.randint(0, 10**9 - 1):09d}{rng.randint(0, 9)}"
                maturity = won_on + timedelta(days=sold.term_days) if sold.term_days else None
                holdings.append((customer_id, sold.pk, amount, masking.mask_account(account), won_on, maturity, won_on))
    written = load_rows(Opportunity, OPPORTUNITY_COLUMNS, opportunities)
    load_rows(OpportunityEvent, EVENT_COLUMNS, events)
    load_rows(Holding, HOLDING_COLUMNS, holdings)
    for model in (Opportunity, OpportunityEvent, Holding):
        reset_sequence(model)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Opportunity, OpportunityEvent):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    checked = opportunities_reconcile(today=today)
    return {
        "opportunities": written,
        "holdings": len(holdings),
        "matched": checked["matched"],
        "unmatched": checked["unmatched"],
    }
