"""Admin: the targets and their attainment to read (they are set and distributed on the targets page, through the
services, so the sums and scopes are checked), and the effective-customer threshold to edit."""

from django.contrib import admin

from crm_site.admin_input import ReadOnlyAdminMixin
from dashboards.models import FigureSettings

from .models import Attainment, Target, TargetPeriod


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


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
        # One row: "add" while there is none. Asked only on this model's own pages, so that every admin page's
        # sidebar (which asks each model) does not pay a query for it.
        match = getattr(request, "resolver_match", None)
        if match is None or not (match.url_name or "").startswith("dashboards_figuresettings_"):
            return False
        return not FigureSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
