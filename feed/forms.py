"""Forms of the feed pages: the upload, the list's filters and the note of a resolved identity conflict."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from idempotency.forms import SubmissionKeyMixin

from .models import Kind, Load
from .selectors import LoadFilters
from .services import UPLOAD_SUFFIXES

DATE_WIDGET = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class UploadForm(SubmissionKeyMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    business_date = forms.DateField(label=_("Business date"), **DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "A daily extract: .txt or .csv ('|'-delimited, GB18030) or .xlsx, at most %(limit)s MB."
        ) % {"limit": settings.FEED_UPLOAD_MAX_BYTES // 1048576}
        if not self.is_bound:
            self.initial.setdefault("business_date", timezone.localdate())


class LoadFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Load.Status.choices])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *Kind.choices])
    business_date = forms.DateField(label=_("Business date"), required=False, **DATE_WIDGET)

    def filters(self) -> LoadFilters:
        if not self.is_valid():
            return LoadFilters()
        d = self.cleaned_data
        return LoadFilters(status=d["status"] or "", kind=d["kind"] or "", business_date=d["business_date"])


class ConflictResolveForm(forms.Form):
    note = forms.CharField(
        label=_("How it was resolved"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. the customer numbers were merged in the core system")}),
    )
