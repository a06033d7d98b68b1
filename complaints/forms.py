from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.widgets import LocalDateTimeInput, LongSelect
from customers.models import Product
from idempotency.forms import SubmissionKeyMixin
from organisation.models import Staff
from organisation.selectors import branch_filter_choices, branches_visible_to, staff_of, staff_visible_to

from . import rules
from .models import Complaint, ComplaintCategory, ComplaintCause
from .models import TextLimit as L
from .selectors import ComplaintFilters

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _staff_label(s: Staff) -> str:
    return f"{s.name} · {s.get_role_display()} · {s.branch.name}"


def _indent(b) -> str:
    return "\u3000" * (b.depth - 1) + b.name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ComplaintFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _("Reference or complainant"), "type": "search"}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Complaint.Status.choices])
    deadline = forms.ChoiceField(label=_("Deadline"), required=False, choices=[("", _("All")), *rules.Deadline.CHOICES])
    category = forms.ModelChoiceField(
        label=_("Business category"),
        required=False,
        queryset=ComplaintCategory.objects.all(),
        empty_label=_("All"),
        widget=LongSelect,
    )
    cause = forms.ModelChoiceField(
        label=_("Cause"), required=False, queryset=ComplaintCause.objects.all(), empty_label=_("All"), widget=LongSelect
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Complaint.Channel.choices]
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("All")), *Complaint.Severity.choices]
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=None, empty_label=_("All in my scope"), widget=LongSelect
    )
    handler = forms.ModelChoiceField(
        label=_("Handler"), required=False, queryset=None, empty_label=_("All"), widget=LongSelect
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_visible_to(user).only("id", "name", "depth", "path")
        self.fields["branch"].label_from_instance = _indent
        self.fields["handler"].queryset = (
            staff_visible_to(user).exclude(role=Staff.Role.RM).select_related("branch").order_by("name")
        )
        self.fields["handler"].label_from_instance = lambda s: s.name
        staff = staff_of(user)
        if staff is not None and staff.role == Staff.Role.RM:
            del self.fields["branch"], self.fields["handler"]

    def filters(self) -> ComplaintFilters:
        if not self.is_valid():
            return ComplaintFilters()
        d = self.cleaned_data
        return ComplaintFilters(
            q=d.get("q") or "",
            status=d.get("status") or "",
            category=d.get("category"),
            cause=d.get("cause"),
            channel=d.get("channel") or "",
            branch=d.get("branch"),
            handler=d.get("handler"),
            deadline=d.get("deadline") or "",
            severity=d.get("severity") or "",
        )


class IntakeForm(SubmissionKeyMixin, forms.Form):
    """登记 at the counter, by phone, from a letter or a referral. The customer is picked by search above."""

    customer = forms.IntegerField(widget=forms.HiddenInput, required=False)
    complainant_kind = forms.ChoiceField(
        label=_("Who complains"),
        choices=Complaint.ComplainantKind.choices,
        initial=Complaint.ComplainantKind.CUSTOMER,
        widget=forms.RadioSelect,
    )
    complainant_name = forms.CharField(
        label=_("Complainant's name"), max_length=L.NAME, required=False, help_text=_("For an agent or a non-customer.")
    )
    complainant_contact = forms.CharField(label=_("Complainant's phone"), max_length=20, required=False)
    authorisation = forms.CharField(
        label=_("Power of attorney (授权委托书)"),
        max_length=L.AUTHORISATION,
        required=False,
        help_text=_("For an agent: the document seen, e.g. its date and number."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Complaint.Channel.choices)
    received_at = forms.DateTimeField(
        label=_("Received at"), widget=LocalDateTimeInput(), input_formats=DATETIME_FORMATS
    )
    category = forms.ModelChoiceField(
        label=_("Business category"), queryset=ComplaintCategory.objects.none(), widget=LongSelect
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Complaint.Severity.choices, initial="normal")
    request = forms.CharField(
        label=_("The complainant's request"), max_length=L.REQUEST, widget=forms.Textarea(attrs={"rows": 2})
    )
    facts = forms.CharField(
        label=_("Main facts and grounds"), max_length=L.FACTS, widget=forms.Textarea(attrs={"rows": 4})
    )
    branch = forms.ModelChoiceField(
        label=_("Branch complained about"),
        queryset=None,
        required=False,
        empty_label=_("The customer's branch"),
        widget=LongSelect,
    )
    subject_staff = forms.ModelChoiceField(
        label=_("Staff member complained about"),
        queryset=None,
        required=False,
        empty_label=_("None named"),
        widget=LongSelect,
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.all(),
        required=False,
        empty_label=_("No product"),
        widget=LongSelect,
    )
    cause = forms.ModelChoiceField(
        label=_("Cause (if already clear)"), queryset=ComplaintCause.objects.none(), required=False, widget=LongSelect
    )
    handler = forms.ModelChoiceField(
        label=_("Handler"), queryset=None, required=False, empty_label=_("Assign later"), widget=LongSelect
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("PDF, JPG, PNG, DOCX or XLSX, up to 10 MB each."),
    )
    # A resubmission registered as a complaint of its own: the statistics count the matter once.
    duplicate_of = forms.ModelChoiceField(
        label=_("Same matter as"),
        queryset=Complaint.objects.none(),
        required=False,
        empty_label=_("A new matter"),
        help_text=_("If the complainant complains again about a matter already registered."),
    )

    def __init__(self, *args, user, same_matter_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Shown in the customer picker, outside the <form> (the picker is swapped in place by htmx): the form
        # attribute ties it to the intake form all the same.
        self.fields["duplicate_of"].widget.attrs["form"] = "intake-form"
        if same_matter_choices is not None:
            self.fields["duplicate_of"].queryset = same_matter_choices
            self.fields["duplicate_of"].label_from_instance = lambda c: (
                f"{c.reference} · {c.get_status_display()} · {c.request[:30]}"
            )
        self.fields["category"].queryset = ComplaintCategory.objects.filter(is_active=True)
        self.fields["cause"].queryset = ComplaintCause.objects.filter(is_active=True)
        self.fields["branch"].queryset = branches_visible_to(user).only("id", "name", "depth", "path")
        self.fields["branch"].label_from_instance = _indent
        people = (
            staff_visible_to(user)
            .filter(status=Staff.Status.ACTIVE)
            .select_related("branch")
            .order_by("branch__path", "name")
        )
        self.fields["subject_staff"].queryset = people
        self.fields["subject_staff"].label_from_instance = _staff_label
        self.fields["handler"].queryset = people
        self.fields["handler"].label_from_instance = _staff_label
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))


class AssignForm(forms.Form):
    handler = forms.ModelChoiceField(label=_("Handler"), queryset=None, widget=LongSelect)
    note = forms.CharField(label=_("Note"), max_length=L.DECISION_NOTE, required=False)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = choices
        self.fields["handler"].label_from_instance = _staff_label


class ExtensionForm(SubmissionKeyMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=L.REASON, widget=forms.Textarea(attrs={"rows": 2}))
    customer_told_at = forms.DateTimeField(
        label=_("Complainant told at"), widget=LocalDateTimeInput(), input_formats=DATETIME_FORMATS
    )
    customer_told_via = forms.CharField(
        label=_("Told by"), max_length=L.VIA, widget=forms.TextInput(attrs={"placeholder": _("phone, SMS, letter…")})
    )


class ExtensionDecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=L.DECISION_NOTE, required=False)


class PauseForm(forms.Form):
    reason = forms.CharField(label=_("Waiting for"), max_length=L.SHORT)
    customer_told = forms.BooleanField(label=_("The complainant has been told"), required=False)


class DecideForm(forms.Form):
    decision = forms.CharField(
        label=_("Decision told to the complainant"), max_length=L.DECISION, widget=forms.Textarea(attrs={"rows": 4})
    )
    customer_told_via = forms.CharField(label=_("Sent by"), max_length=L.VIA)
    cause = forms.ModelChoiceField(
        label=_("Cause"), queryset=ComplaintCause.objects.none(), required=False, widget=LongSelect
    )
    remedies_told = forms.BooleanField(
        label=_("The complainant was told of their further remedies (review, mediation, arbitration, litigation)"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cause"].queryset = ComplaintCause.objects.filter(is_active=True)


class CallbackForm(SubmissionKeyMixin, forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction"),
        coerce=int,
        choices=[(5, _("5 · very satisfied")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 · very dissatisfied"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Customer's comment"), max_length=L.SHORT, required=False)


class CloseForm(forms.Form):
    cause = forms.ModelChoiceField(label=_("Root cause"), queryset=ComplaintCause.objects.none(), widget=LongSelect)
    corrective_action = forms.CharField(
        label=_("Corrective action (整改措施)"),
        max_length=L.CORRECTIVE_ACTION,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cause"].queryset = ComplaintCause.objects.filter(is_active=True)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("What the complainant disputes"), max_length=L.REASON, widget=forms.Textarea(attrs={"rows": 2})
    )
    requested_at = forms.DateTimeField(
        label=_("Review requested at"), widget=LocalDateTimeInput(), input_formats=DATETIME_FORMATS
    )


class WithdrawForm(forms.Form):
    received_at = forms.DateTimeField(
        label=_("Withdrawal received at"), widget=LocalDateTimeInput(), input_formats=DATETIME_FORMATS
    )
    note = forms.CharField(label=_("Note"), max_length=L.SHORT, required=False)


class NoteForm(SubmissionKeyMixin, forms.Form):
    text = forms.CharField(label=_("Note"), max_length=L.NOTE, widget=forms.Textarea(attrs={"rows": 2}))


class ContactForm(SubmissionKeyMixin, forms.Form):
    via = forms.CharField(
        label=_("How"), max_length=L.VIA, widget=forms.TextInput(attrs={"placeholder": _("phone, visit, letter…")})
    )
    text = forms.CharField(label=_("What was said"), max_length=L.NOTE, widget=forms.Textarea(attrs={"rows": 2}))


class RepeatForm(forms.Form):
    """The complainant comes back about this complaint (from the intake page or the detail page)."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Complaint.Channel.choices)
    received_at = forms.DateTimeField(
        label=_("Received at"), widget=LocalDateTimeInput(), input_formats=DATETIME_FORMATS
    )
    text = forms.CharField(
        label=_("What the complainant says now"), max_length=L.NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )
    new_facts = forms.BooleanField(
        label=_("New facts or reasons (the period restarts from the day they are received)"), required=False
    )


class AttachForm(SubmissionKeyMixin, forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, JPG, PNG, DOCX or XLSX, up to 10 MB."))


class StatisticsForm(forms.Form):
    month = forms.DateField(
        label=_("Month"), input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=None, empty_label=_("All in my scope"), widget=LongSelect
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branch_filter_choices(user)
        self.fields["branch"].label_from_instance = _indent


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=None, empty_label=_("All in my scope"), widget=LongSelect
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branch_filter_choices(user)
        self.fields["branch"].label_from_instance = _indent

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end cannot be before the start."))
        return data
