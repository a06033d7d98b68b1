from django import forms
from django.utils.translation import gettext_lazy as _

from crm_site import text_limits
from crm_site.fields import KeysMultipleChoiceField
from idempotency.forms import SubmissionKeyMixin

from .models import INSTRUCTIONS_MAX, TITLE_MAX, Task


class TaskForm(SubmissionKeyMixin, forms.Form):
    """A new task: for RMs of the creator's scope, or for the selection of customers the page carries (hidden:
    customer ids, the customer list's filter — its search term as the list's token — or an outlet's pool)."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX, error_messages=text_limits.ERRORS)
    instructions = text_limits.text_field(_("Instructions"), INSTRUCTIONS_MAX, rows=4)
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    priority = forms.ChoiceField(label=_("Priority"), choices=Task.Priority.choices, initial=Task.Priority.MEDIUM)
    assignees = KeysMultipleChoiceField(
        label=_("RMs"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    # The selection, carried from the page that made it.
    customer = forms.CharField(required=False, widget=forms.MultipleHiddenInput)
    list_query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    pool = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)

    def __init__(self, *args, rm_choices, has_selection: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignees"].queryset = rm_choices
        self.fields["assignees"].label_from_instance = lambda s: f"{s.name} · {s.branch.name}"
        self.has_selection = has_selection
        if has_selection:
            del self.fields["assignees"]

    def clean_customer(self):
        values = self.data.getlist("customer") if hasattr(self.data, "getlist") else []
        ids = []
        for value in values:
            if not str(value).isdigit() or int(value) > 2**63 - 1:
                raise forms.ValidationError(_("The selection is not valid. Choose the customers again."))
            ids.append(int(value))
        return ids

    def clean(self):
        data = super().clean()
        if not self.has_selection and not data.get("assignees") and "assignees" not in self.errors:
            self.add_error("assignees", _("Choose at least one RM."))
        return data


class LineNoteForm(forms.Form):
    """Completing a line without a customer: what was done."""

    note = text_limits.text_field(_("What was done"), text_limits.NOTE, rows=2, required=True)


class TaskFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All")),
            ("open", _("Open")),
            ("overdue", _("Overdue")),
            ("done", _("Done")),
            ("cancelled", _("Cancelled")),
        ],
    )
