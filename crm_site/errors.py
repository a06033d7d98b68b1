"""The site's answer to an unhandled exception: 503 when a service the site depends on is unreachable, else 500.

An exception escaping a view or a middleware reaches ``handler500`` (crm_site/urls.py) with DEBUG off. When it is
(or was caused by) a lost database connection, a database that refuses or times out, or an unreachable Redis or
broker, the answer is **503 Service Unavailable** with ``Retry-After: 30`` on the site's own page (503.html): the
request may succeed if repeated, and monitoring and proxies can tell an outage from a bug. Anything else is the
ordinary 500 page. Both pages are rendered from templates alone, with no query, no session and no cache, since
whatever failed may fail again while the page is drawn.

tests/crm_site/test_outage.py covers a database on a port where nothing listens, Redis stopped and hung, and an
ordinary exception.
"""

import sys

from django import db
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.views.defaults import server_error
from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_AFTER_SECONDS = 30

# A dependency that is down, not a defect: the same request may succeed later.
DEPENDENCY_ERRORS = (
    db.OperationalError,  # cannot connect, connection lost, statement cancelled, deadlock
    db.InterfaceError,  # the connection was closed under the request
    RedisConnectionError,
    RedisTimeoutError,
    BrokerUnreachable,
)


def is_outage(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it was raised from (``raise … from``), is a dependency being down."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DEPENDENCY_ERRORS):
            return True
        seen.add(id(exc))
        exc = exc.__cause__
    return False


def service_unavailable(request) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        body = loader.get_template("503.html").render()
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handler500(request, template_name="500.html") -> HttpResponse:
    """``handler500``: called by Django inside the ``except`` block of the failed request."""
    if is_outage(sys.exc_info()[1]):
        return service_unavailable(request)
    return server_error(request, template_name)
