"""Admin: marketing consent to read. Consent is changed on the customer's consent page (or by the core-banking
feed), through ``consent.services``, so that every change has its history event and its reason."""

from django.contrib import admin

from crm_site.admin_input import AdminInputMixin, ReadOnlyAdminMixin
from crm_site.pagination import CappedPaginator

from .models import ConsentEvent, ConsentRecord, DndWindow


class ReadOnlyAdmin(ReadOnlyAdminMixin, AdminInputMixin, admin.ModelAdmin):
    show_full_result_count = False
    paginator = CappedPaginator


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("customer", "channel", "state", "effective_on", "source", "reference", "updated_at", "updated_by")
    list_filter = ("channel", "state", "source")
    list_select_related = ("customer", "updated_by")
    search_fields = ("=customer__customer_no",)  # the customer number's unique index
    raw_id_fields = ("customer", "updated_by")


@admin.register(DndWindow)
class DndWindowAdmin(ReadOnlyAdmin):
    list_display = ("customer", "channel", "__str__", "reason", "created_by", "created_at")
    list_filter = ("channel",)
    list_select_related = ("customer", "created_by")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer", "created_by")


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    """The history: append-only."""

    list_display = ("at", "customer", "kind", "channel", "state_before", "state", "effective_on", "source", "via",
                    "actor", "reason")  # fmt: skip
    list_filter = ("kind", "channel", "state", "via")
    list_select_related = ("customer", "actor")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer", "actor")
    # Newest first by the primary key (the rows are written in time order): a sort by time, or a date drill-down,
    # would read the whole history (millions of rows at a million customers) for every page.
    ordering = ("-pk",)
