from django import forms
from django.utils.translation import gettext_lazy as _

from customers.forms import CustomerFilterForm
from customers.models import Product
from customers.selectors import customers_visible_to
from idempotency.forms import SubmissionKeyMixin
from organisation.models import Branch, Staff
from organisation.selectors import branches_visible_to

from .models import ReleaseRequest
from .selectors import assignable_rms, release_requests_visible_to
from .services import METHODS


class PoolFilterForm(CustomerFilterForm):
    """The customer list's filter form (the same fields, checks and token step for the search term), without the
    RM filter (pool customers have none) and with the two filters the pool needs most: how long without contact,
    and the products held."""

    not_contacted_days = forms.IntegerField(
        label=_("Not contacted for (days)"), required=False, min_value=0, max_value=3660
    )
    product_category = forms.ChoiceField(
        label=_("Holds"), required=False, choices=[("", _("Any product")), *Product.Category.choices]
    )

    FOLDED = (*CustomerFilterForm.FOLDED, "not_contacted_days", "product_category")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields.pop("rm", None)
        if "branch" in self.fields:
            # A head picks an outlet (or a sub-branch: its outlets' pools together).
            self.fields["branch"].queryset = branches_visible_to(user).only("id", "name", "code", "depth")
            self.fields["branch"].empty_label = _("Every pool in my scope")


class IdsField(forms.Field):
    """Customer ids ticked on the page: any positive integers (the service checks each against the pools)."""

    widget = forms.MultipleHiddenInput
    MAX = 1000

    def to_python(self, value):
        values = [v for v in (value or []) if v != ""]
        if len(values) > self.MAX or not all(str(v).isdigit() for v in values):
            raise forms.ValidationError(_("The selection is not valid. Reload the page and try again."))
        return [int(v) for v in values]


class SelectionForm(forms.Form):
    """The customers ticked on the page (or the one row's button), and the page to come back to."""

    customer = IdsField(required=False)
    one = forms.IntegerField(required=False, min_value=1)
    back = forms.CharField(required=False, max_length=2000)

    def customer_ids(self) -> list[int]:
        if self.cleaned_data.get("one"):
            return [self.cleaned_data["one"]]
        return list(self.cleaned_data.get("customer") or [])


class AssignForm(SelectionForm):
    rms = forms.ModelMultipleChoiceField(label=_("To RMs"), queryset=Staff.objects.none(), required=False)
    method = forms.ChoiceField(label=_("Split"), choices=METHODS.choices, initial=METHODS.EVEN)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rms"].queryset = assignable_rms(user)
        self.fields["rms"].label_from_instance = lambda s: f"{s.name}（{s.branch.name}）"
        self.fields["rms"].error_messages["invalid_choice"] = _("Assign only to active RMs of the outlet.")


class KeeperForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none())
    staff = forms.ModelChoiceField(
        label=_("Pool keeper"), queryset=Staff.objects.all(), required=False, empty_label=_("The outlet's head")
    )
    back = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_visible_to(user)


# Release


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
