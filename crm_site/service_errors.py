"""Turning a service's ValidationError into what the user sees: errors on the form's fields, or a message."""

from django.core.exceptions import ValidationError


def apply_to_form(form, error: ValidationError) -> None:
    """Put a service's validation errors on the form: on the field when the form has it, else on the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def as_text(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)
