from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm_site.admin_input import AdminInputMixin, ReadOnlyAdminMixin

from .models import SavedSegment


@admin.register(SavedSegment)
class SavedSegmentAdmin(ReadOnlyAdminMixin, AdminInputMixin, admin.ModelAdmin):
    """Read-only: segments are saved, changed and deleted on the segments page (marketing.services), by their owner
    or an administrator."""

    list_display = ("name", "owner", "visibility", "filter_in_words", "updated_at")
    list_filter = ("visibility",)
    list_select_related = ("owner",)
    search_fields = ("name", "owner__name", "owner__employee_no")
    fields = ("name", "description", "owner", "visibility", "filter_in_words", "created_at", "updated_at", "updated_by")
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("filter in words"))
    def filter_in_words(self, segment: SavedSegment) -> str:
        return segment.criteria_text or "—"
