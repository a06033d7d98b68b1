from django.contrib import admin

from crm_site.admin_input import AdminInputMixin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(AdminInputMixin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "text", "read_at")
    list_select_related = ("recipient",)
    search_fields = ("recipient__name", "text")
    readonly_fields = ("recipient", "text", "url", "created_at", "read_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
