"""Admin: the targets and their attainment to read (they are set and distributed on the targets page, through the
services, so the sums and scopes are checked), and the effective-customer threshold to edit."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse

from dashboards.models import FigureSettings

from .models import Attainment, Target, TargetPeriod


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TargetPeriod)
class TargetPeriodAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "start", "end"]
    list_filter = ["kind"]


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    list_display = ["period", "metric", "product_category", "branch", "staff", "value", "parent", "set_by"]
    list_filter = ["period", "metric"]
    list_select_related = ["period", "branch", "staff", "parent", "set_by"]
    search_fields = ["branch__name", "staff__name"]
    show_full_result_count = False


@admin.register(Attainment)
class AttainmentAdmin(ReadOnlyAdmin):
    list_display = ["target", "as_of", "actual", "ratio"]
    list_select_related = ["target__period", "target__branch", "target__staff"]
    show_full_result_count = False


# The threshold is a definition of the dashboards' figures (effective customers), edited here beside the targets
# that count them.
@admin.register(FigureSettings)
class FigureSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "effective_aum_min", "updated_at"]

    def has_add_permission(self, request):
        # One row, opened from the list (below): never "add". Answering without a query also keeps every admin
        # page's sidebar, which asks each model, at its query count.
        return False

    def changelist_view(self, request, extra_context=None):
        """The list of one row is that row's form (saved with the defaults the first time it is opened)."""
        if not self.has_change_permission(request):
            return super().changelist_view(request, extra_context)
        settings_row = FigureSettings.objects.order_by("pk").first() or FigureSettings.objects.create()
        return redirect(reverse("admin:dashboards_figuresettings_change", args=[settings_row.pk]))

    def has_delete_permission(self, request, obj=None):
        return False
