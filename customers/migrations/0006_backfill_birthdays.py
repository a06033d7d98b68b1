from django.db import migrations
from django.db.models.functions import ExtractDay, ExtractMonth


def backfill(apps, schema_editor):
    from crm_site.lunar import lunar_month_day

    Customer = apps.get_model("customers", "Customer")
    Customer.objects.filter(birth_date__isnull=False).update(
        birth_md=ExtractMonth("birth_date") * 100 + ExtractDay("birth_date")
    )
    # A million customers have only some thousands of distinct birth dates, which map to at most 385 lunar
    # month-days: one UPDATE per lunar month-day.
    by_lunar: dict[int, list] = {}
    for birth in Customer.objects.filter(birth_date__isnull=False).values_list("birth_date", flat=True).distinct():
        by_lunar.setdefault(lunar_month_day(birth), []).append(birth)
    for value, dates in by_lunar.items():
        Customer.objects.filter(birth_date__in=dates).update(lunar_birth_md=value)
    Segment = apps.get_model("customers", "Segment")
    Segment.objects.filter(code__in=["wealth", "private"]).update(holiday_greetings=True)


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_customer_birth_md_customer_lunar_birth_md_and_more")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
