import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import pool_customer

pytestmark = pytest.mark.django_db


def test_counts(org, book, login):
    pool_customer(org.west_outlet)
    for who in ("rm_west", "west_head"):
        client = login(getattr(org, who))
        for url in ("/customers/", "/pool/", "/customers/", "/pool/"):
            with CaptureQueriesContext(connection) as ctx:
                client.get(url)
            print(
                "COUNT",
                who,
                url,
                len(ctx.captured_queries),
                [
                    q["sql"][:40]
                    for q in ctx.captured_queries
                    if "SAVEPOINT" in q["sql"] or "django_session" in q["sql"]
                ],
            )
