from django import forms
from django.utils.translation import gettext_lazy as _

from crm_site import text_limits
from idempotency.forms import SubmissionKeyMixin
from organisation.models import Staff

from .models import DESCRIPTION_MAX, NAME_MAX, SavedSegment

R = Staff.Role


def shared_with_label(owner: Staff) -> str:
    """Whom sharing reaches, named by the owner's branch (docs/marketing.md, "Who sees a shared segment")."""
    if owner.role == R.ADMIN:
        return _("Shared with everyone in the bank")
    if owner.role == R.HEAD:
        return _("Shared with everyone in %(branch)s and the branches below it") % {"branch": owner.branch.name}
    return _("Shared with the RMs of %(branch)s and the heads above it") % {"branch": owner.branch.name}


class SegmentForm(forms.Form):
    """Name, description and sharing of a segment (the filter itself comes from the customer list)."""

    name = forms.CharField(
        label=_("Segment name"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Wealth customers, declining")}),
    )
    description = text_limits.text_field(_("Description"), DESCRIPTION_MAX, rows=2)
    visibility = forms.ChoiceField(
        label=_("Who sees it"), choices=SavedSegment.Visibility.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, owner: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visibility"].choices = [
            (SavedSegment.Visibility.PRIVATE, _("Only me")),
            (SavedSegment.Visibility.SHARED, shared_with_label(owner)),
        ]
        self.fields["visibility"].initial = SavedSegment.Visibility.PRIVATE


class SegmentCreateForm(SubmissionKeyMixin, SegmentForm):
    # The customer list's query string as the save page read it (the search term's token never in it).
    filter = forms.CharField(widget=forms.HiddenInput, max_length=4000)
