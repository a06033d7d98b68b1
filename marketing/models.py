"""Marketing: saved segments (客群), a filter of the customer list saved under a name (docs/marketing.md).

A segment stores the customer list's GET parameters, never a list of customers: whoever opens it sees the customers
the filter finds today among those they may see, so a segment never goes stale and never widens anyone's view."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site import text_limits
from organisation.models import Staff

NAME_MAX = 40
DESCRIPTION_MAX = 200


class SavedSegment(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Only me")
        SHARED = "shared", _("Shared")

    name = models.CharField(_("name"), max_length=NAME_MAX)
    description = models.TextField(_("description"), blank=True, **text_limits.bounded(DESCRIPTION_MAX))
    owner = models.ForeignKey(
        Staff, verbose_name=_("saved by"), on_delete=models.PROTECT, related_name="saved_segments"
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    params = models.JSONField(
        _("filter"),
        default=dict,
        help_text=_(
            "The customer list's filter as its GET parameters, {name: [values]}: never a search term, never a page."
        ),
    )
    criteria = models.JSONField(
        _("filter in words"),
        default=list,
        blank=True,
        help_text=_("Each criterion as it read when the segment was saved: [parameter, label, value]."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        Staff, verbose_name=_("updated by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("saved segment")
        verbose_name_plural = _("saved segments")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="savedsegment_name_unique_per_owner",
                violation_error_message=_("You already have a segment of this name. Choose another name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.visibility == self.Visibility.SHARED

    @property
    def criteria_text(self) -> str:
        """The filter in words as it was saved ("客户层级：财富客户；生命周期：衰退"), for lists and Django admin."""
        return "；".join(f"{label}：{value}" for _key, label, value in self.criteria_rows)

    @property
    def criteria_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for row in self.criteria or []:
            if isinstance(row, list | tuple) and len(row) == 3:
                rows.append((str(row[0]), str(row[1]), str(row[2])))
        return rows

    def saved_label(self, key: str) -> str:
        """A criterion as it read when saved ("理财到期：30 天内"), or the parameter's name if it was not recorded."""
        for row_key, label, value in self.criteria_rows:
            if row_key == key:
                return f"{label}：{value}"
        return key
