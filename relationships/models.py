from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

PATH_STEP = 8  # digits per level in Branch.path: room for 10^8 branches


class BranchQuerySet(models.QuerySet):
    def subtree_of(self, branch: "Branch") -> "BranchQuerySet":
        """The branch and everything below it: one indexed prefix scan on ``path``."""
        return self.filter(path__startswith=branch.path)

    def active(self) -> "BranchQuerySet":
        return self.filter(is_active=True)


class Branch(models.Model):
    """A node of the bank's tree: 分行 → 支行 → 网点.

    ``path`` is a materialised path of zero-padded primary keys ("00000001/00000004/"), kept by
    ``relationships.services``; the subtree of a branch is ``path LIKE '<its path>%'``, served by the
    pattern index PostgreSQL gets for a unique CharField.
    """

    class Level(models.TextChoices):
        BRANCH = "branch", _("Branch (分行)")
        SUB_BRANCH = "sub_branch", _("Sub-branch (支行)")
        OUTLET = "outlet", _("Outlet (网点)")

    LEVEL_RANK = {Level.BRANCH: 1, Level.SUB_BRANCH: 2, Level.OUTLET: 3}

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(_("tree path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=1, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["path", "depth"])
    objects = BranchQuerySet.as_manager()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def rank(self) -> int:
        return self.LEVEL_RANK[self.level]

    @property
    def indent(self) -> range:
        """Levels below the top, for indenting the tree in templates."""
        return range(self.depth - 1)

    def ancestor_paths(self) -> list[str]:
        """The paths of this branch and every branch above it."""
        parts = self.path.split("/")[:-1]
        return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]

    def ancestors_and_self(self) -> "BranchQuerySet":
        return Branch.objects.filter(path__in=self.ancestor_paths())

    def is_within(self, ancestor: "Branch") -> bool:
        return bool(ancestor.path) and self.path.startswith(ancestor.path)

    def clean(self) -> None:
        rank = self.LEVEL_RANK.get(self.level)
        if rank is None:
            return
        if self.parent_id is None:
            if rank != 1:
                raise ValidationError({"parent": _("Only a branch (分行) may be at the top of the tree.")})
            return
        parent = self.parent
        if self.LEVEL_RANK[parent.level] >= rank:
            raise ValidationError({"parent": _("The parent must be a higher level than the branch itself.")})
        if self.pk and parent.is_within(self):
            raise ValidationError({"parent": _("A branch cannot be moved below itself.")})
        if self.pk:
            too_high = [lvl for lvl, r in self.LEVEL_RANK.items() if r <= rank]
            if Branch.objects.filter(parent_id=self.pk, level__in=too_high).exists():
                raise ValidationError({"level": _("The branch has children that would no longer be below it.")})


class StaffQuerySet(models.QuerySet):
    def active(self) -> "StaffQuerySet":
        return self.filter(status=Staff.Status.ACTIVE)

    def accepting_customers(self) -> "StaffQuerySet":
        return self.filter(status=Staff.Status.ACTIVE, role=Staff.Role.RM)

    def relationship_managers(self) -> "StaffQuerySet":
        return self.filter(role=Staff.Role.RM)

    def in_subtree_of(self, branch: Branch) -> "StaffQuerySet":
        return self.filter(branch__path__startswith=branch.path)


class Staff(models.Model):
    """A member of staff: one-to-one with the sign-in user."""

    class Role(models.TextChoices):
        RM = "rm", _("Relationship manager (客户经理)")
        HEAD = "head", _("Branch head (网点/支行负责人)")
        OFFICER = "officer", _("Complaints officer (投诉专员)")
        ADMIN = "admin", _("Administrator (总行管理员)")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LEAVING = "leaving", _("Leaving (handover pending)")
        LEFT = "left", _("Left")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="staff"
    )
    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["branch__path", "role", "employee_no"]
        indexes = [models.Index(fields=["branch", "role"], name="staff_branch_role_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active", left_on__isnull=True)
                | Q(status="leaving")
                | Q(status="left", left_on__isnull=False),
                name="staff_left_on_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"

    @property
    def is_active_staff(self) -> bool:
        """May use the CRM: active, or leaving until the handover is approved."""
        return self.status != self.Status.LEFT

    @property
    def accepts_customers(self) -> bool:
        """May be given customers: an active RM (not one who is leaving)."""
        return self.status == self.Status.ACTIVE and self.role == self.Role.RM

    @property
    def sees_everything(self) -> bool:
        return self.role == self.Role.ADMIN


# ----------------------------------------------------------------------------------------------------------------
# Portfolios: who looks after which customer, and the history of it
# ----------------------------------------------------------------------------------------------------------------


class AssignmentQuerySet(models.QuerySet):
    def current(self) -> "AssignmentQuerySet":
        return self.filter(ended_at__isnull=True)

    def primary(self) -> "AssignmentQuerySet":
        return self.filter(role=Assignment.Role.PRIMARY)

    def secondary(self) -> "AssignmentQuerySet":
        return self.filter(role=Assignment.Role.SECONDARY)


class Assignment(models.Model):
    """A period during which a member of staff looks after a customer (管户). Never deleted: a move ends one
    assignment and starts another, so the history of who looked after whom is complete."""

    class Role(models.TextChoices):
        PRIMARY = "primary", _("Primary RM (主管户)")
        SECONDARY = "secondary", _("Secondary RM (协管户)")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="assignments"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.PRIMARY)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)
    approved_by = models.ForeignKey(
        Staff, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request = models.ForeignKey(
        "ReassignmentRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    handover = models.ForeignKey(
        "Handover", on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("portfolio assignment")
        verbose_name_plural = _("portfolio assignments")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # Exactly one accountable RM per customer at any time (客户经理制).
            models.UniqueConstraint(
                fields=["customer"], condition=Q(role="primary", ended_at__isnull=True), name="assignment_one_primary"
            ),
            models.UniqueConstraint(
                fields=["customer", "staff"],
                condition=Q(ended_at__isnull=True),
                name="assignment_one_current_per_staff",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="assignment_period_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["staff", "role"], condition=Q(ended_at__isnull=True), name="assignment_current_staff_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.staff} · {self.get_role_display()}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class ReassignmentRequest(models.Model):
    """A request to move customers to another RM. Nobody moves customers alone (一手揽权): a branch head of the
    subtree other than the requester approves or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    requested_by = models.ForeignKey(Staff, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    to_staff = models.ForeignKey(Staff, verbose_name=_("new RM"), on_delete=models.PROTECT, related_name="+")
    scope_branch = models.ForeignKey(
        Branch,
        verbose_name=_("approving branch"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("the lowest branch above every customer and the new RM: its heads (and those above) approve"),
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        Staff, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reassignment request")
        verbose_name_plural = _("reassignment requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="reassign_status_idx")]

    def __str__(self) -> str:
        return _("Reassignment #%(id)s") % {"id": self.pk}


class ReassignmentItem(models.Model):
    request = models.ForeignKey(ReassignmentRequest, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    from_staff = models.ForeignKey(Staff, verbose_name=_("current RM"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("customer to move")
        verbose_name_plural = _("customers to move")
        constraints = [models.UniqueConstraint(fields=["request", "customer"], name="reassign_item_unique")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.customer_id}"


class Handover(models.Model):
    """The handover of a leaving RM's whole portfolio (离职交接), approved as one step."""

    class Method(models.TextChoices):
        EVEN = "even", _("Evenly")
        BY_TIER = "by_tier", _("By tier, evenly within each tier")
        MANUAL = "manual", _("By hand")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being prepared")
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved and carried out")
        REJECTED = "rejected", _("Returned")

    leaver = models.ForeignKey(Staff, verbose_name=_("leaving RM"), on_delete=models.PROTECT, related_name="handovers")
    method = models.CharField(_("distribution"), max_length=10, choices=Method.choices, default=Method.EVEN)
    targets = models.ManyToManyField(Staff, verbose_name=_("receiving RMs"), related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    last_day = models.DateField(_("last working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    prepared_by = models.ForeignKey(Staff, verbose_name=_("prepared by"), on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        Staff, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["leaver"], condition=Q(status__in=["draft", "pending"]), name="handover_one_open_per_leaver"
            )
        ]

    def __str__(self) -> str:
        return _("Handover of %(name)s") % {"name": self.leaver.name}


class HandoverItem(models.Model):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    to_staff = models.ForeignKey(Staff, verbose_name=_("receiving RM"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("handover line")
        verbose_name_plural = _("handover lines")
        constraints = [models.UniqueConstraint(fields=["handover", "customer"], name="handover_item_unique")]

    def __str__(self) -> str:
        return f"{self.handover_id}: {self.customer_id} → {self.to_staff_id}"


# ----------------------------------------------------------------------------------------------------------------
# Contact: interactions, follow-ups, visit plans, satisfaction, notifications
# ----------------------------------------------------------------------------------------------------------------


class Interaction(models.Model):
    """A contact with a customer: a visit, call, message, counter visit or event."""

    class Channel(models.TextChoices):
        VISIT = "visit", _("Visit (面访)")
        PHONE = "phone", _("Phone (电话)")
        SMS = "sms", _("SMS (短信)")
        WECHAT = "wechat", _("WeChat (微信)")
        EMAIL = "email", _("Email (邮件)")
        COUNTER = "counter", _("Branch counter (网点接待)")
        EVENT = "event", _("Event (活动)")

    class Purpose(models.TextChoices):
        MAINTENANCE = "maintenance", _("Maintenance (日常维护)")
        MARKETING = "marketing", _("Marketing (营销)")
        SERVICE = "service", _("Service (服务)")
        COMPLAINT = "complaint", _("Complaint follow-up (投诉回访)")
        CARE = "care", _("Care (关怀)")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached the customer")
        NO_ANSWER = "no_answer", _("Not reached")
        INTERESTED = "interested", _("Interested")
        DEAL = "deal", _("Business done")
        DECLINED = "declined", _("Declined")

    EDIT_WINDOW = timedelta(hours=24)

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="interactions", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.VISIT)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.MAINTENANCE)
    occurred_at = models.DateTimeField(_("when"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.REACHED)
    notes = models.TextField(_("notes"), blank=True)
    products = models.ManyToManyField(
        "customers.Product", verbose_name=_("products discussed"), blank=True, related_name="+"
    )
    next_follow_up_on = models.DateField(_("next follow-up on"), null=True, blank=True)
    next_action = models.CharField(_("next action"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("logged at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="interaction_timeline_idx"),
            models.Index(fields=["staff", "-occurred_at"], name="interaction_staff_idx"),
            models.Index(fields=["occurred_at"], name="interaction_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.customer_id} · {self.occurred_at:%Y-%m-%d}"

    def editable_by(self, staff: Staff | None, now=None) -> bool:
        """Its author may correct it within 24 hours of logging it; after that it is part of the audit trail."""
        now = now or timezone.now()
        return staff is not None and staff.pk == self.staff_id and now - self.created_at <= self.EDIT_WINDOW


class FollowUp(models.Model):
    """A follow-up reminder for an RM: something to do for a customer by a date."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Follow-up (跟进)")
        CONTACT_POLICY = "contact_policy", _("Regular contact (定期回访)")
        BIRTHDAY = "birthday", _("Birthday (生日祝福)")
        HOLIDAY = "holiday", _("Holiday greeting (节日问候)")
        MATURITY = "maturity", _("Product maturity (到期提醒)")
        LARGE_MOVEMENT = "movement", _("Large asset movement (资金异动)")
        CHURN_RISK = "churn", _("Churn risk (流失预警)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        SNOOZED = "snoozed", _("Snoozed")
        SKIPPED = "skipped", _("Skipped")
        EXPIRED = "expired", _("Expired")

    OPEN_STATES = (Status.OPEN, Status.SNOOZED)

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
        db_index=False,
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="follow_ups", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    due_on = models.DateField(_("due on"))
    due_time = models.TimeField(_("due time"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    source_ref = models.CharField(
        _("source"), max_length=64, blank=True, help_text=_("what caused it: an interaction, holding, snapshot or rule")
    )
    dedupe_key = models.CharField(max_length=200, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    skip_reason = models.CharField(_("reason for skipping"), max_length=200, blank=True)
    completed_by = models.ForeignKey(
        Staff, verbose_name=_("completed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    interaction = models.ForeignKey(
        Interaction, verbose_name=_("interaction"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(
                fields=["staff", "due_on"], condition=Q(status__in=["open", "snoozed"]), name="followup_open_staff_idx"
            ),
            models.Index(fields=["customer", "-due_on"], name="followup_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()


class VisitPlan(models.Model):
    """An RM's plan of visits for a day (拜访计划), approved by the branch head, then reported (拜访报告)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for changes")
        REPORTED = "reported", _("Reported")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATES = (Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.RETURNED)

    staff = models.ForeignKey(Staff, verbose_name=_("RM"), on_delete=models.PROTECT, related_name="visit_plans")
    planned_on = models.DateField(_("visit date"))
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Interaction.Purpose.choices, default=Interaction.Purpose.MAINTENANCE
    )
    preparation = models.TextField(_("what to prepare"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reviewed_by = models.ForeignKey(
        Staff, verbose_name=_("reviewed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=200, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        ordering = ["-planned_on", "-pk"]
        indexes = [models.Index(fields=["staff", "-planned_on"], name="visitplan_staff_idx")]

    def __str__(self) -> str:
        return f"{self.staff.name} {self.planned_on:%Y-%m-%d}"

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES


class VisitPlanItem(models.Model):
    plan = models.ForeignKey(VisitPlan, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    interaction = models.OneToOneField(
        Interaction,
        verbose_name=_("report"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit_item",
    )

    class Meta:
        verbose_name = _("planned visit")
        verbose_name_plural = _("planned visits")
        constraints = [models.UniqueConstraint(fields=["plan", "customer"], name="visitplan_item_unique")]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.customer_id}"


class SatisfactionRating(models.Model):
    """A customer's rating (1–5) of an interaction or of their RM, recorded by staff after a callback (回访).
    Whoever records it may not be the staff member rated."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="ratings"
    )
    rated_staff = models.ForeignKey(
        Staff, verbose_name=_("staff rated"), on_delete=models.PROTECT, related_name="ratings"
    )
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("interaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ratings",
    )
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(Staff, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-recorded_at"]
        indexes = [
            models.Index(fields=["rated_staff", "-recorded_at"], name="rating_staff_idx"),
            # The dashboards' ratings drill-down: a period's ratings, newest first, stopping after the page.
            models.Index(fields=["-recorded_at"], name="rating_recorded_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
            models.CheckConstraint(condition=~Q(recorded_by=models.F("rated_staff")), name="rating_not_by_rated_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.rated_staff_id}: {self.score}"

    @property
    def stars(self) -> str:
        return "★" * self.score


class Notification(models.Model):
    """An in-app notice for a member of staff (the bell in the navigation bar)."""

    recipient = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.text


class DigestDelivery(models.Model):
    """One morning digest for one member of staff on one day. The unique key and the row claim make a retried or
    duplicated task send nothing twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        EMPTY = "empty", _("Nothing to send")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="digests")
    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    follow_ups = models.PositiveIntegerField(_("follow-ups"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("morning digest")
        verbose_name_plural = _("morning digests")
        ordering = ["-day", "staff"]
        constraints = [models.UniqueConstraint(fields=["staff", "day"], name="digest_one_per_staff_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.staff_id} {self.status}"


# ----------------------------------------------------------------------------------------------------------------
# Daily figures for the dashboards (written nightly by services.figures; see docs/dashboards.md)
# ----------------------------------------------------------------------------------------------------------------


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

    class Meta:
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
        verbose_name = _("customer not contacted in time")
        verbose_name_plural = _("customers not contacted in time")
        constraints = [models.UniqueConstraint(fields=["day", "customer"], name="uncovered_one_per_day")]
        # The drill-down's order: the day's largest customers first, stopping at the page.
        indexes = [models.Index(fields=["day", "-aum", "customer"], name="uncovered_day_aum_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.customer_id}"
