"""Admin: the opportunities and their history to read (they are opened and moved on the pipeline pages, through the
services, so the visibility, the stage rules and the history hold), the reminders sent, and the rules to edit."""

from django.contrib import admin

from crm_site.admin_input import AdminInputMixin, ReadOnlyAdminMixin
from crm_site.pagination import CappedPaginator

from .models import Opportunity, OpportunityEvent, OpportunityRules, StaleNotice


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdminMixin, AdminInputMixin, admin.ModelAdmin):
    list_display = ("customer", "product_category", "amount", "expected_on", "stage", "owner", "branch", "match_status")
    list_filter = ("stage", "match_status", "source", "product_category")
    list_select_related = ("customer", "owner", "branch")
    search_fields = ("=customer__customer_no", "owner__name", "owner__employee_no")
    raw_id_fields = ("customer", "branch", "owner", "product", "interaction", "created_by", "matched_holding")
    date_hierarchy = "expected_on"
    show_full_result_count = False
    paginator = CappedPaginator


@admin.register(OpportunityEvent)
class OpportunityEventAdmin(ReadOnlyAdminMixin, AdminInputMixin, admin.ModelAdmin):
    list_display = ("at", "opportunity", "kind", "from_stage", "to_stage", "actor")
    list_filter = ("kind",)
    list_select_related = ("opportunity", "actor")
    raw_id_fields = ("opportunity", "actor", "from_owner", "to_owner")
    show_full_result_count = False
    paginator = CappedPaginator


@admin.register(StaleNotice)
class StaleNoticeAdmin(ReadOnlyAdminMixin, AdminInputMixin, admin.ModelAdmin):
    list_display = ("day", "owner", "opportunities", "notified_at")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    date_hierarchy = "day"
    show_full_result_count = False


@admin.register(OpportunityRules)
class OpportunityRulesAdmin(admin.ModelAdmin):
    """When an opportunity is stale and how won ones are checked: one row, changed in place."""

    list_display = ("__str__", "stale_days", "match_window_days", "unmatched_after_days", "updated_at")

    def has_add_permission(self, request):
        # One row: "add" while there is none. Asked only on this model's own pages, so that every admin page's
        # sidebar (which asks each model) does not pay a query for it.
        match = getattr(request, "resolver_match", None)
        if match is None or not (match.url_name or "").startswith("opportunities_opportunityrules_"):
            return False
        return not OpportunityRules.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
