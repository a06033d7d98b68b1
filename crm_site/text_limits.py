"""How long a text typed by staff may be: one bound per kind of text, used by the model field (so Django admin's
forms and every service's ``full_clean`` apply it) and by the page's form (so the browser stops at it and a longer
text is a form error, never a stored 100,000-character note). A CharField is bounded by its own ``max_length``;
these are the bounds of the free texts, stored as TextField."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

# A note: a customer's notes, what was said in a contact, what to prepare for a visit.
NOTE = 2000
# A reason given for a request: why customers should move to another RM.
REASON = 500


# The form error of a text over its bound (Django's own speaks of a "variable"): the page's forms pass it as
# ``error_messages=text_limits.ERRORS``, or build the field with ``text_field``.
ERRORS = {"max_length": _("At most %(limit_value)d characters, please (this text has %(show_value)d).")}


def bounded(limit: int) -> dict:
    """The keyword arguments of a TextField bounded at ``limit`` characters: ``models.TextField(...,
    **bounded(NOTE))``. ``max_length`` bounds the form field; the validator bounds ``full_clean``."""
    return {"max_length": limit, "validators": [MaxLengthValidator(limit)]}


def text_field(label, limit: int, *, rows: int | None = None, required: bool = False) -> forms.CharField:
    """A page form's field for a text bounded at ``limit`` characters, with the bound's own error message; a
    textarea of ``rows`` lines when given."""
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return forms.CharField(label=label, required=required, max_length=limit, error_messages=ERRORS, widget=widget)
