"""The benchmark harness behind ``make bench`` (see docs/performance.md).

It seeds (or reuses) a demo data set of a given scale on PostgreSQL, serves the application under gunicorn with
production settings, measures every staff page over real HTTP with signed-in sessions (sequentially and under
concurrent load with wrk), times every periodic job, and writes one JSON line per measurement plus a Markdown
summary that compares each figure with its budget (docs/performance.md).
"""
