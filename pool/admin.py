from django.contrib import admin

from crm_site.admin_input import AdminInputMixin
from crm_site.pagination import CappedPaginator

# Release
from .models import ReleaseRequest


@admin.register(ReleaseRequest)
class ReleaseRequestAdmin(AdminInputMixin, admin.ModelAdmin):
    """Read-only: proposals are made by the nightly rules or a branch head, and decided on the release page."""

    list_display = ("customer", "rm", "reason", "status", "proposed_on", "proposed_by", "decided_by", "decided_at")
    list_filter = ("status", "reason")
    list_select_related = ("customer", "rm", "proposed_by", "decided_by")
    search_fields = ("=customer__customer_no", "rm__name", "rm__employee_no")
    raw_id_fields = ("customer", "rm", "assignment", "proposed_by", "decided_by")
    date_hierarchy = "proposed_on"
    show_full_result_count = False
    paginator = CappedPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
