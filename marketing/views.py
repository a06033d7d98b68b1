from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form
from customers import search
from idempotency.services import submit_once
from organisation import access
from organisation.permissions import RoleRequiredMixin

from . import selectors, services
from .forms import SegmentCreateForm, SegmentForm, shared_with_label
from .models import SavedSegment
from .panels import OPENED_FROM
from .permissions import SEGMENT_ROLES, may_edit
from .segments import read_filter, segment_count, segment_filter


def _dropped_text(read) -> str:
    return "；".join(str(c) for c in read.dropped)


class SegmentListView(RoleRequiredMixin, TemplateView):
    """客群: my segments, then the shared ones I may see; each row's count comes over htmx from its own page."""

    template_name = "marketing/segment_list.html"
    allowed_roles = SEGMENT_ROLES
    per_page = 20

    def get_context_data(self, **kwargs):
        user = self.request.user
        page = paginate(selectors.segment_list(user), self.request.GET.get("page"), self.per_page)
        for segment in page:
            segment.can_edit = may_edit(user, segment)
        return super().get_context_data(page_obj=page, me=access.active_staff(user), **kwargs)


class SegmentCreateView(RoleRequiredMixin, View):
    """保存为客群: the customer list's filter (the link carries the list's query string, the search term as its
    token), shown in words, saved with a name. The search term is never saved."""

    template_name = "marketing/segment_create.html"
    allowed_roles = SEGMENT_ROLES

    def render_form(self, request, form, read, status=200):
        context = {"form": form, "read": read, "list_url": reverse("customers:customer-list") + "?" + _list_query(read)}
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        response = search.legacy_redirect(request)  # a search term typed into the address: through the token step
        if response is not None:
            return response
        query = search.query_of(request)
        expired = query is None
        read = read_filter(request.GET if expired else query, request.user)
        if expired:
            messages.info(request, _("The list's search has expired; it would not have been saved anyway."))
        form = None
        if read.narrows:
            form = SegmentCreateForm(owner=request.user.staff, initial={"filter": read.query().urlencode()})
        return self.render_form(request, form, read)

    def post(self, request):
        form = SegmentCreateForm(request.POST, owner=request.user.staff)
        posted = request.POST.get("filter", "")[: SegmentCreateForm.base_fields["filter"].max_length]
        read = read_filter(QueryDict(posted), request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                segment = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=SavedSegment,
                    create=lambda: services.segment_create(
                        actor=request.user,
                        name=data["name"],
                        description=data["description"],
                        visibility=data["visibility"],
                        params=read.params,
                        criteria=read.rows(),
                    ),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
                return redirect("marketing:segment-list")
        return self.render_form(request, form, read)


def _list_query(read, **extra) -> str:
    return read.query(**extra).urlencode()


class SegmentDetailView(RoleRequiredMixin, TemplateView):
    """A segment: its filter in words as the reader reads it, what no longer applies, how many customers it finds
    for the reader (exact up to the list's cap), and its actions. Over htmx, the count alone (the segments page's
    rows ask for it)."""

    template_name = "marketing/segment_detail.html"
    fragment = "marketing/partials/_segment_count.html"
    allowed_roles = SEGMENT_ROLES

    def get_template_names(self):
        return [self.fragment if self.request.htmx else self.template_name]

    def get_context_data(self, **kwargs):
        user = self.request.user
        segment = selectors.segment_get_visible(user, self.kwargs["pk"])
        read = segment_filter(segment, user)
        count = segment_count(segment, user, read=read) if read.narrows else None
        return super().get_context_data(
            segment=segment,
            read=read,
            count=count,
            can_edit=may_edit(user, segment),
            can_hand_out=access.has_role(user, access.HEADS_AND_ADMINS) and read.narrows,
            list_query=_list_query(read),
            shared_with=shared_with_label(segment.owner) if segment.is_shared else "",
            **kwargs,
        )


class SegmentOpenView(RoleRequiredMixin, View):
    """Opens a segment as a list: the customer list itself, with the segment's filter as it reads for the user
    (what no longer applies left out, and named in a message) and the segment's banner."""

    allowed_roles = SEGMENT_ROLES

    def get(self, request, pk):
        segment = selectors.segment_get_visible(request.user, pk)
        read = segment_filter(segment, request.user)
        if not read.narrows:
            messages.error(
                request,
                _("None of the criteria of “%(name)s” applies any more (%(dropped)s). Edit or delete the segment.")
                % {"name": segment.name, "dropped": _dropped_text(read)},
            )
            return redirect("marketing:segment-detail", pk=segment.pk)
        if read.dropped:
            messages.warning(
                request,
                _("Some criteria of “%(name)s” no longer apply and were left out: %(dropped)s.")
                % {"name": segment.name, "dropped": _dropped_text(read)},
            )
        return redirect(reverse("customers:customer-list") + "?" + _list_query(read, **{OPENED_FROM: segment.pk}))


class SegmentUpdateView(RoleRequiredMixin, View):
    """Rename, describe, share or unshare: the owner, or an administrator (anyone else: 404)."""

    template_name = "marketing/segment_form.html"
    allowed_roles = SEGMENT_ROLES

    def render_form(self, request, form, segment):
        return render(request, self.template_name, {"form": form, "segment": segment})

    def get(self, request, pk):
        segment = selectors.segment_get_editable(request.user, pk)
        initial = {"name": segment.name, "description": segment.description, "visibility": segment.visibility}
        return self.render_form(request, SegmentForm(initial=initial, owner=segment.owner), segment)

    def post(self, request, pk):
        segment = selectors.segment_get_editable(request.user, pk)
        form = SegmentForm(request.POST, owner=segment.owner)
        if form.is_valid():
            try:
                services.segment_update(actor=request.user, segment=segment, **form.cleaned_data)
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("marketing:segment-detail", pk=segment.pk)
        return self.render_form(request, form, segment)


class SegmentDeleteView(RoleRequiredMixin, View):
    """Delete a segment (asked to confirm first): the owner, or an administrator (anyone else: 404)."""

    template_name = "marketing/segment_delete.html"
    allowed_roles = SEGMENT_ROLES

    def get(self, request, pk):
        segment = selectors.segment_get_editable(request.user, pk)
        return render(request, self.template_name, {"segment": segment})

    def post(self, request, pk):
        segment = selectors.segment_get_editable(request.user, pk)
        try:
            services.segment_delete(actor=request.user, segment=segment)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect("marketing:segment-list")
