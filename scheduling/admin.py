from django.contrib import admin

from crm_site.admin_input import AdminInputMixin

from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(AdminInputMixin, admin.ModelAdmin):
    """The run record, read-only: what ran each day, when, and how it ended."""

    list_display = ("day", "task", "arguments", "status", "started_at", "finished_at", "catch_ups")
    list_filter = ("status", "day")
    search_fields = ("task",)
    date_hierarchy = "day"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
