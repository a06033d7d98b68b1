from django import forms
from django.utils.translation import gettext_lazy as _

from crm_site import text_limits
from relationships.models import Interaction


class FollowUpDoneForm(forms.Form):
    """Done, with the quick log of the contact that fulfils it."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=Interaction.Channel.choices, initial=Interaction.Channel.PHONE
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Interaction.Outcome.choices, initial=Interaction.Outcome.REACHED
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)
    # "Call me next week": the next follow-up, created with the contact (optional).
    next_follow_up_on = forms.DateField(
        label=_("Next follow-up on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    next_action = text_limits.text_field(_("Next action"), Interaction._meta.get_field("next_action").max_length)


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class SkipForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
