import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site import text_limits
from crm_site.widgets import LongSelect
from customers.models import Product
from idempotency.forms import SubmissionKeyMixin

from .models import MIN_AMOUNT, Opportunity
from .selectors import FLAGS, PipelineFilters

Stage = Opportunity.Stage
DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
AMOUNT_ERRORS = {"min_value": _("The expected amount must be more than zero.")}


def _amount_field():
    return forms.DecimalField(
        label=_("Expected amount (CNY)"), max_digits=18, decimal_places=2, min_value=MIN_AMOUNT,
        error_messages=AMOUNT_ERRORS, widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip


class OpportunityForm(SubmissionKeyMixin, forms.Form):
    """A new opportunity for the customer the page carries (hidden, with the contact it came from)."""

    product_category = forms.ChoiceField(
        label=_("Product kind"), required=False, choices=[("", "—"), *Product.Category.choices]
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.none(), empty_label=_("Any product of the kind")
    )
    amount = _amount_field()
    expected_on = forms.DateField(label=_("Expected on"), **DATE)
    stage = forms.ChoiceField(label=_("Stage"), choices=[(s, Stage(s).label) for s in Opportunity.OPEN_STAGES])
    note = text_limits.text_field(pgettext_lazy("opportunity", "Note"), text_limits.NOTE, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True).order_by("category", "code")
        self.fields["product"].help_text = _("Choose a product, or only its kind when it is not decided yet.")

    def clean(self):
        data = super().clean()
        product, kind = data.get("product"), data.get("product_category")
        if not product and not kind and "product" not in self.errors:
            self.add_error("product_category", _("Choose the product, or at least its kind."))
        elif product and kind and product.category != kind:
            self.add_error("product", _("The product is not of the kind chosen."))
        return data


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("New stage"), choices=Stage.choices)
    won_on = forms.DateField(label=_("Won on"), required=False, **DATE)
    lost_reason = forms.ChoiceField(
        label=_("Why it was lost"), required=False, choices=[("", "—"), *Opportunity.LostReason.choices]
    )
    lost_note = forms.CharField(label=pgettext_lazy("opportunity lost", "Details"), required=False, max_length=200)


class EditForm(forms.Form):
    amount = _amount_field()
    expected_on = forms.DateField(label=_("Expected on"), **DATE)
    note = text_limits.text_field(pgettext_lazy("opportunity", "Note"), text_limits.NOTE, rows=2)


MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthField(forms.CharField):
    """A month as ``YYYY-MM`` (the browser's month input): its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-03"})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        match = MONTH.match(value)
        try:
            return date(int(match.group(1)), int(match.group(2)), 1) if match else None
        except ValueError:
            return None


class PipelineFilterForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("open", pgettext_lazy("opportunity stage", "Open")), *Stage.choices, ("all", _("All"))],
    )
    month = MonthField(label=_("Expected month"), required=False)
    flag = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("Everything")), ("stale", _("Needing follow-up")), ("unmatched", _("Won, no holding found"))],
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=None, empty_label=_("All my branches"), widget=LongSelect
    )
    rm = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=None, empty_label=_("Everyone"), widget=LongSelect
    )

    def __init__(self, *args, branches=None, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branches is None:
            del self.fields["branch"], self.fields["rm"]
            return
        self.fields["branch"].queryset = branches
        self.fields["branch"].label_from_instance = lambda b: "\u3000" * (b.depth - 1) + b.name
        self.fields["rm"].queryset = owners
        self.fields["rm"].label_from_instance = lambda s: f"{s.name} · {s.branch.name}"

    def filters(self) -> PipelineFilters:
        """The valid filters (an invalid one is dropped and shown as the form's error)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if self.is_bound and not self.is_valid():
            data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        flag = data.get("flag") or ""
        rm = data.get("rm")
        return PipelineFilters(
            stage=data.get("stage") or "open",
            month=data.get("month"),
            branch=data.get("branch"),
            owner_id=rm.pk if rm else None,
            flag=flag if flag in FLAGS else "",
        )
