"""PostgreSQL's JIT is off for the application's connections (crm_site/settings.py; docs/performance.md): it
compiled Today's follow-up query for 2 s at 1,000,000 customers, a query that runs in 73 ms without it."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_the_application_connects_with_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
