"""gunicorn's configuration: ``gunicorn -c gunicorn.conf.py crm_site.wsgi`` (README, the bench).

The garbage collector is tuned for a long-running worker. Once a worker has loaded the application, its objects
(modules, settings, URL patterns: most of the heap) are frozen out of the collector's reach (``gc.freeze``), and
the youngest generation is collected after 10,000 allocations rather than 700. Full collections had walked the
whole heap every twenty requests or so, 80 ms each, which was the customer list's 95th percentile (111 ms
against a median of 45 ms); with this, 68 ms (docs/performance.md).

Workers, the bind address and the logs stay on the command line, where each deployment sets them.
"""

import gc

GC_THRESHOLD = (10_000, 20, 50)


def post_worker_init(worker):
    """Called by gunicorn in each worker, just after it has loaded the application."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
