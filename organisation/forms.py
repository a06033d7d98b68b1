from axes.helpers import get_failure_limit
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Staff


class OrgTreeFilterForm(forms.Form):
    q = forms.CharField(label=_("Branch name or code"), required=False, max_length=50)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None, required=False, empty_label=_("All in my scope"))
    within = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles")), *Staff.Role.choices])

    def __init__(self, *args, branch_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branch_choices
        self.fields["branch"].label_from_instance = lambda b: "\u3000" * (b.depth - 1) + b.name


class BoundedUsernameMixin:
    """Sign-in with a username longer than any account can have is refused as a wrong username or password,
    without asking the authentication backends: no account has that name, so there is nothing to check or lock
    (and django-axes, which records failed attempts by username, could not store it)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.fields["username"].max_length:  # the user model's own bound (150)
            raise self.get_invalid_login_error()
        return super().clean()

    def get_invalid_login_error(self):
        """A wrong username or password says how many tries remain before the account is locked: django-axes has
        just counted this failure (``request.axes_failures_since_start``) against ``AXES_FAILURE_LIMIT``. Without a
        counted failure (a refused over-long username, a non-staff account on the admin sign-in) the message is
        Django's own; the failure that reaches the limit gets the lock page instead of the form."""
        failures = getattr(self.request, "axes_failures_since_start", None)
        if not failures:
            return super().get_invalid_login_error()
        limit = get_failure_limit(self.request, {"username": self.cleaned_data.get("username")})
        remaining = limit - failures
        if remaining <= 0:
            return super().get_invalid_login_error()
        message = ngettext(
            "Wrong username or password. %(count)s more try before the account is locked.",
            "Wrong username or password. %(count)s more tries before the account is locked.",
            remaining,
        )
        return ValidationError(message % {"count": remaining}, code="invalid_login")


class SignInForm(BoundedUsernameMixin, AuthenticationForm):
    pass


class AdminSignInForm(BoundedUsernameMixin, AdminAuthenticationForm):
    pass
