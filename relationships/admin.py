from django import forms
from django.contrib import admin
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm_site.pagination import CappedPaginator

from . import services
from .models import (
    Assignment,
    Branch,
    FollowUp,
    Handover,
    HandoverItem,
    Interaction,
    Notification,
    ReassignmentItem,
    ReassignmentRequest,
    SatisfactionRating,
    Staff,
    VisitPlan,
    VisitPlanItem,
)


class ServiceAdminMixin:
    """Admin writes go through the services, like every other write."""

    def delete_model(self, request, obj):  # pragma: no cover - deletion is disabled below
        raise NotImplementedError

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Branch)
class BranchAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
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
class StaffAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
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


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read-only: portfolios change through approved requests and handovers."""

    list_display = ("customer", "staff", "role", "started_at", "ended_at", "approved_by", "reason")
    list_filter = ("role",)
    list_select_related = ("customer", "staff", "approved_by")
    search_fields = ("=customer__customer_no", "staff__name", "staff__employee_no")
    raw_id_fields = ("customer", "staff", "approved_by", "request", "handover")
    show_full_result_count = False
    paginator = CappedPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReassignmentItemInline(ReadOnlyInline):
    model = ReassignmentItem
    raw_id_fields = ("customer", "from_staff")


@admin.register(ReassignmentRequest)
class ReassignmentRequestAdmin(SimpleHistoryAdmin):
    list_display = ("pk", "requested_by", "to_staff", "status", "created_at", "decided_by", "decided_at")
    list_filter = ("status",)
    list_select_related = ("requested_by", "to_staff", "decided_by")
    search_fields = ("requested_by__name", "to_staff__name", "reason")
    readonly_fields = [f.name for f in ReassignmentRequest._meta.fields]
    inlines = [ReassignmentItemInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HandoverItemInline(ReadOnlyInline):
    model = HandoverItem
    raw_id_fields = ("customer", "to_staff")


@admin.register(Handover)
class HandoverAdmin(SimpleHistoryAdmin):
    list_display = ("leaver", "status", "method", "prepared_by", "decided_by", "decided_at")
    list_filter = ("status", "method")
    list_select_related = ("leaver", "prepared_by", "decided_by")
    search_fields = ("leaver__name", "leaver__employee_no")
    readonly_fields = [f.name for f in Handover._meta.fields]
    inlines = [HandoverItemInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """Read-only: interactions are an audit trail (their author corrects them within 24 hours in the app)."""

    list_display = ("occurred_at", "customer", "staff", "channel", "purpose", "outcome", "next_follow_up_on")
    list_filter = ("channel", "purpose", "outcome")
    list_select_related = ("customer", "staff")
    search_fields = ("=customer__customer_no", "staff__employee_no")
    raw_id_fields = ("customer", "staff")
    show_full_result_count = False
    paginator = CappedPaginator

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Interaction._meta.fields] + ["products"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("due_on", "kind", "title", "customer", "staff", "status")
    list_filter = ("kind", "status")
    list_select_related = ("customer", "staff")
    search_fields = ("=customer__customer_no", "staff__employee_no", "title")
    raw_id_fields = ("customer", "staff", "completed_by", "interaction")
    readonly_fields = ("dedupe_key", "created_at")
    show_full_result_count = False
    paginator = CappedPaginator

    def has_add_permission(self, request):
        return False


class VisitPlanItemInline(ReadOnlyInline):
    model = VisitPlanItem
    raw_id_fields = ("customer", "interaction")


@admin.register(VisitPlan)
class VisitPlanAdmin(SimpleHistoryAdmin):
    list_display = ("planned_on", "staff", "purpose", "status", "reviewed_by")
    list_filter = ("status", "purpose")
    list_select_related = ("staff", "reviewed_by")
    search_fields = ("staff__name", "staff__employee_no")
    readonly_fields = [f.name for f in VisitPlan._meta.fields]
    inlines = [VisitPlanItemInline]

    def has_add_permission(self, request):
        return False


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ("recorded_at", "customer", "rated_staff", "score", "recorded_by")
    list_filter = ("score",)
    list_select_related = ("customer", "rated_staff", "recorded_by")
    search_fields = ("=customer__customer_no", "rated_staff__name")
    readonly_fields = [f.name for f in SatisfactionRating._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "text", "read_at")
    list_select_related = ("recipient",)
    search_fields = ("recipient__name", "text")
    readonly_fields = ("recipient", "text", "url", "created_at", "read_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
