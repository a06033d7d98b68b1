"""The Permissions-Policy response header (W3C Permissions Policy): the browser features no page of the CRM uses
are switched off for the page and anything it might embed. Django's SecurityMiddleware does not send this header
and django-csp (the Content-Security-Policy) does not either; the policy itself is ``PERMISSIONS_POLICY`` in
settings (docs/security.md, "Transport and headers")."""

from django.conf import settings


def permissions_policy(features: dict[str, list[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` → ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in features.items())


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response
