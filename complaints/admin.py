from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm_site.admin_input import AdminInputMixin

from .models import (
    Complaint,
    ComplaintAttachment,
    ComplaintCategory,
    ComplaintCause,
    ComplaintEvent,
    ComplaintExtension,
)


@admin.register(ComplaintCategory, ComplaintCause)
class ClassificationAdmin(AdminInputMixin, admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("code", "name", "name_en")

    def has_delete_permission(self, request, obj=None):
        return False  # retire a code with "in use", so that past statistics keep their labels


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = ComplaintEvent
    fields = ("at", "kind", "actor", "from_status", "to_status", "text")
    readonly_fields = fields


class ExtensionInline(ReadOnlyInline):
    model = ComplaintExtension
    fields = ("round", "level", "status", "reason", "requested_by", "customer_told_via", "decided_by", "decided_at")
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = ComplaintAttachment
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields


@admin.register(Complaint)
class ComplaintAdmin(AdminInputMixin, admin.ModelAdmin):
    """Complaints change through the services (the state machine and the clock), so admin shows them and lets
    the classification be corrected; it neither adds nor deletes them."""

    list_display = ("reference", "complainant_name", "branch", "category", "status", "severity", "due_at", "handler")
    list_filter = ("status", "severity", "channel", "category", "cause")
    search_fields = ("reference", "complainant_name")
    date_hierarchy = "received_at"
    list_select_related = ("branch", "category", "handler")
    show_full_result_count = False
    raw_id_fields = ("customer", "branch", "product", "subject_staff", "handler", "registered_by")
    readonly_fields = (
        "reference",
        "customer",
        "complainant_kind",
        "complainant_name",
        "complainant_contact_masked",
        "branch",
        "subject_staff",
        "channel",
        "received_at",
        "request",
        "facts",
        "duplicate_of",
        "registered_by",
        "handler",
        "status",
        "clock_started_at",
        "extension_level",
        "paused_days",
        "paused_since",
        "due_at",
        "major_escalated_at",
        "breach_escalated_at",
        "decision",
        "decided_at",
        "first_decided_at",
        "decided_on_time",
        "satisfaction",
        "satisfaction_comment",
        "callback_at",
        "closed_at",
        "withdrawn_at",
        "reopen_count",
    )
    fieldsets = (
        (None, {"fields": ("reference", "status", "severity", "channel", "received_at")}),
        (
            _("Complainant"),
            {"fields": ("customer", "complainant_kind", "complainant_name", "complainant_contact_masked")},
        ),
        (_("Subject"), {"fields": ("branch", "product", "subject_staff", "request", "facts", "duplicate_of")}),
        (_("Classification"), {"fields": ("category", "cause", "corrective_action")}),
        (
            _("Handling"),
            {
                "fields": (
                    "registered_by",
                    "handler",
                    "clock_started_at",
                    "extension_level",
                    "paused_days",
                    "paused_since",
                    "due_at",
                    "major_escalated_at",
                    "breach_escalated_at",
                )
            },
        ),
        (
            _("Outcome"),
            {
                "fields": (
                    "decision",
                    "decided_at",
                    "first_decided_at",
                    "decided_on_time",
                    "satisfaction",
                    "satisfaction_comment",
                    "callback_at",
                    "closed_at",
                    "withdrawn_at",
                    "reopen_count",
                )
            },
        ),
    )
    inlines = (ExtensionInline, AttachmentInline, EventInline)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(AdminInputMixin, admin.ModelAdmin):
    """The timeline is append-only: read-only here."""

    list_display = ("complaint", "at", "kind", "actor", "from_status", "to_status")
    list_filter = ("kind",)
    search_fields = ("complaint__reference",)
    list_select_related = ("complaint", "actor")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
