"""The outlet customer pool (网点客户池): every customer without a primary RM belongs to their home outlet's pool.

The pool is not a table: it is ``Customer.primary_rm IS NULL`` (and not closed), grouped by ``Customer.branch``.
This app keeps the pool's rules per tier, who keeps each outlet's pool, and the record of every claim and assignment
out of it (the portfolio history itself stays in ``relationships.Assignment``)."""

from django.db import models
from django.utils import timezone
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


# Release
class ReleaseRequest(models.Model):
    """A proposal to release a customer from their RM back into their home outlet's pool (释放回池). Proposed by the
    nightly job (``pool.tasks.release_candidates``) or by a branch head by hand; carried out only once a branch head
    above the customer (or an administrator) other than the proposer approves it (docs/pool.md, "Recycle rules and
    release"). The facts are those of the proposal's day."""

    class Reason(models.TextChoices):
        MISSED_POLICY = "missed_policy", _("Missed the tier's contact policy")
        NO_FIRST_CONTACT = "no_first_contact", _("No contact after the claim")
        BY_HAND = "by_hand", _("Proposed by a branch head")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting approval")
        APPROVED = "approved", _("Released to the pool")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="release_requests"
    )
    rm = models.ForeignKey(Staff, verbose_name=_("RM"), on_delete=models.PROTECT, related_name="release_requests")
    assignment = models.ForeignKey(
        "relationships.Assignment",
        verbose_name=_("portfolio assignment"),
        on_delete=models.PROTECT,
        related_name="release_requests",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    held_since = models.DateTimeField(_("held by the RM since"))
    last_contact_at = models.DateTimeField(_("the RM's last contact"), null=True, blank=True)
    period_days = models.PositiveIntegerField(_("contact policy (days)"), null=True, blank=True)
    claimed_on = models.DateField(_("claimed on"), null=True, blank=True)
    proposed_on = models.DateField(_("proposed on"))
    proposed_at = models.DateTimeField(_("proposed at"))
    proposed_by = models.ForeignKey(
        Staff, verbose_name=_("proposed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("why"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        Staff, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("release proposal")
        verbose_name_plural = _("release proposals")
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(status="proposed"), name="release_one_open_per_customer"
            )
        ]
        indexes = [
            models.Index(fields=["rm"], condition=models.Q(status="proposed"), name="release_open_rm_idx"),
            models.Index(fields=["proposed_at"], condition=models.Q(status="proposed"), name="release_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ← {self.rm_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PROPOSED

    @property
    def by_system(self) -> bool:
        return self.proposed_by_id is None

    @property
    def days_without_contact(self) -> int:
        """Days from the RM's last contact (or, without one, from when they took the customer) to the proposal."""
        since = self.last_contact_at if self.last_contact_at and self.last_contact_at > self.held_since else None
        start = timezone.localdate(since or self.held_since)
        return (self.proposed_on - start).days

    @property
    def periods_missed(self) -> int | None:
        """Whole contact-policy periods without a contact by the RM, on the day of the proposal."""
        if not self.period_days:
            return None
        return self.days_without_contact // self.period_days

    @property
    def days_since_claim(self) -> int | None:
        return (self.proposed_on - self.claimed_on).days if self.claimed_on else None
