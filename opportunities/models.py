"""Opportunities (商机): a sale an RM is working towards with a customer — a product or a kind of product, an
expected amount and date — through the stages 线索 → 意向 → 方案 → 成交 / 失败, each change kept in the
opportunity's events. A won opportunity is reconciled with the core-banking holdings: matched to the holding the
customer opened, or flagged when none appears (docs/opportunities.md)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site import text_limits
from customers.models import Product, risk_rank
from organisation.models import Branch, Staff

MIN_AMOUNT = Decimal("0.01")


class Opportunity(models.Model):
    class Stage(models.TextChoices):
        LEAD = "lead", _("Lead (线索)")
        INTEREST = "interest", _("Interest (意向)")
        PROPOSAL = "proposal", _("Proposal (方案)")
        WON = "won", _("Won (成交)")
        LOST = "lost", _("Lost (失败)")

    OPEN_STAGES = (Stage.LEAD, Stage.INTEREST, Stage.PROPOSAL)
    CLOSED_STAGES = (Stage.WON, Stage.LOST)

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand (手工录入)")
        INTERACTION = "interaction", _("From a contact (客户接触)")
        CAMPAIGN = "campaign", _("From a campaign (营销活动)")

    class LostReason(models.TextChoices):
        PRICE = "price", _("Rate or price not attractive (收益或价格不满意)")
        COMPETITOR = "competitor", _("Went to another bank (选择他行)")
        NO_FUNDS = "no_funds", _("No funds for it (资金不足或另有安排)")
        UNSUITABLE = "unsuitable", _("Risk level not suitable (风险等级不匹配)")
        NOT_INTERESTED = "not_interested", _("No longer interested (客户无意向)")
        OTHER = "other", _("Other (其他)")

    class Match(models.TextChoices):
        # Only a won opportunity has one (blank otherwise).
        PENDING = "pending", _("Waiting for the holding (待核对)")
        MATCHED = "matched", _("Matched to a holding (已匹配)")
        UNMATCHED = "unmatched", _("No holding found (未匹配)")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    # The customer's home branch, kept in step with it (set on create; the customers_moved receiver follows a move,
    # the only way a home branch changes; the nightly reconciliation repairs any drift): the head's pipeline filters
    # and sums by it without joining the customer table.
    branch = models.ForeignKey(Branch, verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(Staff, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="opportunities")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    product_category = models.CharField(_("product kind"), max_length=20, choices=Product.Category.choices)
    amount = models.DecimalField(
        _("expected amount (CNY)"), max_digits=18, decimal_places=2, validators=[MinValueValidator(MIN_AMOUNT)]
    )
    expected_on = models.DateField(_("expected on"))
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.LEAD)
    lost_reason = models.CharField(_("why it was lost"), max_length=20, choices=LostReason.choices, blank=True)
    lost_note = models.CharField(_("lost: details"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, **text_limits.bounded(text_limits.NOTE))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.MANUAL)
    interaction = models.ForeignKey(
        "relationships.Interaction",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The id of the record of the app that opened it (a campaign's target, in marketing, which lies above: no
    # foreign key). Unique per source, so a retried open returns the first opportunity.
    source_ref = models.PositiveBigIntegerField(_("source reference"), null=True, blank=True)
    created_by = models.ForeignKey(
        Staff, verbose_name=_("created by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    stage_changed_at = models.DateTimeField(_("stage changed at"), default=timezone.now)
    won_on = models.DateField(_("won on"), null=True, blank=True)
    match_status = models.CharField(_("holding check"), max_length=10, choices=Match.choices, blank=True)
    matched_holding = models.OneToOneField(
        "customers.Holding",
        verbose_name=_("matched holding"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunity",
    )
    matched_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=MIN_AMOUNT), name="opportunity_amount_positive"),
            models.CheckConstraint(
                condition=(Q(stage="lost") & ~Q(lost_reason="")) | (~Q(stage="lost") & Q(lost_reason="")),
                name="opportunity_lost_has_reason",
            ),
            models.CheckConstraint(
                condition=(Q(stage="won") & Q(won_on__isnull=False) & ~Q(match_status=""))
                | (~Q(stage="won") & Q(won_on__isnull=True) & Q(match_status="")),
                name="opportunity_won_has_day_and_check",
            ),
            models.CheckConstraint(
                condition=Q(match_status="matched", matched_holding__isnull=False)
                | (~Q(match_status="matched") & Q(matched_holding__isnull=True)),
                name="opportunity_matched_has_holding",
            ),
            models.CheckConstraint(
                condition=~Q(source="interaction") | Q(interaction__isnull=False),
                name="opportunity_interaction_source",
            ),
            models.UniqueConstraint(
                fields=["source", "source_ref"], condition=Q(source_ref__isnull=False), name="opportunity_source_ref"
            ),
        ]
        indexes = [
            # 我的商机: an owner's open opportunities by expected date (the stale reminder groups by owner too).
            models.Index(
                fields=["owner", "expected_on"],
                condition=Q(stage__in=["lead", "interest", "proposal"]),
                name="opportunity_owner_open_idx",
            ),
            # The branch pipeline: a subtree's open opportunities, summed by stage and expected month, and counted
            # stale, from the index alone (amount and dates included), without the customer table.
            models.Index(
                fields=["branch", "stage"],
                include=["amount", "expected_on", "stage_changed_at"],
                condition=Q(stage__in=["lead", "interest", "proposal"]),
                name="opportunity_branch_open_idx",
            ),
            # The whole bank's open pipeline by expected date (an administrator, the top branch's head).
            models.Index(
                fields=["expected_on"],
                condition=Q(stage__in=["lead", "interest", "proposal"]),
                name="opportunity_open_due_idx",
            ),
            # Won ones: the reconciliation's pending rows; the pipeline's count of the unmatched ones; the closed lists.
            models.Index(fields=["won_on"], condition=Q(match_status="pending"), name="opportunity_pending_idx"),
            models.Index(fields=["branch"], condition=Q(match_status="unmatched"), name="opportunity_unmatched_idx"),
            models.Index(fields=["branch", "stage", "-stage_changed_at"], name="opportunity_branch_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.get_product_category_display()} · {self.amount}"

    @property
    def is_open(self) -> bool:
        return self.stage in self.OPEN_STAGES

    @property
    def what(self) -> str:
        """The product, or the kind of product when none was chosen."""
        return self.product.name if self.product_id else self.get_product_category_display()

    @property
    def suitability_issue(self) -> str:
        """Why the product may not be sold to this customer as things stand (适当性: an investment product's risk
        above an individual's tolerance, or no valid assessment), or "" (needs product and customer loaded). The sale
        itself is checked in core banking; the opportunity says it early."""
        product, customer = self.product, self.customer
        if product is None or not product.is_investment or not customer.is_individual:
            return ""
        if not customer.risk_level or customer.risk_expired:
            return "no_assessment"
        return "above" if risk_rank(product.risk_level) > risk_rank(customer.risk_level) else ""

    def is_overdue_on(self, day) -> bool:
        return self.is_open and self.expected_on < day

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())

    def clean(self) -> None:
        if self.product_id and self.product_category and self.product.category != self.product_category:
            raise ValidationError({"product": _("The product is not of the kind chosen.")})
        if self.stage == self.Stage.LOST and self.lost_reason == self.LostReason.OTHER and not self.lost_note.strip():
            raise ValidationError({"lost_note": _("Say why the opportunity was lost.")})


class OpportunityEvent(models.Model):
    """The opportunity's history: created, each stage change, each edit, each change of owner, and the holding
    check's outcome. Append-only: written by the services (set-based for the moves and the checks)."""

    class Kind(models.TextChoices):
        CREATED = "created", pgettext_lazy("opportunity event", "Created")
        STAGE = "stage", _("Stage changed")
        EDITED = "edited", _("Amount or date changed")
        OWNER = "owner", _("Owner changed")
        MATCHED = "matched", _("Matched to a holding")
        UNMATCHED = "unmatched", _("No holding found")

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        Staff, verbose_name=_("by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_stage = models.CharField(_("from"), max_length=10, choices=Opportunity.Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=10, choices=Opportunity.Stage.choices, blank=True)
    from_owner = models.ForeignKey(
        Staff, verbose_name=_("from owner"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_owner = models.ForeignKey(
        Staff, verbose_name=_("to owner"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.CharField(_("text"), max_length=200, blank=True)
    data = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("opportunity event")
        verbose_name_plural = _("opportunity events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["opportunity", "at"], name="opportunity_event_idx")]

    # Why an open opportunity changed owner (``data["why"]``, written by the services' moves).
    WHY = {
        "moved": _("The customer moved to another RM"),
        "handover": _("Handed over from a leaving RM"),
        "pool_out": _("The customer was taken out of the pool"),
        "pool_in": _("The customer went back to the outlet's pool"),
        "keeper": _("The pool has a new keeper"),
    }

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def why_label(self) -> str:
        return str(self.WHY.get((self.data or {}).get("why"), ""))

    @property
    def lost_reason_label(self) -> str:
        code = (self.data or {}).get("lost_reason")
        return str(Opportunity.LostReason(code).label) if code in Opportunity.LostReason.values else ""


class OpportunityRules(models.Model):
    """When an open opportunity is stale and how a won one is checked against the holdings (one row, edited in
    admin; the defaults while none is saved)."""

    DEFAULTS = {"stale_days": 30, "match_window_days": 30, "unmatched_after_days": 45}

    stale_days = models.PositiveSmallIntegerField(
        _("stale after (days without a stage change)"),
        default=DEFAULTS["stale_days"],
        validators=[MinValueValidator(1)],
        help_text=_("An open opportunity whose stage has not changed for this many days, or whose expected date has "
                    "passed, is reminded to its owner every morning."),
    )  # fmt: skip
    match_window_days = models.PositiveSmallIntegerField(
        _("holding window (days around the won date)"),
        default=DEFAULTS["match_window_days"],
        help_text=_("A won opportunity matches a holding of the customer in the product (or kind) opened within this "
                    "many days of the won date, and not before the opportunity was created."),
    )  # fmt: skip
    unmatched_after_days = models.PositiveSmallIntegerField(
        _("flag unmatched after (days after the won date)"),
        default=DEFAULTS["unmatched_after_days"],
        help_text=_("A won opportunity still without a holding this many days after it was won is flagged as "
                    "unmatched. At least the holding window."),
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("opportunity rules")
        verbose_name_plural = _("opportunity rules")

    def __str__(self) -> str:
        return str(_("Opportunity rules"))

    def clean(self) -> None:
        if self.unmatched_after_days < self.match_window_days:
            raise ValidationError(
                {"unmatched_after_days": _("Flag unmatched ones no sooner than the holding window closes.")}
            )

    @classmethod
    def current(cls) -> "OpportunityRules":
        """The one row (the defaults while none is saved)."""
        return cls.objects.order_by("pk").first() or cls()


class StaleNotice(models.Model):
    """The morning's reminder of one owner's stale opportunities: one per owner and day, so that a retried or
    doubled job tells nobody twice."""

    owner = models.ForeignKey(Staff, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    opportunities = models.PositiveIntegerField(_("opportunities"))
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stale-opportunity reminder")
        verbose_name_plural = _("stale-opportunity reminders")
        ordering = ["-day", "owner"]
        constraints = [models.UniqueConstraint(fields=["owner", "day"], name="stalenotice_one_per_owner_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.owner_id} {self.opportunities}"
