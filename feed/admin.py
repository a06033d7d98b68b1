"""The loads and their rejected rows in Django admin, read-only: the loader writes them, and an identity conflict is
resolved on the feed's conflicts page (which records who and why)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from customers.admin import ReadOnlyAdmin

from .models import Load, LoadError


@admin.register(Load)
class LoadAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "file_name",
        "kind",
        "business_date",
        "status",
        "source",
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "created_by",
    )
    list_filter = ("status", "kind", "source", "dry_run")
    list_select_related = ("created_by",)
    search_fields = ("=sha256", "^file_name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    readonly_fields = ("rejected_rows",)

    @admin.display(description=_("rejected rows"))
    def rejected_rows(self, obj):
        url = reverse("admin:feed_loaderror_changelist") + f"?load__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("%(n)s rejected rows") % {"n": obj.rows_rejected})


@admin.register(LoadError)
class LoadErrorAdmin(ReadOnlyAdmin):
    list_display = ("load", "line", "column", "value", "code", "reason", "key", "resolved_at")
    list_filter = ("code", ("resolved_at", admin.EmptyFieldListFilter))
    list_select_related = ("load",)
    search_fields = ("=key", "=load__id")
    raw_id_fields = ("load",)
    ordering = ("-load_id", "line", "pk")
