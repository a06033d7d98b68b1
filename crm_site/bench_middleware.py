"""Measurement headers for the benchmark (``make bench``), off unless ``BENCH_QUERY_HEADER=1``.

When enabled (settings.MIDDLEWARE lists it first), every response carries:

- ``X-Bench-Queries``: the number of SQL statements the request ran, counted with
  ``connection.execute_wrapper`` around the whole middleware stack (sessions and sign-in included);
- ``Server-Timing: app;dur=<ms>``: the server time of the request, from the first middleware to the last.

Never enable it in production: it tells a client how much work a page does.
"""

import time

from django.db import connection


class BenchMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["X-Bench-Queries"] = str(count)
        response["Server-Timing"] = f"app;dur={elapsed_ms:.2f}"
        return response
