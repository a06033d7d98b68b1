"""The WSGI application (``gunicorn -c gunicorn.conf.py crm_site.wsgi``; the garbage-collector tuning of the
workers is in gunicorn.conf.py).

On CPython 3.11 and 3.12 each request is served from a frame that reserves a large block of CPython's frame
stack, so that the request's own frames never cross a stack-chunk boundary. These versions keep Python frames in
16 KiB chunks and free a chunk as soon as the last frame in it returns (python/cpython#142183): when a hot call
path sits exactly on a boundary, every call allocates a chunk with ``mmap`` and every return gives it back with
``munmap``. Under gunicorn's worker, Django's template rendering sat on such a boundary: 4,400 ``mmap``/``munmap``
pairs and about 30 ms of system time per request on the customer list, doubling its server time
(docs/performance.md). A frame larger than 32 KiB gets a chunk of its own, rounded up to a power of two; the rest
of that chunk then holds the request's frames. The cost is one 128 KiB allocation per request.

3.13 and 3.14 keep one spare chunk per thread instead (the fix of that issue, in their maintenance releases from
March 2026 on), and there ``application`` is Django's own handler. On an older 3.13 or 3.14 patch release, move
to the latest one.
"""

import os
import sys
import types

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

django_application = get_wsgi_application()

# The Python versions whose frame stack frees a chunk on every return (python/cpython#142183).
FRAME_STACK_CHURN = sys.implementation.name == "cpython" and sys.version_info < (3, 13)

# 8,192 slots of 8 bytes: a 64 KiB frame, which CPython places at the start of a fresh 128 KiB chunk.
FRAME_STACK_SLOTS = 8192


def _call(app, environ, start_response):
    return app(environ, start_response)


_call = types.FunctionType(_call.__code__.replace(co_stacksize=FRAME_STACK_SLOTS), globals(), "_call")


def _served_from_a_chunk_of_its_own(environ, start_response):
    return _call(django_application, environ, start_response)


application = _served_from_a_chunk_of_its_own if FRAME_STACK_CHURN else django_application
