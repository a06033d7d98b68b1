from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm_site import text_limits
from crm_site.lunar import lunar_month_day
from organisation.models import Branch

from . import masking, pii, validators


class RiskLevel(models.TextChoices):
    """Customer risk tolerance (风险承受能力), C1 most conservative to C5 most aggressive."""

    C1 = "C1", _("C1 conservative")
    C2 = "C2", _("C2 cautious")
    C3 = "C3", _("C3 balanced")
    C4 = "C4", _("C4 growth")
    C5 = "C5", _("C5 aggressive")


class ProductRisk(models.TextChoices):
    """Product risk rating, R1 lowest to R5 highest. A customer may hold products at or below their level."""

    R1 = "R1", _("R1 low")
    R2 = "R2", _("R2 medium-low")
    R3 = "R3", _("R3 medium")
    R4 = "R4", _("R4 medium-high")
    R5 = "R5", _("R5 high")


def risk_rank(level: str) -> int:
    return int(level[1]) if level else 0


class SegmentQuerySet(models.QuerySet):
    def for_aum(self, aum: Decimal) -> "Segment | None":
        """The tier whose [aum_min, aum_max) range holds ``aum``."""
        return self.filter(aum_min__lte=aum).filter(Q(aum_max__isnull=True) | Q(aum_max__gt=aum)).first()


class Segment(models.Model):
    """A customer tier by financial assets (客户分层), with its contact policy. Thresholds are data."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    aum_min = models.DecimalField(_("AUM from (inclusive)"), max_digits=18, decimal_places=2)
    aum_max = models.DecimalField(
        _("AUM below (exclusive)"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("empty: no upper bound"),
    )
    contact_policy_days = models.PositiveIntegerField(
        _("contact policy (days)"), help_text=_("a customer of this tier should be contacted at least this often")
    )
    large_movement_threshold = models.DecimalField(
        _("large movement threshold"),
        max_digits=18,
        decimal_places=2,
        help_text=_("a day-over-day AUM change of at least this amount raises an alert"),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    holiday_greetings = models.BooleanField(
        _("holiday greetings"), default=False, help_text=_("customers of this tier get a holiday greeting reminder")
    )
    history = HistoricalRecords()
    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["sort_order", "aum_min"]
        constraints = [
            models.CheckConstraint(
                condition=Q(aum_max__isnull=True) | Q(aum_max__gt=models.F("aum_min")), name="segment_range_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, aum: Decimal) -> bool:
        """Whether ``aum`` falls in this tier: from aum_min (inclusive) to below aum_max."""
        return aum >= self.aum_min and (self.aum_max is None or aum < self.aum_max)

    def clean(self) -> None:

        if self.aum_min is None:
            return
        upper = self.aum_max
        overlapping = Segment.objects.exclude(pk=self.pk).filter(Q(aum_max__isnull=True) | Q(aum_max__gt=self.aum_min))
        if upper is not None:
            overlapping = overlapping.filter(aum_min__lt=upper)
        if overlapping.exists():
            raise ValidationError(
                _("This AUM range overlaps another tier: %(tiers)s") % {"tiers": ", ".join(s.name for s in overlapping)}
            )


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(models.QuerySet):
    def in_subtree_of(self, branch) -> "CustomerQuerySet":
        """Customers of the branch and every branch below it. The branch ids are fetched first and passed as a
        list: PostgreSQL then estimates the share of customers from its statistics on branch_id (a subquery on
        the path would be estimated blind), and picks the right plan for an outlet and for the whole bank."""

        return self.filter(branch_id__in=list(Branch.objects.subtree_of(branch).values_list("pk", flat=True)))

    def with_list_columns(self) -> "CustomerQuerySet":
        return self.select_related("segment", "primary_rm", "branch")


class Customer(models.Model):
    """The customer master: one row per individual (个人) or corporate (对公) customer."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual (个人)")
        CORPORATE = "corporate", _("Corporate (对公)")

    class Lifecycle(models.TextChoices):
        PROSPECT = "prospect", _("Prospect (潜在)")
        NEW = "new", _("New (新客)")
        GROWING = "growing", _("Growing (成长)")
        MATURE = "mature", _("Mature (成熟)")
        DECLINING = "declining", _("Declining (衰退)")
        LOST = "lost", _("Lost (流失)")

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident ID card (居民身份证)")
        PASSPORT = "passport", _("Passport (护照)")
        HK_MACAO_PERMIT = "hk_macao_permit", _("Hong Kong/Macao permit (港澳居民来往内地通行证)")
        TAIWAN_PERMIT = "taiwan_permit", _("Taiwan permit (台湾居民来往大陆通行证)")
        FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID (外国人永久居留身份证)")

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    customer_no = models.CharField(_("customer number"), max_length=20, unique=True)
    kind = models.CharField(_("customer type"), max_length=12, choices=Kind.choices, default=Kind.INDIVIDUAL)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    branch = models.ForeignKey(
        "organisation.Branch", verbose_name=_("home branch"), on_delete=models.PROTECT, related_name="customers"
    )
    primary_rm = models.ForeignKey(
        "organisation.Staff",
        verbose_name=_("relationship manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_customers",
    )
    segment = models.ForeignKey(
        Segment, verbose_name=_("tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="customers"
    )
    lifecycle = models.CharField(_("lifecycle stage"), max_length=12, choices=Lifecycle.choices, default=Lifecycle.NEW)
    # Set when staff chose the stage by hand: the nightly derivation (customers.lifecycle) leaves it alone.
    lifecycle_manual = models.BooleanField(_("lifecycle set by hand"), default=False, db_default=False)
    # Closed in core banking (status X): the customer keeps their history and drops out of reminders.
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # Keyed hash of the customer's last row in the core-banking extract (feed): an unchanged row is not rewritten.
    feed_hash = models.CharField(max_length=32, blank=True, editable=False, default="", db_default="")
    aum = models.DecimalField(_("AUM"), max_digits=18, decimal_places=2, default=Decimal("0.00"))
    aum_as_of = models.DateField(_("AUM as of"), null=True, blank=True)
    last_contacted_at = models.DateTimeField(_("last contacted"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    notes = models.TextField(_("notes"), blank=True, **text_limits.bounded(text_limits.NOTE))

    # Individuals
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices, blank=True)
    id_number_enc = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=32, blank=True, editable=False)
    id_last4 = models.CharField(max_length=4, blank=True, editable=False, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    lunar_birthday = models.BooleanField(_("celebrates the lunar birthday"), default=False)
    # The birthday as month*100+day, solar and lunar, kept by set_birth_date: the birthday reminders find the
    # customers of a day with one indexed lookup instead of date arithmetic over every row.
    birth_md = models.PositiveSmallIntegerField(null=True, blank=True, editable=False, db_index=True)
    lunar_birth_md = models.PositiveSmallIntegerField(null=True, blank=True, editable=False, db_index=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    risk_level = models.CharField(_("risk tolerance"), max_length=2, choices=RiskLevel.choices, blank=True)
    risk_assessed_on = models.DateField(_("risk assessed on"), null=True, blank=True)
    risk_expires_on = models.DateField(_("risk assessment expires on"), null=True, blank=True)

    # Both (for a corporate: the contact person's mobile)
    mobile_enc = models.TextField(_("mobile (encrypted)"), blank=True, editable=False)
    mobile_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    mobile_masked = models.CharField(_("mobile"), max_length=16, blank=True, editable=False)

    # Corporates
    credit_code = models.CharField(_("unified social credit code"), max_length=18, null=True, blank=True, unique=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    history = HistoricalRecords(
        excluded_fields=["id_number_enc", "mobile_enc", "id_number_hash", "mobile_hash", "feed_hash"]
    )
    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-aum", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="customer_unique_id_number"
            ),
            models.CheckConstraint(
                condition=Q(kind="corporate") | Q(credit_code__isnull=True), name="customer_credit_code_corporate_only"
            ),
        ]
        indexes = [
            models.Index(fields=["primary_rm", "-aum"], name="customer_rm_aum_idx"),
            models.Index(fields=["branch", "-aum"], name="customer_branch_aum_idx"),
            models.Index(fields=["segment", "-aum"], name="customer_segment_aum_idx"),
            models.Index(fields=["-aum"], name="customer_aum_idx"),
            # The list's lifecycle and risk-tolerance filters: a rare combination (declining + C3 is 1 in 100)
            # made the capped count scan the table until it found 10,001 rows, 90-110 ms at a million customers;
            # through this index it reads only the matching entries (docs/performance.md).
            models.Index(fields=["lifecycle", "risk_level"], name="customer_lifecycle_risk_idx"),
            # The dashboards' "new customers" drill-down: the customers registered in a period. Without it the
            # whole table was read to find a month's few thousand (200 ms for the whole bank at a million).
            models.Index(fields=["created_at"], name="customer_created_idx"),
            # The "longest without contact" indexes (NULLS FIRST) are PostgreSQL-only: migration 0004.
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_no})"

    @property
    def is_individual(self) -> bool:
        return self.kind == self.Kind.INDIVIDUAL

    # Identifiers: set through these methods so that the encrypted, hashed and masked forms agree.
    def set_id_number(self, id_type: str, number: str) -> None:
        self.id_type = id_type if number else ""
        self.id_number_enc = pii.encrypt(number)
        self.id_number_hash = pii.search_hash(id_type, number) if number else ""
        self.id_number_masked = masking.mask_id_number(number)
        self.id_last4 = number[-4:] if number else ""

    def set_mobile(self, number: str) -> None:
        self.mobile_enc = pii.encrypt(number)
        self.mobile_hash = pii.search_hash("mobile", number)
        self.mobile_masked = masking.mask_mobile(number)

    def set_birth_date(self, birth_date) -> None:
        self.birth_date = birth_date
        self.birth_md = birth_date.month * 100 + birth_date.day if birth_date else None
        self.lunar_birth_md = lunar_month_day(birth_date) if birth_date else None

    def reveal(self, field: str) -> str:
        """The full value of a protected field. Callers log the reveal (customers.services.customer_reveal)."""
        return pii.decrypt({"id_number": self.id_number_enc, "mobile": self.mobile_enc}[field])

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        return validators.age_on(self.birth_date, timezone.localdate())

    @property
    def contact_overdue(self) -> bool:
        """Not contacted within the tier's contact policy (needs the segment loaded)."""
        if self.segment is None:
            return False
        if self.last_contacted_at is None:
            return True
        return timezone.now() - self.last_contacted_at > timedelta(days=self.segment.contact_policy_days)

    @property
    def risk_expired(self) -> bool:
        return bool(self.risk_level) and (self.risk_expires_on is None or self.risk_expires_on < timezone.localdate())


class SegmentChange(models.Model):
    """A customer's tier change, written by the nightly recompute (and by services when AUM changes)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_changes")
    from_segment = models.ForeignKey(Segment, on_delete=models.PROTECT, null=True, related_name="+")
    to_segment = models.ForeignKey(Segment, on_delete=models.PROTECT, null=True, related_name="+")
    aum = models.DecimalField(_("AUM"), max_digits=18, decimal_places=2)
    changed_at = models.DateTimeField(_("changed at"), db_index=True)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="segchange_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_segment_id} → {self.to_segment_id}"


class Product(models.Model):
    class Category(models.TextChoices):
        DEPOSIT = "deposit", _("Demand deposit (活期存款)")
        TIME_DEPOSIT = "time_deposit", _("Time deposit (定期存款)")
        WEALTH = "wealth", _("Wealth product (理财)")
        FUND = "fund", _("Fund (基金)")
        INSURANCE = "insurance", _("Insurance (保险)")
        LOAN = "loan", _("Loan (贷款)")

    # Categories sold under the suitability rules (适当性): the product's risk must not exceed the customer's.
    INVESTMENT = frozenset({Category.WEALTH, Category.FUND, Category.INSURANCE})

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    risk_level = models.CharField(_("risk level"), max_length=2, choices=ProductRisk.choices, default=ProductRisk.R1)
    term_days = models.PositiveIntegerField(_("term (days)"), null=True, blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_risk_level_display()})"

    @property
    def is_investment(self) -> bool:
        return self.category in self.INVESTMENT


class Holding(models.Model):
    """A product a customer holds. Only the masked account number is kept: the full one stays in core banking."""

    class Suitability(models.TextChoices):
        OK = "ok", _("Suitable")
        ABOVE_TOLERANCE = "above", _("Product risk above the customer's tolerance")
        NO_ASSESSMENT = "no_assessment", _("No valid risk assessment")
        NOT_APPLICABLE = "n/a", _("Not a suitability product")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="holdings"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="holdings")
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    account_no_masked = models.CharField(_("account number"), max_length=32, blank=True)
    # The account number is personal financial information: only a keyed hash (the feed's key for the holding)
    # and the last four digits are kept.
    account_no_hash = models.CharField(max_length=64, blank=True, editable=False, default="", db_default="")
    account_last4 = models.CharField(
        _("account number, last 4 digits"), max_length=4, blank=True, editable=False, default="", db_default=""
    )
    opened_on = models.DateField(_("opened on"))
    maturity_on = models.DateField(_("matures on"), null=True, blank=True)
    # The business date of the holdings extract that last held this row; absent from a later one, it is closed.
    as_of = models.DateField(_("as of"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        ordering = ["maturity_on", "pk"]
        indexes = [models.Index(fields=["maturity_on"], name="holding_maturity_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["account_no_hash", "product"], condition=~Q(account_no_hash=""), name="holding_unique_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} · {self.amount}"

    @cached_property
    def suitability(self) -> str:
        """Suitability of this holding for its customer (needs product and customer loaded)."""
        if not self.product.is_investment or not self.customer.is_individual:
            return self.Suitability.NOT_APPLICABLE
        if not self.customer.risk_level or self.customer.risk_expired:
            return self.Suitability.NO_ASSESSMENT
        if risk_rank(self.product.risk_level) > risk_rank(self.customer.risk_level):
            return self.Suitability.ABOVE_TOLERANCE
        return self.Suitability.OK

    @property
    def is_unsuitable(self) -> bool:
        return self.suitability in (self.Suitability.ABOVE_TOLERANCE, self.Suitability.NO_ASSESSMENT)

    @property
    def days_to_maturity(self) -> int | None:
        if not self.maturity_on:
            return None
        return (self.maturity_on - timezone.localdate()).days


class AssetSnapshot(models.Model):
    """A customer's total financial assets (AUM) on one day, from the core-banking extract."""

    # No separate index on customer: the unique (customer, date) index serves every lookup by customer.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="snapshots", db_index=False
    )
    date = models.DateField(_("date"))
    aum = models.DecimalField(_("AUM"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("asset snapshot")
        verbose_name_plural = _("asset snapshots")
        constraints = [models.UniqueConstraint(fields=["customer", "date"], name="snapshot_unique_customer_date")]
        indexes = [models.Index(fields=["date"], name="snapshot_date_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date} {self.aum}"


class LargeTransaction(models.Model):
    """A large single transaction of a business day, from the core-banking extract (TXN). A corrected file for
    the day replaces the day's rows."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="large_transactions"
    )
    business_date = models.DateField(_("business date"))
    txn_time = models.DateTimeField(_("time"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    memo = models.CharField(_("memo"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("large transaction")
        verbose_name_plural = _("large transactions")
        ordering = ["-txn_time", "pk"]
        indexes = [
            models.Index(fields=["business_date"], name="largetxn_date_idx"),
            models.Index(fields=["customer", "-txn_time"], name="largetxn_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.txn_time:%Y-%m-%d %H:%M} {self.amount}"


class LifecycleRules(models.Model):
    """Thresholds of the derived lifecycle (customers.lifecycle), one row, edited in admin."""

    new_days = models.PositiveIntegerField(
        _("new: days since the first holding"), default=90, help_text=_("A customer is new this many days.")
    )
    trend_days = models.PositiveIntegerField(
        _("trend window (days)"), default=90, help_text=_("Growing and declining compare AUM with this many days ago.")
    )
    growing_percent = models.PositiveIntegerField(
        _("growing: AUM up by (%)"), default=10, help_text=_("AUM up by at least this share over the trend window.")
    )
    declining_percent = models.PositiveIntegerField(
        _("declining: AUM down by (%)"),
        default=30,
        help_text=_("AUM down by at least this share over the trend window."),
    )
    lost_aum = models.DecimalField(
        _("lost: AUM at or below"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("100.00"),
        help_text=_("Balances at or below this amount count as near zero."),
    )
    lost_days = models.PositiveIntegerField(
        _("lost: days near zero"), default=90, help_text=_("Near zero this many days after being active: lost.")
    )

    class Meta:
        verbose_name = _("lifecycle rules")
        verbose_name_plural = _("lifecycle rules")

    def __str__(self) -> str:
        return str(_("lifecycle rules"))

    @classmethod
    def current(cls) -> "LifecycleRules":
        return cls.objects.order_by("pk").first() or cls()


class AccessLog(models.Model):
    """Who saw or exported personal data, when and why (JR/T 0171, ASVS 8.3.5). Append-only: no service edits
    it, and admin shows it read-only. It never holds the revealed value itself."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Revealed an identifier")
        EXPORT = "export", _("Exported a list")

    class Field(models.TextChoices):
        ID_NUMBER = "id_number", _("ID number")
        MOBILE = "mobile", _("mobile")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    staff_name = models.CharField(_("staff name"), max_length=50, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
    )
    field = models.CharField(_("field"), max_length=20, choices=Field.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("personal data access log")
        verbose_name_plural = _("personal data access log")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="accesslog_customer_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.staff_name} {self.get_action_display()}"
