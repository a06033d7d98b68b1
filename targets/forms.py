from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Product
from organisation.models import Branch, Staff

from .models import Metric, TargetPeriod
from .selectors import period_choice
from .services import Method, key_of

VALUE_ERRORS = {
    "invalid": _("Enter a number."),
    "max_digits": _("This number is too large."),
    "max_decimal_places": _("Enter at most two decimal places."),
}


def open_periods(today=None) -> list:
    """The periods a target can be set for: this and the next month, quarter and year."""
    today = today or timezone.localdate()
    choices = []
    for kind in TargetPeriod.Kind.values:
        current = period_choice(kind, today.isoformat())
        for p in (current, current.next()):
            choices.append((f"{p.kind}:{p.on}", f"{TargetPeriod.Kind(kind).label} · {p.label}"))
    return choices


class TargetForm(forms.Form):
    """Set a target: the period, the metric (with the product kind for new holdings), who, and the value."""

    period = forms.ChoiceField(label=_("Period"))
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    product_category = forms.ChoiceField(
        label=_("Product kind"),
        required=False,
        choices=[("", _("— only for new holdings —")), *Product.Category.choices],
    )
    holder = forms.ChoiceField(label=_("For"), help_text=_("A branch's target covers its whole subtree."))
    value = forms.DecimalField(
        label=_("Target"),
        max_digits=18,
        decimal_places=2,
        error_messages=VALUE_ERRORS,
        help_text=_("AUM growth in CNY; customers and holdings as counts; coverage in %; complaints per 1,000."),
    )

    def __init__(self, *args, branches=(), rms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = open_periods()
        self.holders = {key_of(b): b for b in branches} | {key_of(s): s for s in rms}
        self.fields["holder"].choices = [
            (_("Branches"), [(key_of(b), f"{'· ' * (b.depth - 1)}{b.name}") for b in branches]),
            (_("RMs"), [(key_of(s), f"{s.name} · {s.branch.name}") for s in rms]),
        ]

    def clean_value(self):
        value = self.cleaned_data["value"]
        if value is not None and value < 0:
            raise forms.ValidationError(_("A target cannot be negative."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("metric") == Metric.NEW_HOLDINGS and not data.get("product_category"):
            self.add_error("product_category", _("Choose the product kind the holdings are counted for."))
        raw = data.get("period")
        if raw:
            kind, on = raw.split(":", 1)
            data["period_kind"], data["period_on"] = kind, on
        holder = self.holders.get(data.get("holder"))
        data["branch"] = holder if isinstance(holder, Branch) else None
        data["staff"] = holder if isinstance(holder, Staff) else None
        return data


class DistributeForm(forms.Form):
    """Distribute a target over the branches and RMs directly below: a method, and a value per child for by hand."""

    method = forms.ChoiceField(
        label=_("Distribution"),
        choices=[
            (Method.EVEN, _("Evenly")),
            (Method.PORTFOLIO, _("By portfolio size")),
            (Method.HAND, _("By hand")),
        ],
        initial=Method.EVEN,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the distribution methods.")},
    )

    def __init__(self, *args, target, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.target = target
        self.children = children
        existing = kwargs.get("initial", {})
        for child in children:
            self.fields[key_of(child)] = forms.DecimalField(
                label=child.name,
                required=False,
                min_value=Decimal(0),
                max_digits=18,
                decimal_places=2,
                error_messages={**VALUE_ERRORS, "min_value": _("A target cannot be negative.")},
                initial=existing.get(key_of(child)),
            )

    def child_fields(self):
        return [(child, self[key_of(child)]) for child in self.children]

    def clean(self):
        data = super().clean()
        if data.get("method") == Method.HAND:
            missing = [key_of(c) for c in self.children if data.get(key_of(c)) is None]
            for key in missing:
                if key not in self.errors:
                    self.add_error(key, _("Enter this part, or 0."))
        return data

    def values(self) -> dict:
        return {key_of(c): self.cleaned_data.get(key_of(c)) for c in self.children}
