from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

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


class SignInForm(BoundedUsernameMixin, AuthenticationForm):
    pass


class AdminSignInForm(BoundedUsernameMixin, AdminAuthenticationForm):
    pass
