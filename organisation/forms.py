from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Staff


class OrgTreeFilterForm(forms.Form):
    q = forms.CharField(label=_("Branch name or code"), required=False, max_length=50)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None, required=False, empty_label=_("All in my scope"))
    within = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles")), *Staff.Role.choices])

    def __init__(self, *args, branch_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branch_choices
        self.fields["branch"].label_from_instance = lambda b: "\u3000" * (b.depth - 1) + b.name
