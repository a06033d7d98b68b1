"""Form fields that answer crafted input with a form error.

``KeysMultipleChoiceField``: Django's ``ModelMultipleChoiceField`` looks the posted keys up in the database, and a
key past 64 bits (``customers=999…9``) makes SQLite raise OverflowError from inside the query — a server error
where PostgreSQL finds nothing. A key out of the range of a database key is not one of the choices: the field's own
"not a valid choice" error, before any query."""

from django import forms
from django.core.exceptions import ValidationError

KEY_MAX = 2**63 - 1


class KeysMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value:
            try:
                out_of_range = not -KEY_MAX <= int(pk) <= KEY_MAX
            except (TypeError, ValueError):
                continue  # Django's own check names the value that is not a key
            if out_of_range:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)
