"""NUL characters are dropped from the query string before any page reads it.

A NUL (U+0000) cannot be typed into a field; it arrives only in a crafted address (``?q=a%00b``). PostgreSQL text
cannot hold it, so a filter that passed it on to a query failed with a server error — in the project's own list
pages and in Django admin's list filters and search, which read ``request.GET`` directly. Dropping the character
here, in one place for every page, answers such a request as if the character had not been sent: a filter value
is ignored or shown as a form error as usual. Form posts are not touched: every form field refuses a NUL with
a form error of its own (Django's ``ProhibitNullCharactersValidator``)."""

from django.http import QueryDict

NUL = "\x00"


class NulQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.META.get("QUERY_STRING", "")
        if "%00" in raw or NUL in raw:
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                for value in values:
                    cleaned.appendlist(key.replace(NUL, ""), value.replace(NUL, ""))
            request.META["QUERY_STRING"] = cleaned.urlencode()
            cleaned._mutable = False
            request.GET = cleaned
        return self.get_response(request)
