"""The outlet customer pool (网点客户池): every customer without a primary RM belongs to their home outlet's pool.

The pool is not a table: it is ``Customer.primary_rm IS NULL`` (and not closed), grouped by ``Customer.branch``.
This app keeps the pool's rules per tier, who keeps each outlet's pool, and the record of every claim and assignment
out of it (the portfolio history itself stays in ``relationships.Assignment``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from organisation.models import Branch, Staff


class PoolRule(models.Model):
    """The pool's rules for one tier, edited by admins. A tier without a row uses ``PoolRule.DEFAULTS``."""

    DEFAULTS = {"daily_claim_limit": 20, "missed_periods": 2, "claim_contact_days": 15}

    segment = models.OneToOneField(
        "customers.Segment", verbose_name=_("tier"), on_delete=models.CASCADE, related_name="pool_rule"
    )
    daily_claim_limit = models.PositiveSmallIntegerField(
        _("claims a day per RM"), default=DEFAULTS["daily_claim_limit"], help_text=_("0: RMs cannot claim this tier")
    )
    missed_periods = models.PositiveSmallIntegerField(
        _("missed contact periods before release is proposed"),
        default=DEFAULTS["missed_periods"],
        help_text=_("0: never proposed for this reason"),
    )
    claim_contact_days = models.PositiveSmallIntegerField(
        _("days to make first contact after a claim"),
        default=DEFAULTS["claim_contact_days"],
        help_text=_("0: never proposed for this reason"),
    )

    class Meta:
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")
        ordering = ["segment__sort_order"]

    def __str__(self) -> str:
        return str(self.segment)


class PoolKeeper(models.Model):
    """The member of staff an outlet's head named to keep its pool. Without a row, the outlet's head keeps it."""

    branch = models.OneToOneField(
        Branch, verbose_name=_("outlet"), on_delete=models.CASCADE, related_name="pool_keeper"
    )
    staff = models.ForeignKey(Staff, verbose_name=_("pool keeper"), on_delete=models.PROTECT, related_name="+")
    named_by = models.ForeignKey(
        Staff, verbose_name=_("named by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    named_at = models.DateTimeField(_("named at"))

    class Meta:
        verbose_name = _("pool keeper")
        verbose_name_plural = _("pool keepers")

    def __str__(self) -> str:
        return f"{self.branch}: {self.staff}"


class PoolClaim(models.Model):
    """A customer taken out of the pool: claimed by an RM, or assigned to one by the head."""

    class Method(models.TextChoices):
        CLAIM = "claim", _("Claimed by the RM (认领)")
        ASSIGN = "assign", _("Assigned by the head (分配)")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="pool_claims"
    )
    staff = models.ForeignKey(Staff, verbose_name=_("RM"), on_delete=models.PROTECT, related_name="pool_claims")
    branch = models.ForeignKey(Branch, verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="+")
    segment = models.ForeignKey(
        "customers.Segment", verbose_name=_("tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    method = models.CharField(_("how"), max_length=10, choices=Method.choices)
    actor = models.ForeignKey(
        Staff, verbose_name=_("by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assignment = models.OneToOneField(
        "relationships.Assignment",
        verbose_name=_("portfolio assignment"),
        on_delete=models.PROTECT,
        related_name="pool_claim",
    )
    claimed_at = models.DateTimeField(_("when"))
    claimed_on = models.DateField(_("day"))

    class Meta:
        verbose_name = _("pool claim")
        verbose_name_plural = _("pool claims")
        ordering = ["-claimed_at", "-pk"]
        indexes = [models.Index(fields=["staff", "claimed_on", "segment"], name="poolclaim_staff_day_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.staff_id}"
