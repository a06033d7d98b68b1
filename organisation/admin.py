from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.utils import formats, timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm_site.admin_input import AdminInputMixin
from crm_site.admin_labels import LabelledObjectAdminMixin

from . import services
from .models import Branch, SignInRecord, Staff


class ServiceAdminMixin:
    """Admin writes go through the services, like every other write."""

    def delete_model(self, request, obj):  # pragma: no cover - deletion is disabled below
        raise NotImplementedError

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Branch)
class BranchAdmin(AdminInputMixin, ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "level", "parent", "depth", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "depth", "created_at", "updated_at")
    fields = ("code", "name", "level", "parent", "is_active", "path", "depth", "created_at", "updated_at")
    ordering = ("path",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("code",) if obj else ())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.branch_update(
                actor=request.user,
                branch=obj,
                name=data["name"],
                level=data["level"],
                parent=data["parent"],
                is_active=data["is_active"],
            )
        else:
            saved = services.branch_create(
                actor=request.user, code=data["code"], name=data["name"], level=data["level"], parent=data["parent"]
            )
        obj.pk, obj.path, obj.depth = saved.pk, saved.path, saved.depth


class StaffAddForm(forms.ModelForm):
    username = forms.CharField(label=_("user name"), max_length=150)
    email = forms.EmailField(label=_("email"), required=False)
    password = forms.CharField(label=_("initial password"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = Staff
        fields = ("employee_no", "name", "branch", "role", "joined_on")

    def clean_username(self):
        from django.contrib.auth import get_user_model

        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError(_("This user name is already taken."))
        return username

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


@admin.register(Staff)
class StaffAdmin(AdminInputMixin, ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ("employee_no", "name", "role", "branch", "status", "user")
    list_filter = ("role", "status", "branch__level")
    search_fields = ("employee_no", "name", "user__username", "branch__name", "branch__code")
    list_select_related = ("branch", "user")
    autocomplete_fields = ("branch",)
    readonly_fields = ("user", "status", "left_on", "created_at", "updated_at")
    fields = (
        "user",
        "employee_no",
        "name",
        "branch",
        "role",
        "joined_on",
        "status",
        "left_on",
        "created_at",
        "updated_at",
    )
    show_full_result_count = False
    actions = ["mark_left"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StaffAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("username", "email", "password", "employee_no", "name", "branch", "role", "joined_on")
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.staff_update(
                actor=request.user,
                staff=obj,
                name=data["name"],
                branch=data["branch"],
                role=data["role"],
                employee_no=data["employee_no"],
            )
        else:
            saved = services.staff_create(
                actor=request.user,
                username=data["username"],
                password=data["password"],
                email=data.get("email", ""),
                employee_no=data["employee_no"],
                name=data["name"],
                branch=data["branch"],
                role=data["role"],
                joined_on=data.get("joined_on"),
            )
            obj.pk, obj.user = saved.pk, saved.user

    @admin.action(description=_("Mark the selected staff as left"))
    def mark_left(self, request, queryset):
        for staff in queryset.filter(status=Staff.Status.ACTIVE):
            services.staff_mark_left(actor=request.user, staff=staff)


@admin.register(SignInRecord)
class SignInRecordAdmin(AdminInputMixin, admin.ModelAdmin):
    """The sign-in log, read-only: nobody adds, changes or deletes a line (the nightly job purges after 180 days).
    Django admin is open to administrators only."""

    list_display = ("at", "event", "username", "user", "ip_address", "outcome")
    list_filter = ("event", "at")
    search_fields = ("username", "ip_address")
    date_hierarchy = "at"
    list_select_related = ("user",)
    readonly_fields = ("at", "event", "username", "user", "ip_address", "user_agent", "outcome")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-axes' admin in the user's language: its records named in words (their ``__str__`` is English), and the
# form data it keeps ("username=…\npassword=********") shown with the fields' labels, not their raw keys.

FORM_KEYS = {
    "username": _("Username"),
    "password": _("Password"),
    "next": _("Page after sign-in"),
}
HIDDEN_KEYS = {"csrfmiddlewaretoken"}


def form_data_in_words(data: str):
    """django-axes' ``key=value`` lines, each key replaced by its field's label; the CSRF token left out."""
    lines = []
    for line in (data or "").splitlines():
        key, _sep, value = line.partition("=")
        if key in HIDDEN_KEYS:
            continue
        lines.append((FORM_KEYS.get(key, key), value))
    if not lines:
        return "—"
    return format_html_join(mark_safe("<br>"), "{}：{}", lines)


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i:s") if moment else ""


class AxesInWordsMixin(AdminInputMixin, LabelledObjectAdminMixin):
    # AdminInputMixin: the same bounded date drill-down and search as every other admin list.
    def get_readonly_fields(self, request, obj=None):
        fields = [f for f in super().get_readonly_fields(request, obj) if f not in ("get_data", "post_data")]
        return [*fields, "query_in_words", "form_in_words"]

    def get_fieldsets(self, request, obj=None):
        return [
            (name, {**options, "fields": [self._in_words(f) for f in options["fields"]]})
            for name, options in super().get_fieldsets(request, obj)
        ]

    @staticmethod
    def _in_words(field):
        return {"get_data": "query_in_words", "post_data": "form_in_words"}.get(field, field)

    @admin.display(description=_("Query parameters"))
    def query_in_words(self, obj):
        return form_data_in_words(getattr(obj, "get_data", ""))

    @admin.display(description=_("Form fields"))
    def form_in_words(self, obj):
        return form_data_in_words(getattr(obj, "post_data", ""))


admin.site.unregister(AccessAttempt)
admin.site.unregister(AccessLog)
admin.site.unregister(AccessFailureLog)


@admin.register(AccessAttempt)
class AccessAttemptInWordsAdmin(AxesInWordsMixin, axes_admin.AccessAttemptAdmin):
    @admin.display(description=_("Status"))
    def status(self, obj):
        return super().status(obj)

    def object_label(self, obj) -> str:
        return _("Failed sign-ins of %(username)s, the latest at %(when)s") % {
            "username": obj.username,
            "when": _when(obj.attempt_time),
        }


@admin.register(AccessLog)
class AccessLogInWordsAdmin(AxesInWordsMixin, axes_admin.AccessLogAdmin):
    def object_label(self, obj) -> str:
        return _("Sign-in of %(username)s at %(when)s") % {"username": obj.username, "when": _when(obj.attempt_time)}


@admin.register(AccessFailureLog)
class AccessFailureInWordsAdmin(AxesInWordsMixin, axes_admin.AccessFailureLogAdmin):
    def object_label(self, obj) -> str:
        return _("Failed sign-in of %(username)s at %(when)s") % {
            "username": obj.username,
            "when": _when(obj.attempt_time),
        }


# Permissions are stored with Django's English names ("Can add log entry"); the group and user pages' permission
# selectors name them in the user's language from the model's translated name instead.

PERMISSION_ACTIONS = {
    "add": _("Can add %(name)s"),
    "change": _("Can change %(name)s"),
    "delete": _("Can delete %(name)s"),
    "view": _("Can view %(name)s"),
}


def permission_label(permission: Permission) -> str:
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    action, _sep, model_name = permission.codename.partition("_")
    if action in PERMISSION_ACTIONS and model_name == model._meta.model_name:
        name = PERMISSION_ACTIONS[action] % {"name": model._meta.verbose_name}
    else:
        name = _(permission.name)  # a custom permission: its name, translated where it is ours
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name} | {name}"


class PermissionLabelsMixin:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name in ("permissions", "user_permissions") and field is not None:
            field.label_from_instance = permission_label
        return field


User = get_user_model()
admin.site.unregister(Group)
admin.site.unregister(User)


@admin.register(Group)
class GroupInWordsAdmin(PermissionLabelsMixin, GroupAdmin):
    pass


@admin.register(User)
class UserInWordsAdmin(PermissionLabelsMixin, UserAdmin):
    pass
