from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm_site.admin_input import AdminInputMixin
from crm_site.pagination import CappedPaginator

from .models import FollowUp


@admin.register(FollowUp)
class FollowUpAdmin(AdminInputMixin, admin.ModelAdmin):
    list_display = ("due_on", "kind", "headline", "customer", "staff", "status")
    list_filter = ("kind", "status")
    list_select_related = ("customer__segment", "staff")
    search_fields = ("=customer__customer_no", "staff__employee_no", "title")
    raw_id_fields = ("customer", "staff", "completed_by", "interaction")
    readonly_fields = ("dedupe_key", "created_at")
    show_full_result_count = False
    paginator = CappedPaginator

    @admin.display(description=_("title"))
    def headline(self, obj):
        return obj.headline

    def has_add_permission(self, request):
        return False
