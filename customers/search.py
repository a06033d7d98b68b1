"""Free-text search terms never travel in a URL.

A search box posts its term (a name, a customer number, a mobile or ID number: personal information, JR/T
0171-2020 and PIPL Art. 28). The server keeps the term in the user's session, encrypted with the keys that protect
identifiers at rest (``customers.pii``), under a short random token that lives ``SEARCH_TERM_SECONDS`` (15
minutes), and answers 303 with the list's URL carrying ``s=<token>`` and the other filters, never the term. The
list reads the term back from the session by its token; pagination, sorting and export links carry the token.
A token that is unknown, expired or from another session is dropped with a gentle message. A legacy ``?q=``
GET (a bookmark) takes the same step, so the term is gone from the address bar after one hop.

Used by every page that takes a free-text search of people: the customer list and its export, My customers,
complaint intake's customer search and the complaint list.
"""

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from . import pii

TERM = "q"  # the form field of the term
TOKEN = "s"  # noqa: S105 - the URL parameter of a search token, not a secret
SESSION_KEY = "search_terms"
MAX_TERMS = 20  # tokens kept per session, newest first
MAX_LENGTH = 200  # longer input is cut here; the page's form still reports its own limit


class SeeOther(HttpResponseRedirect):
    status_code = 303


def _now() -> int:
    return int(timezone.now().timestamp())


def _live(session) -> dict:
    """The session's tokens that have not expired: {token: [encrypted term, stored at]}."""
    oldest = _now() - settings.SEARCH_TERM_SECONDS
    return {k: v for k, v in (session.get(SESSION_KEY) or {}).items() if isinstance(v, list) and v[1] > oldest}


def stash(request, term: str) -> str:
    """Keep ``term`` in the session and return its new token."""
    terms = _live(request.session)
    token = secrets.token_urlsafe(12)
    terms[token] = [pii.encrypt(term[:MAX_LENGTH]), _now()]
    newest = sorted(terms.items(), key=lambda item: item[1][1])[-MAX_TERMS:]
    request.session[SESSION_KEY] = dict(newest)
    return token


def recall(request, token: str) -> str | None:
    """The term kept under ``token`` in this session, or None when it is unknown or has expired."""
    stored = _live(request.session).get(token)
    if stored is None:
        return None
    try:
        return pii.decrypt(stored[0])
    except ValueError:  # encrypted with a key since removed
        return None


def redirect_with_token(request, data: QueryDict, to: str | None = None) -> SeeOther:
    """303 to ``to`` (default: this page) with ``data``'s filters and the term replaced by a token. Empty values
    and the page number are dropped (a new search starts on its first page)."""
    params = QueryDict(mutable=True)
    for key, values in data.lists():
        if key in (TERM, TOKEN, "page", "csrfmiddlewaretoken"):
            continue
        values = [v for v in values if v != ""]
        if values:
            params.setlist(key, values)
    term = (data.get(TERM) or "").strip()
    if term:
        params[TOKEN] = stash(request, term)
    target = to or request.path
    return SeeOther(target + ("?" + params.urlencode() if params else ""))


def legacy_redirect(request) -> SeeOther | None:
    """A GET that still carries the term in its URL goes through the token step."""
    if request.method == "GET" and TERM in request.GET:
        return redirect_with_token(request, request.GET)
    return None


def query_of(request) -> QueryDict | None:
    """The request's GET parameters with the term in place of its token, for the page's filter form; None when
    the token has expired (the caller then redirects to ``without_token``)."""
    query = request.GET.copy()
    token = query.pop(TOKEN, None)
    if token:
        term = recall(request, token[-1])
        if term is None:
            return None
        query[TERM] = term
    return query


def term_of(request) -> str | None:
    """The term of the request's token ("" without one), or None when the token has expired."""
    query = query_of(request)
    return None if query is None else query.get(TERM, "")


def without_token(request, to: str | None = None) -> SeeOther:
    """``to`` (default: this page) without the stale search, keeping the other filters, with a message."""
    messages.info(request, _("That search has expired. Please search again."))
    params = request.GET.copy()
    params.pop(TOKEN, None)
    params.pop("page", None)
    return SeeOther((to or request.path) + ("?" + params.urlencode() if params else ""))


class TokenSearchMixin:
    """For a list view whose filter form posts its free-text term: POST and a legacy ``?q=`` GET are redirected
    through the token step; ``self.search_query`` is the GET with the term back in place (for the form)."""

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            return redirect_with_token(request, request.POST)
        response = legacy_redirect(request)
        if response is not None:
            return response
        self.search_query = query_of(request)
        if self.search_query is None:
            return without_token(request)
        return super().dispatch(request, *args, **kwargs)
