"""The organisation: the bank's tree of branches and its staff. The ground floor of the product: it imports no
other app, and every other app's visibility rule starts from ``organisation.access``."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
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

    history = HistoricalRecords(excluded_fields=["path", "depth"], table_name="relationships_historicalbranch")
    objects = BranchQuerySet.as_manager()

    class Meta:
        db_table = "relationships_branch"  # kept from when the model lived in relationships
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
        HEAD = "head", _("Branch head (分行/支行/网点负责人)")
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

    history = HistoricalRecords(table_name="relationships_historicalstaff")
    objects = StaffQuerySet.as_manager()

    class Meta:
        db_table = "relationships_staff"  # kept from when the model lived in relationships
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
    def role_title(self) -> str:
        """The role as a title: a head's names the level of their branch (分行负责人, 支行负责人, 网点负责人)."""
        if self.role != self.Role.HEAD:
            return self.get_role_display()
        return {
            Branch.Level.BRANCH: _("Branch head (分行负责人)"),
            Branch.Level.SUB_BRANCH: _("Sub-branch head (支行负责人)"),
            Branch.Level.OUTLET: _("Outlet head (网点负责人)"),
        }[self.branch.level]

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


class SignInRecord(models.Model):
    """The sign-in log (OWASP ASVS 7.2.1, 7.2.2): every success, failure, lock and unlock, kept for 180 days
    (``services.sign_in_records_purge``) whatever happens to django-axes' attempt records, which a lock's expiry
    or a reset deletes. Written by ``organisation.receivers``; read-only in Django admin. Never the password."""

    class Event(models.TextChoices):
        SUCCESS = "success", _("signed in")
        FAILURE = "failure", _("failed")
        LOCKED = "locked", _("locked")
        UNLOCKED = "unlocked", _("unlocked")

    at = models.DateTimeField(_("when"), db_index=True)
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    username = models.CharField(_("username as typed"), max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sign-in record")
        verbose_name_plural = _("sign-in log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["username", "-at"], name="signin_username_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_event_display()}"
