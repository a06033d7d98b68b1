from django.contrib import admin

from crm_site.admin_input import AdminInputMixin, ReadOnlyAdminMixin
from crm_site.pagination import CappedPaginator

from .models import PoolClaim, PoolKeeper, PoolRule, ReleaseRequest


@admin.register(PoolRule)
class PoolRuleAdmin(AdminInputMixin, admin.ModelAdmin):
    """The pool's rules per tier; a tier without a row uses PoolRule.DEFAULTS."""

    list_display = ("segment", "daily_claim_limit", "missed_periods", "claim_contact_days")
    list_editable = ("daily_claim_limit", "missed_periods", "claim_contact_days")
    list_select_related = ("segment",)


@admin.register(PoolKeeper)
class PoolKeeperAdmin(AdminInputMixin, admin.ModelAdmin):
    """Who keeps each outlet's pool. Heads name keepers on the pool page; this list is for reading and repairs."""

    list_display = ("branch", "staff", "named_by", "named_at")
    list_select_related = ("branch", "staff", "named_by")
    raw_id_fields = ("branch", "staff", "named_by")
    search_fields = ("branch__name", "branch__code", "staff__name", "staff__employee_no")


@admin.register(PoolClaim)
class PoolClaimAdmin(ReadOnlyAdminMixin, AdminInputMixin, admin.ModelAdmin):
    """Read-only: every claim and assignment out of the pool, written by the pool's services."""

    list_display = ("claimed_at", "customer", "staff", "branch", "segment", "method", "actor")
    list_filter = ("method", "segment")
    list_select_related = ("customer", "staff", "branch", "segment", "actor")
    search_fields = ("=customer__customer_no", "staff__name", "staff__employee_no")
    raw_id_fields = ("customer", "staff", "branch", "segment", "actor", "assignment")
    date_hierarchy = "claimed_on"
    show_full_result_count = False
    paginator = CappedPaginator


# Release


@admin.register(ReleaseRequest)
class ReleaseRequestAdmin(ReadOnlyAdminMixin, AdminInputMixin, admin.ModelAdmin):
    """Read-only: proposals are made by the nightly rules or a branch head, and decided on the release page."""

    list_display = ("customer", "rm", "reason", "status", "proposed_on", "proposed_by", "decided_by", "decided_at")
    list_filter = ("status", "reason")
    list_select_related = ("customer", "rm", "proposed_by", "decided_by")
    search_fields = ("=customer__customer_no", "rm__name", "rm__employee_no")
    raw_id_fields = ("customer", "rm", "assignment", "proposed_by", "decided_by")
    date_hierarchy = "proposed_on"
    show_full_result_count = False
    paginator = CappedPaginator
