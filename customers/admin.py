from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm_site.admin_input import AdminInputMixin
from crm_site.pagination import CappedPaginator

from . import lifecycle, services
from .models import (
    AccessLog,
    AssetSnapshot,
    Customer,
    Holding,
    LifecycleRules,
    Product,
    Segment,
    SegmentChange,
    Tag,
)
from .selectors import search_condition


class BigTableAdmin(AdminInputMixin, admin.ModelAdmin):
    """For tables of millions of rows: no full COUNT(*) on each page load, a capped page count."""

    show_full_result_count = False
    paginator = CappedPaginator
    list_per_page = 50


class ReadOnlyAdmin(BigTableAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin, BigTableAdmin):
    list_display = (
        "customer_no",
        "name",
        "kind",
        "segment",
        "aum",
        "branch",
        "primary_rm",
        "mobile_masked",
        "id_number_masked",
    )
    list_filter = ("kind", "segment", "lifecycle", "lifecycle_manual", "risk_level")
    list_select_related = ("segment", "branch", "primary_rm")
    search_fields = ("=customer_no", "^name")
    search_help_text = _("Customer number, the start of the name, a mobile or ID number, or the ID's last 4")
    readonly_fields = (
        "branch",
        "primary_rm",
        "customer_no",
        "kind",
        "id_type",
        "id_number_masked",
        "mobile_masked",
        "gender",
        "birth_date",
        "credit_code",
        "lifecycle_manual",
        "closed_on",
        "segment",
        "aum",
        "aum_as_of",
        "risk_expires_on",
        "last_contacted_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "customer_no",
                    "kind",
                    "name",
                    "branch",
                    "primary_rm",
                    ("lifecycle", "lifecycle_manual"),
                    "closed_on",
                    "tags",
                    "notes",
                )
            },
        ),
        (
            _("Identity (change in the customer form)"),
            {"fields": ("id_type", "id_number_masked", "mobile_masked", "gender", "birth_date", "credit_code")},
        ),
        (
            _("Details"),
            {
                "fields": (
                    "occupation",
                    "address",
                    "legal_representative",
                    "industry",
                    "contact_person",
                    "lunar_birthday",
                )
            },
        ),
        (
            _("Assets and risk"),
            {"fields": ("segment", "aum", "aum_as_of", "risk_level", "risk_assessed_on", "risk_expires_on")},
        ),
        (_("Record"), {"fields": ("last_contacted_at", "created_at", "created_by", "updated_at", "updated_by")}),
    )
    filter_horizontal = ("tags",)

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        return queryset.filter(search_condition(search_term)), False

    def has_add_permission(self, request):
        # Customers are registered in the customer form (identifier checks, duplicate pointer) or imported.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in services._allowed_fields(obj.kind)
        }
        services.customer_update(actor=request.user, customer=obj, **fields)

    def save_related(self, request, form, formsets, change):
        # Tags are saved by the service (customer_update); nothing else is related.
        pass


@admin.register(Segment)
class SegmentAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "code",
        "aum_min",
        "aum_max",
        "contact_policy_days",
        "large_movement_threshold",
        "sort_order",
    )
    ordering = ("sort_order",)


@admin.register(LifecycleRules)
class LifecycleRulesAdmin(admin.ModelAdmin):
    """The thresholds of the derived lifecycle: one row, changed in place (never deleted; added only when none)."""

    list_display = (
        "__str__",
        "new_days",
        "trend_days",
        "growing_percent",
        "declining_percent",
        "lost_aum",
        "lost_days",
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not LifecycleRules.objects.exists()

    def get_model_perms(self, request):
        # The app list of every admin page asks this: answered without the query (the add page still refuses a
        # second row).
        return {
            "add": super().has_add_permission(request),
            "change": self.has_change_permission(request),
            "delete": False,
            "view": self.has_view_permission(request),
        }

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        lifecycle.lifecycle_rules_save(actor=request.user, rules=obj)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "risk_level", "term_days", "is_active")
    list_filter = ("category", "risk_level", "is_active")
    search_fields = ("code", "name")


@admin.register(Holding)
class HoldingAdmin(BigTableAdmin):
    list_display = ("customer", "product", "amount", "account_no_masked", "opened_on", "maturity_on")
    list_filter = ("product__category",)
    list_select_related = ("customer", "product")
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    autocomplete_fields = ("product",)


@admin.register(AssetSnapshot)
class AssetSnapshotAdmin(BigTableAdmin):
    list_display = ("customer", "date", "aum")
    list_select_related = ("customer",)
    search_fields = ("=customer__customer_no",)
    raw_id_fields = ("customer",)
    ordering = ("-date", "-pk")


@admin.register(SegmentChange)
class SegmentChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "customer", "from_segment", "to_segment", "aum")
    list_select_related = ("customer", "from_segment", "to_segment")
    search_fields = ("=customer__customer_no",)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Read-only for everyone, administrators included."""

    list_display = ("created_at", "staff_name", "action", "field", "customer", "reason", "row_count", "ip_address")
    list_filter = ("action", "field")
    list_select_related = ("customer",)
    search_fields = ("staff_name", "=customer__customer_no")
    date_hierarchy = "created_at"
