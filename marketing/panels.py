"""What segments add to the customer list (``customers.panels.customer_list``, registered in
``MarketingConfig.ready``): the "save as a segment" button when the list is filtered, and the segment's banner when
the list was opened from one (``?saved=<id>``)."""

from dataclasses import replace

from django.urls import reverse

from crm_site.fields import KEY_MAX
from customers.panels import ListPanel, customer_list

from .permissions import may_save
from .selectors import segments_visible_to

OPENED_FROM = "saved"  # the customer list's parameter naming the segment it was opened from (its banner)


def _opened_from(request):
    value = request.GET.get(OPENED_FROM, "")
    if not value.isdigit() or int(value) > KEY_MAX:
        return None
    return segments_visible_to(request.user).filter(pk=int(value)).select_related("owner").first()


@customer_list.register
def segment_panels(request, form, filters) -> dict:
    """No query for a list that was not opened from a segment; one (the segment, through the visibility rule) for a
    list that was."""
    if not may_save(request.user):
        return {}
    out = {}
    if replace(filters, q="").narrows:  # a filter beyond the search term: a segment is a filter
        query = request.GET.copy()
        for key in ("page", OPENED_FROM):
            query.pop(key, None)
        url = reverse("marketing:segment-create") + ("?" + query.urlencode() if query else "")
        out["segment_save"] = ListPanel("marketing/partials/_save_button.html", "actions", {"url": url})
    if OPENED_FROM in request.GET:
        segment = _opened_from(request)
        if segment is not None:
            out["segment_banner"] = ListPanel("marketing/partials/_list_banner.html", "notice", {"segment": segment})
    return out
