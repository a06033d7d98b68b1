"""Context processor: whether the header shows the customer search box (templates/partials/_header_search.html).
It shows for the roles the search page admits, that is for whoever may see customers; it runs no query."""

from organisation import access

from .views import CustomerSearchView


def header_search(request) -> dict:
    return {"header_search": access.has_role(getattr(request, "user", None), CustomerSearchView.allowed_roles)}
