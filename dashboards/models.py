"""The dashboards' read model: daily figures written nightly by ``dashboards.figures`` (see docs/dashboards.md)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisation.models import Branch, Staff


class DayFigures(models.Model):
    """The figures of one day. Stocks are as at the end of the day; flows are what happened during it."""

    day = models.DateField(_("day"))
    # Customers (not lost) registered by the end of the day, and their AUM on the day.
    customers = models.PositiveIntegerField(_("customers"), default=0)
    aum = models.DecimalField(_("AUM"), max_digits=20, decimal_places=2, default=0)
    # {segment id: {"customers": n, "aum": "123.45"}} — tiers are data, so they are keys, not columns.
    by_tier = models.JSONField(_("by tier"), default=dict, blank=True)
    new_customers = models.PositiveIntegerField(_("new customers"), default=0)
    lost_customers = models.PositiveIntegerField(_("lost customers"), default=0)
    # Coverage: customers under a contact policy (with a tier), and those of them not contacted in time.
    policy_customers = models.PositiveIntegerField(_("customers under a contact policy"), default=0)
    overdue_customers = models.PositiveIntegerField(_("customers not contacted in time"), default=0)
    interactions = models.PositiveIntegerField(_("interactions"), default=0)
    # {channel: n}
    by_channel = models.JSONField(_("interactions by channel"), default=dict, blank=True)
    follow_ups_open = models.PositiveIntegerField(_("open follow-ups"), default=0)
    follow_ups_overdue = models.PositiveIntegerField(_("overdue follow-ups"), default=0)
    follow_ups_done = models.PositiveIntegerField(_("follow-ups done"), default=0)
    follow_ups_done_on_time = models.PositiveIntegerField(_("follow-ups done on time"), default=0)
    churn_risk = models.PositiveIntegerField(_("churn-risk customers"), default=0)
    complaints_received = models.PositiveIntegerField(_("complaints received"), default=0)
    complaints_decided = models.PositiveIntegerField(_("complaints first decided"), default=0)
    complaints_on_time = models.PositiveIntegerField(_("complaints decided on time"), default=0)
    complaints_overdue = models.PositiveIntegerField(_("open complaints past their deadline"), default=0)
    # {category id: n} of the complaints received that day
    by_category = models.JSONField(_("complaints by category"), default=dict, blank=True)
    rating_count = models.PositiveIntegerField(_("satisfaction ratings"), default=0)
    rating_sum = models.PositiveIntegerField(_("sum of satisfaction scores"), default=0)
    # Effective customers (有效户): customers whose AUM on the day reaches FigureSettings.effective_aum_min.
    effective_customers = models.PositiveIntegerField(_("effective customers"), default=0)
    # {product category: n} of the holdings opened that day (Holding.opened_on), by the customer's branch and RM.
    holdings_opened = models.JSONField(_("holdings opened by product category"), default=dict, blank=True)
    built_at = models.DateTimeField(_("built at"), default=timezone.now)

    class Meta:
        abstract = True

    @property
    def complaints_decided_late(self) -> int:
        return self.complaints_decided - self.complaints_on_time


class BranchDayFigures(DayFigures):
    """One branch's own figures for a day (its own customers and complaints, not those of the branches below it):
    a subtree's figures are the sum of its branches' rows (``branch__path__startswith``)."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    # Whether the day's customers not contacted in time are listed in UncoveredCustomer (days built since that
    # list exists, and not yet pruned).
    uncovered_listed = models.BooleanField(_("customers not contacted in time listed"), default=False)
    # The outlet customer pool (customers without a primary RM, not closed): its size and AUM, its coverage as the
    # branch's (pool customers under a contact policy, and those of them not contacted in time), and the pool
    # customers whose outlet has no keeper, so that no reminder of theirs reaches anyone.
    pool_customers = models.PositiveIntegerField(_("pool customers"), default=0)
    pool_aum = models.DecimalField(_("pool AUM"), max_digits=20, decimal_places=2, default=0)
    pool_policy_customers = models.PositiveIntegerField(_("pool customers under a contact policy"), default=0)
    pool_overdue_customers = models.PositiveIntegerField(_("pool customers not contacted in time"), default=0)
    pool_unkept = models.PositiveIntegerField(_("pool customers nobody follows up"), default=0)

    class Meta:
        db_table = "relationships_branchdayfigures"  # kept from when the model lived in relationships
        verbose_name = _("daily branch figures")
        verbose_name_plural = _("daily branch figures")
        ordering = ["-day", "branch"]
        constraints = [models.UniqueConstraint(fields=["branch", "day"], name="branch_figures_one_per_day")]
        indexes = [models.Index(fields=["day", "branch"], name="branch_figures_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.branch_id}"


class RmDayFigures(DayFigures):
    """One RM's figures for a day: their portfolio (as primary RM), their interactions and follow-ups, the
    ratings of them and the complaints about them. ``branch`` is the RM's branch when the row was built."""

    staff = models.ForeignKey(Staff, verbose_name=_("RM"), on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "relationships_rmdayfigures"  # kept from when the model lived in relationships
        verbose_name = _("daily RM figures")
        verbose_name_plural = _("daily RM figures")
        ordering = ["-day", "staff"]
        constraints = [models.UniqueConstraint(fields=["staff", "day"], name="rm_figures_one_per_day")]
        indexes = [models.Index(fields=["day", "staff"], name="rm_figures_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.staff_id}"


class UncoveredCustomer(models.Model):
    """A customer not contacted within their tier's policy at the end of a day: the rows behind that day's
    ``overdue_customers`` figures, written by the same build. The dashboards' "not contacted in time" drill-down
    reads them instead of evaluating the rule over every customer of the scope again (seconds at a million
    customers, where the rule needs each customer's snapshot of the day and, for those contacted since, their
    interactions). Only the last few days are kept: the drill-down shows the last built day."""

    day = models.DateField(_("day"))
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="uncovered_days"
    )
    aum = models.DecimalField(_("AUM on the day"), max_digits=20, decimal_places=2)

    class Meta:
        db_table = "relationships_uncoveredcustomer"  # kept from when the model lived in relationships
        verbose_name = _("customer not contacted in time")
        verbose_name_plural = _("customers not contacted in time")
        constraints = [models.UniqueConstraint(fields=["day", "customer"], name="uncovered_one_per_day")]
        # The drill-down's order: the day's largest customers first, stopping at the page.
        indexes = [models.Index(fields=["day", "-aum", "customer"], name="uncovered_day_aum_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.customer_id}"


class FigureSettings(models.Model):
    """The settings behind figures that are a bank's own definition (one row, edited in admin). A change applies
    to the days built after it; build past days again to restate them."""

    DEFAULT_EFFECTIVE_AUM_MIN = 50_000

    effective_aum_min = models.DecimalField(
        _("effective customer: minimum AUM (CNY)"),
        max_digits=20,
        decimal_places=2,
        default=DEFAULT_EFFECTIVE_AUM_MIN,
        validators=[MinValueValidator(0)],
        help_text=_("A customer whose AUM on a day reaches this amount counts as an effective customer (有效户)."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("figure settings")
        verbose_name_plural = _("figure settings")

    def __str__(self) -> str:
        return str(_("Figure settings"))

    @classmethod
    def current(cls) -> "FigureSettings":
        """The one row (the defaults while none is saved)."""
        return cls.objects.order_by("pk").first() or cls()
