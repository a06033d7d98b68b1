from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm_site import text_limits
from crm_site.widgets import LongSelect
from idempotency.forms import SubmissionKeyMixin
from organisation.models import Staff
from organisation.selectors import branch_filter_choices, branches_visible_to, staff_of, staff_visible_to

from . import validators
from .models import AccessLog, Customer, RiskLevel, Segment
from .selectors import SORTS, CustomerFilters

SORT_CHOICES = [
    ("-aum", _("AUM, highest first")),
    ("aum", _("AUM, lowest first")),
    ("name", _("Name")),
    ("last_contacted_at", _("Longest without contact")),
    ("-last_contacted_at", _("Most recently contacted")),
]
assert {key for key, _label in SORT_CHOICES} <= set(SORTS)  # noqa: S101 - a module invariant

SEARCH_MAX_LENGTH = 40  # a name, a customer number, a mobile or an ID number fits; longer input is a form error


def _rm_choices(user):
    return staff_visible_to(user).filter(role=Staff.Role.RM, status=Staff.Status.ACTIVE).order_by("name")


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"placeholder": _("Name, customer no., mobile, or last 4 of ID"), "type": "search"}
        ),
    )
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types")), *Customer.Kind.choices])
    segment = forms.ModelChoiceField(
        label=_("Tier"), required=False, queryset=Segment.objects.all(), empty_label=_("All tiers")
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=None, empty_label=_("All in my scope"), widget=LongSelect
    )
    rm = forms.ModelChoiceField(
        label=_("RM"), required=False, queryset=None, empty_label=_("All RMs"), widget=LongSelect
    )
    lifecycle = forms.ChoiceField(
        label=_("Lifecycle"), required=False, choices=[("", _("All stages")), *Customer.Lifecycle.choices]
    )
    risk_level = forms.ChoiceField(
        label=_("Risk tolerance"), required=False, choices=[("", _("All")), *RiskLevel.choices]
    )
    aum_min = forms.DecimalField(label=_("AUM from"), required=False, min_value=0, max_digits=18, decimal_places=2)
    aum_max = forms.DecimalField(label=_("AUM to"), required=False, min_value=0, max_digits=18, decimal_places=2)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branch_filter_choices(user)
        self.fields["branch"].label_from_instance = lambda b: "\u3000" * (b.depth - 1) + b.name
        self.fields["rm"].queryset = _rm_choices(user)
        staff = staff_of(user)
        if staff is not None and staff.role == Staff.Role.RM:
            del self.fields["branch"], self.fields["rm"]

    def clean(self):
        data = super().clean()
        low, high = data.get("aum_min"), data.get("aum_max")
        if low is not None and high is not None and low > high:
            self.add_error("aum_max", _("The upper bound is below the lower bound."))
        return data

    # What the phone layout folds behind its "Filters" button: everything but the search box and the sort.
    FOLDED = ("kind", "segment", "branch", "rm", "lifecycle", "risk_level", "aum_min", "aum_max")

    def active_filter_count(self) -> int:
        """How many folded filters narrow the list (shown on the "Filters" button)."""
        if not self.is_bound:
            return 0
        self.is_valid()
        return sum(1 for name in self.FOLDED if name in self.fields and self.cleaned_data.get(name) not in (None, ""))

    def filters(self) -> CustomerFilters:
        """The valid filters (invalid ones are dropped, and shown as form errors)."""
        self.is_valid()  # cleaned_data keeps the valid fields even when another one is invalid
        data = self.cleaned_data
        return CustomerFilters(**{k: v for k, v in data.items() if v not in (None, "")})


class TagsField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return [t.strip() for t in value.replace("，", ",").split(",") if t.strip()]

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value


class CustomerBaseForm(SubmissionKeyMixin, forms.Form):
    """Fields common to both kinds. Identifiers are typed in full; on an edit, leaving them empty keeps them."""

    name = forms.CharField(label=_("Name"), max_length=100)
    branch = forms.ModelChoiceField(label=_("Home branch"), queryset=None)
    primary_rm = forms.ModelChoiceField(label=_("Relationship manager"), queryset=None, required=False)
    lifecycle = forms.ChoiceField(
        label=_("Lifecycle stage"),
        choices=[("", _("Derived automatically")), *Customer.Lifecycle.choices],
        required=False,
        help_text=_("Derived every night from the holdings and assets. A stage chosen here is kept until set back."),
    )
    mobile = forms.CharField(label=_("Mobile"), max_length=20, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    tags = TagsField(label=_("Tags"), required=False, help_text=_("separate with commas"))
    notes = text_limits.text_field(_("Notes"), text_limits.NOTE, rows=3)

    def __init__(self, *args, user, instance: Customer | None = None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
        staff = staff_of(user)
        self.fields["branch"].queryset = branches_visible_to(user).order_by("path")
        self.fields["branch"].label_from_instance = lambda b: "\u3000" * (b.depth - 1) + b.name
        self.fields["primary_rm"].queryset = _rm_choices(user)
        if staff is not None and staff.role == Staff.Role.RM:
            # An RM registers customers in their own portfolio and branch.
            for name in ("branch", "primary_rm"):
                self.fields[name].disabled = True
            self.initial.setdefault("branch", staff.branch_id)
            self.initial.setdefault("primary_rm", staff.pk)
            self.fields["branch"].queryset = branches_visible_to(user)
            self.fields["primary_rm"].queryset = Staff.objects.filter(pk=staff.pk)
        if instance is not None:
            # The RM and branch change through a reassignment request, not by editing the customer.
            del self.fields["branch"], self.fields["primary_rm"]
            self.fields["mobile"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
                "masked": instance.mobile_masked or "—"
            }

    def service_fields(self) -> dict:
        from .services import UNCHANGED

        data = dict(self.cleaned_data)
        if self.instance is not None and not data.get("mobile"):
            data["mobile"] = UNCHANGED
        return data


class IndividualCustomerForm(CustomerBaseForm):
    id_type = forms.ChoiceField(
        label=_("ID type"),
        choices=[("", "—"), *Customer.IdType.choices],
        required=False,
        initial=Customer.IdType.RESIDENT_ID,
    )
    id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    gender = forms.ChoiceField(
        label=_("Gender"), choices=[("", _("from the ID number")), *Customer.Gender.choices], required=False
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("filled in from a resident ID number"),
    )
    lunar_birthday = forms.BooleanField(label=_("Celebrates the lunar birthday"), required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=50, required=False)
    risk_level = forms.ChoiceField(
        label=_("Risk tolerance"), choices=[("", _("Not assessed")), *RiskLevel.choices], required=False
    )
    risk_assessed_on = forms.DateField(
        label=_("Risk assessed on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    field_order = ["name", "id_type", "id_number", "gender", "birth_date", "lunar_birthday", "mobile", "occupation", "address",
                   "risk_level", "risk_assessed_on", "branch", "primary_rm", "lifecycle", "tags", "notes"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["id_number"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {
                "masked": self.instance.id_number_masked or "—"
            }

    def _typed(self, name: str):
        """The date typed in the field, or None when it is empty or is the record's own (an edit posts the stored
        date back: a customer assessed eleven years ago can still have their address changed)."""
        value = self.cleaned_data.get(name)
        if not value or (self.instance is not None and value == getattr(self.instance, name)):
            return None
        return value

    def clean_birth_date(self):
        if value := self._typed("birth_date"):
            validators.validate_birth_date(value)
        return self.cleaned_data.get("birth_date")

    def clean_risk_assessed_on(self):
        if value := self._typed("risk_assessed_on"):
            validators.validate_risk_assessed_on(value)
        return self.cleaned_data.get("risk_assessed_on")

    def clean(self):
        """The age rule holds for the birth date an ID number carries too (the number itself may be valid: GB 11643
        sets no earliest year). A number that is not valid is left to the service, which says why."""
        data = super().clean()
        birth = validators.id_birth_date(data.get("id_type") or "", data.get("id_number") or "")
        if birth is not None:
            try:
                validators.validate_birth_date(birth)
            except ValidationError:
                self.add_error(
                    "id_number",
                    ValidationError(
                        _(
                            "The birth date in this ID number (%(date)s) makes the customer older than %(max)s "
                            "years; please check the number."
                        ),
                        code="age_implausible",
                        params={"date": birth.isoformat(), "max": validators.MAX_AGE},
                    ),
                )
        return data

    def service_fields(self) -> dict:
        from .services import UNCHANGED

        data = super().service_fields()
        if self.instance is not None and not data.get("id_number"):
            data["id_number"] = UNCHANGED
        return data


class CorporateCustomerForm(CustomerBaseForm):
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False)
    legal_representative = forms.CharField(label=_("Legal representative"), max_length=50, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=50, required=False)
    contact_person = forms.CharField(label=_("Contact person"), max_length=50, required=False)

    field_order = ["name", "credit_code", "legal_representative", "industry", "contact_person", "mobile", "address",
                   "branch", "primary_rm", "lifecycle", "tags", "notes"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mobile"].label = _("Contact mobile")


def customer_form_class(kind: str):
    return IndividualCustomerForm if kind == Customer.Kind.INDIVIDUAL else CorporateCustomerForm


def initial_from(customer: Customer) -> dict:
    skip = ("mobile", "id_number", "tags", "branch", "primary_rm")
    names = [n for n in customer_form_class(customer.kind).base_fields if n not in skip]
    initial = {n: getattr(customer, n) for n in names}
    initial["lifecycle"] = customer.lifecycle if customer.lifecycle_manual else ""
    initial["tags"] = [t.name for t in customer.tags.all()]
    return initial


class HeaderSearchForm(forms.Form):
    """The header's search box: the customer list's free-text term alone, searched as it is typed."""

    MIN_LENGTH = 2  # one character would match a whole surname's worth of customers: ask for more

    q = forms.CharField(
        label=_("Find a customer"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def term(self) -> str | None:
        """The term to search for, or None when the input is invalid or too short to search (no query then)."""
        if not self.is_valid():
            return None
        term = self.cleaned_data["q"]
        return term if len(term) >= self.MIN_LENGTH else None


class RevealForm(forms.Form):
    REASONS = [
        ("verify", _("Identity check for a transaction")),
        ("contact", _("Contacting the customer")),
        ("complaint", _("Handling a complaint")),
        ("other", _("Other (explain)")),
    ]
    field = forms.ChoiceField(choices=AccessLog.Field.choices, widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_("Reason"), choices=REASONS)
    detail = forms.CharField(label=_("Details"), max_length=150, required=False)

    def clean(self):
        data = super().clean()
        if data.get("reason") == "other" and len((data.get("detail") or "").strip()) < 2:
            self.add_error("detail", _("Explain the reason."))
        return data

    def reason_text(self) -> str:
        label = dict(self.REASONS)[self.cleaned_data["reason"]]
        detail = (self.cleaned_data.get("detail") or "").strip()
        return f"{label}: {detail}" if detail else str(label)
