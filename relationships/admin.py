from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm_site.admin_input import AdminInputMixin
from crm_site.pagination import CappedPaginator

from .models import (
    Assignment,
    Handover,
    HandoverItem,
    Interaction,
    ReassignmentItem,
    ReassignmentRequest,
    SatisfactionRating,
    VisitPlan,
    VisitPlanItem,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(AdminInputMixin, admin.ModelAdmin):
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
class ReassignmentRequestAdmin(AdminInputMixin, SimpleHistoryAdmin):
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
class HandoverAdmin(AdminInputMixin, SimpleHistoryAdmin):
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
class InteractionAdmin(AdminInputMixin, admin.ModelAdmin):
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


class VisitPlanItemInline(ReadOnlyInline):
    model = VisitPlanItem
    raw_id_fields = ("customer", "interaction")


@admin.register(VisitPlan)
class VisitPlanAdmin(AdminInputMixin, SimpleHistoryAdmin):
    list_display = ("planned_on", "staff", "purpose", "status", "reviewed_by")
    list_filter = ("status", "purpose")
    list_select_related = ("staff", "reviewed_by")
    search_fields = ("staff__name", "staff__employee_no")
    readonly_fields = [f.name for f in VisitPlan._meta.fields]
    inlines = [VisitPlanItemInline]

    def has_add_permission(self, request):
        return False


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(AdminInputMixin, admin.ModelAdmin):
    list_display = ("recorded_at", "customer", "rated_staff", "score", "recorded_by")
    list_filter = ("score",)
    list_select_related = ("customer", "rated_staff", "recorded_by")
    search_fields = ("=customer__customer_no", "rated_staff__name")
    readonly_fields = [f.name for f in SatisfactionRating._meta.fields]

    def has_add_permission(self, request):
        return False
