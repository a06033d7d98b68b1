"""The submission key a create form carries (docs/architecture.md, "Double submits")."""

import uuid

from django import forms
from django.core.exceptions import ValidationError

FIELD = "submission_key"


class SubmissionKeyField(forms.UUIDField):
    """A hidden field holding a fresh random key each time its form is drawn. A form drawn again with its errors
    keeps the key it was posted with (that post created nothing, so the key is still free); a malformed or
    missing key is simply no key."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("initial", uuid.uuid4)
        kwargs.setdefault("label", "")
        super().__init__(**kwargs)

    def bound_data(self, data, initial):
        return data or initial

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            return None


class SubmissionKeyMixin:
    """Adds the hidden submission key to a form. After validation the key is ``form.posted_key`` (a UUID, or
    None) and is not part of ``cleaned_data``, so the form's data still goes to its service unchanged."""

    posted_key = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[FIELD] = SubmissionKeyField()

    def full_clean(self):
        super().full_clean()
        cleaned = getattr(self, "cleaned_data", None)
        if cleaned is not None:
            self.posted_key = cleaned.pop(FIELD, None)
