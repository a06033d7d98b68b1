from cron_descriptor import FormatException, MissingFieldException, Options, WrongArgumentException, get_description
from django.contrib import admin
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from crm_site import schedule
from crm_site.admin_input import AdminInputMixin
from crm_site.admin_labels import LabelledObjectAdminMixin

from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(AdminInputMixin, admin.ModelAdmin):
    """The run record, read-only: what ran each day, when, and how it ended."""

    list_display = ("day", "task", "arguments", "status", "started_at", "finished_at", "catch_ups")
    list_filter = ("status", "day")
    search_fields = ("task",)
    date_hierarchy = "day"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for _model in (PeriodicTask, CrontabSchedule, IntervalSchedule, SolarSchedule, ClockedSchedule):
    admin.site.unregister(_model)

# django-celery-beat's admin, in the user's language: our periodic tasks by their translated label
# (crm_site/schedule.py), schedules described in words in the active language, and the columns and filters whose
# titles the package does not translate.


def _cron_locale() -> str:
    return "zh_CN" if (get_language() or "").lower().startswith("zh") else "en_US"


def crontab_in_words(crontab: CrontabSchedule | None) -> str:
    """A crontab schedule in words (cron-descriptor), in the active language, with its time zone."""
    if crontab is None:
        return ""
    options = Options()
    options.locale_code = _cron_locale()
    options.use_24hour_time_format = True
    expression = f"{crontab.minute} {crontab.hour} {crontab.day_of_month} {crontab.month_of_year} {crontab.day_of_week}"
    try:
        words = get_description(expression, options)
    except (FormatException, MissingFieldException, WrongArgumentException):
        words = expression
    return f"{words} {crontab.timezone}"


class TaskPathFilter(admin.AllValuesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("Celery task")


class LabelledPeriodicTaskInline(beat_admin.PeriodicTaskInline):
    fields = ("label", "task_path", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=_("Scheduled task"))
    def label(self, obj):
        return schedule.label_of(obj.name)

    @admin.display(description=_("Celery task"))
    def task_path(self, obj):
        return obj.task


@admin.register(PeriodicTask)
class LabelledPeriodicTaskAdmin(LabelledObjectAdminMixin, beat_admin.PeriodicTaskAdmin):
    list_display = ("label", "enabled", "schedule_in_words", "start_time", "last_run_at", "one_off")
    list_filter = ["enabled", "one_off", ("task", TaskPathFilter), "start_time", "last_run_at"]
    change_form_template = "admin/djcelery/change_periodictask_form.html"

    def object_label(self, obj) -> str:
        return schedule.label_of(obj.name)

    @admin.display(description=_("Scheduled task"), ordering="name")
    def label(self, obj):
        return schedule.label_of(obj.name)

    @admin.display(description=_("Schedule"))
    def schedule_in_words(self, obj):
        if obj.crontab_id:
            return crontab_in_words(obj.crontab)
        return str(obj.interval or obj.solar or obj.clocked or "")

    @admin.display(description=_("In words"))
    def crontab_translation(self, obj):
        return crontab_in_words(obj.crontab)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["task"].label = _("Celery task (custom)")
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["readable_crontabs"] = {c.id: crontab_in_words(c) for c in CrontabSchedule.objects.all()}
        return admin.ModelAdmin.changeform_view(self, request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("crontab", "interval", "solar", "clocked")


@admin.register(CrontabSchedule)
class CrontabInWordsAdmin(LabelledObjectAdminMixin, beat_admin.CrontabScheduleAdmin):
    inlines = [LabelledPeriodicTaskInline]
    list_display = ("__str__", "in_words")
    fields = ("in_words", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")
    readonly_fields = ("in_words",)

    def object_label(self, obj) -> str:
        return crontab_in_words(obj)

    @admin.display(description=_("In words"))
    def in_words(self, obj):
        return crontab_in_words(obj)


@admin.register(IntervalSchedule)
class IntervalAdmin(beat_admin.IntervalScheduleAdmin):
    inlines = [LabelledPeriodicTaskInline]


@admin.register(SolarSchedule)
class SolarAdmin(beat_admin.SolarScheduleAdmin):
    inlines = [LabelledPeriodicTaskInline]


@admin.register(ClockedSchedule)
class ClockedAdmin(beat_admin.ClockedScheduleAdmin):
    inlines = [LabelledPeriodicTaskInline]
