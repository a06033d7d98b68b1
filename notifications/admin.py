from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "text", "read_at")
    list_select_related = ("recipient",)
    search_fields = ("recipient__name", "text")
    readonly_fields = ("recipient", "text", "url", "created_at", "read_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
