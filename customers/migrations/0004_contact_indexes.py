"""Indexes for sorting by "longest without contact" (never contacted first): last_contacted_at ASC NULLS FIRST.

SQLite cannot declare NULLS FIRST in an index, so these exist on PostgreSQL only (the development database does
not need them)."""

from django.db import migrations

INDEXES = {
    "customer_contacted_idx": "(last_contacted_at ASC NULLS FIRST, id)",
    "customer_rm_contacted_idx": "(primary_rm_id, last_contacted_at ASC NULLS FIRST, id)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer {columns}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_schedule")]

    operations = [migrations.RunPython(create, drop)]
