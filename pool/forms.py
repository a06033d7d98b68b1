"""Forms of the pool pages."""

# Release
from django import forms
from django.utils.translation import gettext_lazy as _

from customers.selectors import customers_visible_to
from idempotency.forms import SubmissionKeyMixin

from .models import ReleaseRequest
from .selectors import release_requests_visible_to


class ReleaseDecisionForm(forms.Form):
    """The release page's decision: the ticked proposals (or one row's button), approve or reject, a note."""

    APPROVE, REJECT = "approve", "reject"

    ids = forms.ModelMultipleChoiceField(
        queryset=ReleaseRequest.objects.none(),
        error_messages={
            "required": _("Tick at least one proposal."),
            "invalid_choice": _("A ticked proposal is no longer awaiting a decision. Reload the page."),
            "invalid_pk_value": _("A ticked proposal is no longer awaiting a decision. Reload the page."),
        },
    )
    decision = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = release_requests_visible_to(user).filter(status=ReleaseRequest.Status.PROPOSED)

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.REJECT and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the customer stays with the RM."))
        return data


class ReleaseProposeForm(SubmissionKeyMixin, forms.Form):
    """A head proposes by hand to release a customer of their subtree: by customer number, with the reason."""

    customer_no = forms.CharField(label=_("Customer number"), max_length=20)
    note = forms.CharField(label=_("Why release them"), max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_customer_no(self):
        number = self.cleaned_data["customer_no"].strip()
        customer = customers_visible_to(self.user).filter(customer_no=number).first()
        if customer is None:
            raise forms.ValidationError(_("No customer with this number in your branches."))
        return customer
