"""Targets (指标) for a period, for a branch's subtree or for one RM, and their attainment (docs/targets.md)."""

from datetime import date, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Product
from organisation.models import Branch, Staff


class TargetPeriod(models.Model):
    """A calendar month, quarter or year that targets are set for."""

    class Kind(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))

    class Meta:
        verbose_name = _("target period")
        verbose_name_plural = _("target periods")
        ordering = ["-start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "start"], name="target_period_one_per_start"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="target_period_ends_after_start"),
        ]

    def __str__(self) -> str:
        return str(self.label)

    @staticmethod
    def bounds(kind: str, day: date) -> tuple[date, date]:
        """The first and last day of the month, quarter or year that holds ``day``."""
        if kind == TargetPeriod.Kind.YEAR:
            return date(day.year, 1, 1), date(day.year, 12, 31)
        if kind == TargetPeriod.Kind.QUARTER:
            first_month = 3 * ((day.month - 1) // 3) + 1
            start = date(day.year, first_month, 1)
            months = 3
        else:
            start = date(day.year, day.month, 1)
            months = 1
        month = start.month - 1 + months
        after = date(start.year + month // 12, month % 12 + 1, 1)
        return start, after - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == self.Kind.YEAR:
            return _("%(year)s") % {"year": self.start.year}
        if self.kind == self.Kind.QUARTER:
            return _("%(year)s Q%(quarter)s") % {"year": self.start.year, "quarter": (self.start.month - 1) // 3 + 1}
        return _("%(year)s-%(month)02d") % {"year": self.start.year, "month": self.start.month}

    @property
    def is_closed(self) -> bool:
        """A period that is over is read-only: its targets are the record of what was asked."""
        return self.end < timezone.localdate()


class Metric(models.TextChoices):
    AUM_GROWTH = "aum_growth", _("AUM growth")
    NEW_EFFECTIVE = "new_effective", _("New effective customers")
    NEW_HOLDINGS = "new_holdings", _("New holdings")
    COVERAGE = "coverage", _("Contact coverage")
    COMPLAINT_RATE = "complaint_rate", _("Complaints per 1,000 customers")


# Metrics whose children's targets add up to their parent's; the others are rates (each child its own value).
ADDITIVE = frozenset({Metric.AUM_GROWTH, Metric.NEW_EFFECTIVE, Metric.NEW_HOLDINGS})
# Lower is better: attainment is inverted (docs/targets.md).
LOWER_IS_BETTER = frozenset({Metric.COMPLAINT_RATE})
# Whole numbers (counts); AUM growth is in CNY to the cent; the rates to one decimal.
COUNTS = frozenset({Metric.NEW_EFFECTIVE, Metric.NEW_HOLDINGS})
UNITS = {
    Metric.AUM_GROWTH: _("CNY"),
    Metric.NEW_EFFECTIVE: pgettext_lazy("unit", "customers"),
    Metric.NEW_HOLDINGS: pgettext_lazy("unit", "holdings"),
    Metric.COVERAGE: "%",
    Metric.COMPLAINT_RATE: "‰",
}
# The pages show amounts in 万元 (the ``wan`` filter of templates/targets/partials/_value.html); the values entered
# and exported stay in yuan (UNITS).
DISPLAY_UNITS = {**UNITS, Metric.AUM_GROWTH: _("10k CNY")}


class Target(models.Model):
    """What a branch's subtree (``branch``) or one RM (``staff``) is asked to reach in a period. A target that came
    from distributing another one names it as ``parent``."""

    Metric = Metric

    period = models.ForeignKey(TargetPeriod, verbose_name=_("period"), on_delete=models.PROTECT, related_name="targets")
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    # Only for new holdings: the product kind counted; empty for every other metric.
    product_category = models.CharField(
        _("product kind"), max_length=20, choices=Product.Category.choices, blank=True, default=""
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("RM"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    value = models.DecimalField(_("target"), max_digits=20, decimal_places=2)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("distributed from"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
    )
    set_by = models.ForeignKey(
        Staff, verbose_name=_("set by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["period", "metric", "product_category", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(branch__isnull=False) & Q(staff__isnull=True))
                | (Q(branch__isnull=True) & Q(staff__isnull=False)),
                name="target_branch_or_rm",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_not_negative"),
            models.CheckConstraint(
                condition=(Q(metric=Metric.NEW_HOLDINGS) & ~Q(product_category=""))
                | (~Q(metric=Metric.NEW_HOLDINGS) & Q(product_category="")),
                name="target_product_kind_for_holdings",
            ),
            models.UniqueConstraint(
                fields=["period", "metric", "product_category", "branch"],
                condition=Q(branch__isnull=False),
                name="target_one_per_branch",
            ),
            models.UniqueConstraint(
                fields=["period", "metric", "product_category", "staff"],
                condition=Q(staff__isnull=False),
                name="target_one_per_rm",
            ),
        ]
        indexes = [models.Index(fields=["period", "metric"], name="target_period_metric_idx")]

    def __str__(self) -> str:
        return f"{self.period} {self.metric_label} {self.holder}"

    @property
    def holder(self):
        return self.branch if self.branch_id else self.staff

    @property
    def metric_label(self) -> str:
        label = self.get_metric_display()
        if self.product_category:
            return f"{label} · {self.get_product_category_display()}"
        return label

    @property
    def is_additive(self) -> bool:
        return self.metric in ADDITIVE

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    @property
    def unit(self) -> str:
        return UNITS[self.metric]

    @property
    def display_unit(self) -> str:
        return DISPLAY_UNITS[self.metric]


class Attainment(models.Model):
    """How far a target is reached, as of the last day the figures were built in its period. Written by the
    figures build (``targets.services.attainment_build``), one row per target."""

    target = models.OneToOneField(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, primary_key=True, related_name="attainment"
    )
    as_of = models.DateField(_("as of"))
    actual = models.DecimalField(_("actual"), max_digits=20, decimal_places=2)
    # actual ÷ target (inverted for lower-is-better metrics); 1 is 100 %.
    ratio = models.DecimalField(_("attainment"), max_digits=9, decimal_places=4)
    built_at = models.DateTimeField(_("built at"), default=timezone.now)

    class Meta:
        verbose_name = _("attainment")
        verbose_name_plural = _("attainments")

    def __str__(self) -> str:
        return f"{self.target_id} {self.ratio}"

    @property
    def percent(self) -> float:
        return round(float(self.ratio) * 100, 1)

    @property
    def bar_width(self) -> int:
        """The progress bar's width in per cent (0–100)."""
        return max(0, min(100, round(float(self.ratio) * 100)))

    @property
    def level(self) -> str:
        """The bar's colour: reached, on the way, behind."""
        if self.ratio >= 1:
            return "success"
        if self.ratio >= 0.6:
            return "warning"
        return "danger"
