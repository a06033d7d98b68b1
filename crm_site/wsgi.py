"""The WSGI application (gunicorn: ``crm_site.wsgi``).

Each request is served from a frame that reserves a large block of CPython's frame stack, so that the request's
own frames never cross a stack-chunk boundary. CPython 3.11 keeps Python frames in 16 KiB chunks and frees a chunk
as soon as the last frame in it returns (python/cpython#142183, fixed in 3.13 and 3.14 by keeping one spare chunk):
when a hot call path sits exactly on a boundary, every call allocates a chunk with ``mmap`` and every return gives
it back with ``munmap``. Under gunicorn's worker, Django's template rendering sat on such a boundary: 4,400
``mmap``/``munmap`` pairs and about 30 ms of system time per request on the customer list, doubling its server
time (docs/performance.md). A frame larger than 32 KiB gets a chunk of its own, rounded up to a power of two; the
rest of that chunk then holds the request's frames. The cost is one 128 KiB allocation per request.

The garbage collector is tuned for a long-running server: the objects of the loaded application (modules,
settings, URL patterns: most of the heap) are frozen out of the collector's reach (``gc.freeze``), and the youngest
generation is collected after 10,000 allocations rather than 700. Full collections had walked the whole heap
every twenty requests or so, 80 ms each, which was the customer list's 95th percentile (111 ms against a median
of 45 ms); with this, 68 ms (docs/performance.md).
"""

import gc
import os
import types

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

django_application = get_wsgi_application()

gc.freeze()
gc.set_threshold(10_000, 20, 50)

# 8,192 slots of 8 bytes: a 64 KiB frame, which CPython places at the start of a fresh 128 KiB chunk.
FRAME_STACK_SLOTS = 8192


def _call(app, environ, start_response):
    return app(environ, start_response)


_call = types.FunctionType(_call.__code__.replace(co_stacksize=FRAME_STACK_SLOTS), globals(), "_call")


def application(environ, start_response):
    return _call(django_application, environ, start_response)
