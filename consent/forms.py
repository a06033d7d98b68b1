"""Forms of the consent page: record a change of consent, add a do-not-disturb window, remove one. Input checks
only; the rules are the services'."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site import text_limits
from idempotency.forms import SubmissionKeyMixin

from .models import EVERY_DAY, REASON_MAX, REFERENCE_MAX, WEEKDAY_BITS, WEEKDAY_NAMES, Channel, Source, State

DATE = {"type": "date"}
TIME = {"type": "time"}
REASON_ERRORS = text_limits.ERRORS


class ConsentForm(forms.Form):
    """A change of one channel's consent: given or withdrawn, from when, how, and why."""

    channel = forms.ChoiceField(label=pgettext_lazy("consent", "Channel"), choices=Channel.choices)
    state = forms.ChoiceField(label=_("Consent"), choices=State.choices, widget=forms.RadioSelect)
    effective_on = forms.DateField(
        label=_("Effective on"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), initial=timezone.localdate
    )
    source = forms.ChoiceField(
        label=_("How the customer expressed it"),
        choices=[(value, label) for value, label in Source.choices if value != Source.CORE],
    )
    reference = forms.CharField(
        label=pgettext_lazy("consent", "Reference"),
        required=False,
        max_length=REFERENCE_MAX,
        error_messages=REASON_ERRORS,
        help_text=_("The form's serial number, the recording's number, the online agreement's id."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        error_messages=REASON_ERRORS,
        help_text=_("What the customer said, signed or asked for."),
    )


def weekday_choices():
    return [(str(bit), WEEKDAY_NAMES[d]) for d, bit in enumerate(WEEKDAY_BITS)]


class DndWindowForm(SubmissionKeyMixin, forms.Form):
    """A do-not-disturb window: on a channel or every channel, over a date range and/or days of the week and/or a
    time of day."""

    channel = forms.ChoiceField(
        label=pgettext_lazy("consent", "Channel"), required=False, choices=[("", _("Every channel")), *Channel.choices]
    )
    start_date = forms.DateField(
        label=_("From (date)"), required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )
    end_date = forms.DateField(
        label=_("Until (date)"), required=False, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days of the week"),
        choices=weekday_choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[str(bit) for bit in WEEKDAY_BITS],
        error_messages={"required": _("Choose at least one day of the week.")},
    )
    start_time = forms.TimeField(
        label=_("From (time)"), required=False, widget=forms.TimeInput(attrs=TIME, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=_("Until (time)"), required=False, widget=forms.TimeInput(attrs=TIME, format="%H:%M")
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        error_messages=REASON_ERRORS,
        help_text=_("What the customer asked for, e.g. “no calls on working days between 9 and 18”."),
    )

    def clean_weekdays(self) -> int:
        mask = 0
        for bit in self.cleaned_data["weekdays"]:
            mask |= bit
        return mask or EVERY_DAY


class DndRemoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason for removing"), max_length=REASON_MAX, error_messages=REASON_ERRORS)
