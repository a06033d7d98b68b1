"""gunicorn's configuration: ``gunicorn -c gunicorn.conf.py crm_site.wsgi`` (README, the bench).

The access log records the path without its query string (``%(U)s``, not the request line ``%(r)s``): a query
string could carry personal information (JR/T 0171-2020; docs/security.md, "Personal financial information").
The pages never put it there (a search term goes through ``customers.search``), and this keeps an old bookmark or
a hand-typed URL out of the log as well. The referrer is left out for the same reason.

The garbage collector is tuned for a long-running worker. Once a worker has loaded the application, its objects
(modules, settings, URL patterns: most of the heap) are frozen out of the collector's reach (``gc.freeze``), and
the youngest generation is collected after 10,000 allocations rather than 700. Full collections had walked the
whole heap every twenty requests or so, 80 ms each, which was the customer list's 95th percentile (111 ms
against a median of 45 ms); with this, 68 ms (docs/performance.md).

Workers, the bind address and where the logs go stay on the command line, where each deployment sets them.
"""

import gc
import logging

GC_THRESHOLD = (10_000, 20, 50)

# Remote address, time, method, path (no query string), protocol, status, size, user agent, duration in µs.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s "%(a)s" %(D)s'


class NoQueryStrings(logging.Filter):
    """Cuts the query string off a URL argument of an error-log line ("Error handling request /path?…")."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(
                a.split("?", 1)[0] if isinstance(a, str) and a.startswith("/") else a for a in record.args
            )
        return True


def post_worker_init(worker):
    """Called by gunicorn in each worker, just after it has loaded the application."""
    logging.getLogger("gunicorn.error").addFilter(NoQueryStrings())
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
