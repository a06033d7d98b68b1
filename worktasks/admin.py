from django.contrib import admin

from .models import Task, TaskLine


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "due_on", "priority", "status", "branch", "created_by", "lines_done", "lines_total")
    list_filter = ("status", "priority")
    list_select_related = ("branch", "created_by")
    search_fields = ("title",)
    raw_id_fields = ("created_by", "branch", "cancelled_by")
    show_full_result_count = False
    readonly_fields = ("lines_total", "lines_done", "customers_unowned", "completed_at", "cancelled_at",
                       "cancelled_by", "due_reminder_sent_at")  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False  # tasks are handed out on the task page, which splits the lines (worktasks.services)


@admin.register(TaskLine)
class TaskLineAdmin(admin.ModelAdmin):
    list_display = ("task", "assignee", "customer", "done_at")
    list_select_related = ("task", "assignee", "customer")
    raw_id_fields = ("task", "assignee", "customer", "interaction")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
