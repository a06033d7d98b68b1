from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site import text_limits
from crm_site.fields import KeysMultipleChoiceField
from crm_site.widgets import LocalDateTimeInput
from customers.models import Product
from idempotency.forms import SubmissionKeyMixin

from .models import Handover, Interaction


class FollowUpIdsField(forms.TypedMultipleChoiceField):
    """Ticked follow-ups: the choices are what the page shows, but whether an id may be closed is the service's
    check (reminders' ``follow_ups_close_with``), made in the log's transaction. So a repeated submission, whose
    follow-ups are closed by then, is answered with its first result rather than an error."""

    def valid_value(self, value) -> bool:
        return True


class InteractionForm(SubmissionKeyMixin, forms.Form):
    """The quick log: a phone-sized form with sensible defaults (now, visit, maintenance)."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=Interaction.Channel.choices, initial=Interaction.Channel.VISIT
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=Interaction.Purpose.choices, initial=Interaction.Purpose.MAINTENANCE
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Interaction.Outcome.choices, initial=Interaction.Outcome.REACHED
    )
    occurred_at = forms.DateTimeField(
        label=_("When"), widget=LocalDateTimeInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    notes = text_limits.text_field(_("Notes"), text_limits.NOTE, rows=2)
    products = KeysMultipleChoiceField(
        label=_("Products discussed"),
        required=False,
        queryset=Product.objects.filter(is_active=True),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    next_follow_up_on = forms.DateField(
        label=_("Next follow-up on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    next_action = forms.CharField(label=_("Next action"), required=False, max_length=200)
    close_follow_ups = FollowUpIdsField(
        label=_("Close with this contact"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("A follow-up to close is not one of this customer's open follow-ups.")},
    )

    def __init__(self, *args, follow_ups_to_close=None, **kwargs):
        """``follow_ups_to_close``: on a new contact, the actor's open follow-ups of the customer (from reminders,
        through ``panels.quick_log``), those due today or earlier ticked; the service rejects any other id (a
        form error). On a correction (None) the field is left out."""
        super().__init__(*args, **kwargs)
        if not self.is_bound and "occurred_at" not in self.initial:
            self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)
        if follow_ups_to_close is None:
            del self.fields["close_follow_ups"]
            return
        today = timezone.localdate()
        self.fields["close_follow_ups"].choices = [
            (f.pk, f"{f.headline} · {f.due_on:%Y-%m-%d}") for f in follow_ups_to_close
        ]
        self.initial.setdefault("close_follow_ups", [f.pk for f in follow_ups_to_close if f.due_on <= today])


class RatingForm(SubmissionKeyMixin, forms.Form):
    score = forms.TypedChoiceField(
        label=_("Score"), coerce=int, choices=[(i, "★" * i) for i in range(5, 0, -1)], widget=forms.RadioSelect
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=300)


class ReassignmentForm(SubmissionKeyMixin, forms.Form):
    to_staff = forms.ModelChoiceField(label=_("New RM"), queryset=None)
    reason = text_limits.text_field(_("Reason"), text_limits.REASON, rows=3, required=True)

    def __init__(self, *args, rm_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_staff"].queryset = rm_choices
        self.fields["to_staff"].label_from_instance = lambda s: f"{s.name} · {s.branch.name}"


class LeavingForm(forms.Form):
    last_day = forms.DateField(
        label=_("Last working day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class HandoverForm(SubmissionKeyMixin, forms.Form):
    targets = KeysMultipleChoiceField(label=_("Receiving RMs"), queryset=None, widget=forms.CheckboxSelectMultiple)
    method = forms.ChoiceField(label=_("Distribution"), choices=Handover.Method.choices, initial=Handover.Method.EVEN)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, rm_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].queryset = rm_choices
        self.fields["targets"].label_from_instance = lambda s: f"{s.name} · {s.branch.name}"


class VisitPlanForm(SubmissionKeyMixin, forms.Form):
    planned_on = forms.DateField(
        label=_("Visit date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=Interaction.Purpose.choices, initial=Interaction.Purpose.MAINTENANCE
    )
    customers = KeysMultipleChoiceField(
        label=_("Customers to visit"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    preparation = text_limits.text_field(_("What to prepare"), text_limits.NOTE, rows=3)

    def __init__(self, *args, customer_choices, customer_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = customer_choices
        self.fields["customers"].label_from_instance = customer_label


class VisitReportLineForm(forms.Form):
    visited = forms.BooleanField(label=_("Visited"), required=False, initial=True)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Interaction.Outcome.choices, initial=Interaction.Outcome.REACHED
    )
    notes = text_limits.text_field(_("Notes"), text_limits.NOTE, rows=2)
    next_follow_up_on = forms.DateField(
        label=_("Next follow-up on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class SecondaryForm(SubmissionKeyMixin, forms.Form):
    staff = forms.ModelChoiceField(label=_("Secondary RM"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, rm_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = rm_choices
        self.fields["staff"].label_from_instance = lambda s: f"{s.name} · {s.branch.name}"


# The inputs of the detail pages' buttons (crm_site.actions): each action reads its input through one of these, so
# a forged or garbled post is a message, never a server error.
class DecisionNoteForm(forms.Form):
    """The note of an approval, a rejection or a review (the page's input stops at the same 200 characters)."""

    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class HandoverDistributeForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Distribution"),
        required=False,
        choices=Handover.Method.choices,
        error_messages={"invalid_choice": _("Choose one of the distribution methods.")},
    )


class HandoverAssignForm(forms.Form):
    customer = forms.IntegerField(min_value=1)
    to_staff = forms.IntegerField(min_value=1)
