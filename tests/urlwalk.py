"""Every URL of the project, with sample arguments, for tests that must cover pages added later."""

import re

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000001", "path": "x"}
CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def _fill(route: str) -> str:
    return CONVERTER.sub(lambda m: SAMPLE.get(m.group("conv") or "str", "1"), route)


def all_urls(patterns=None, prefix: str = "", namespace: str = ""):
    """Yield (path, full url name, view callback) for every route-style pattern."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for p in patterns:
        if not isinstance(p.pattern, RoutePattern):
            continue  # regex patterns only come from Django admin, covered by the admin tests
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from all_urls(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            yield "/" + _fill(route), f"{namespace}{p.name or ''}", p.callback
