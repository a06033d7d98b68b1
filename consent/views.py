"""The consent pages of a customer (docs/consent.md, "Pages"): the consent page (every channel's state, the form
that records a change, the do-not-disturb windows), a new window, removing one, and the history. The customer is
read through ``customers.selectors.customer_get_visible``: a customer the user may not see (or no longer sees) is a
404, and nothing is written."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.service_errors import apply_to_form, as_text
from customers.selectors import customer_get_visible
from idempotency.services import submit_once
from organisation import access
from organisation.permissions import RoleRequiredMixin

from . import selectors, services
from .forms import ConsentForm, DndRemoveForm, DndWindowForm
from .models import Channel, DndWindow


class ConsentEditView(RoleRequiredMixin, View):
    """营销同意: each channel's state with its date and source, the form recording a change (a reason required),
    and the customer's do-not-disturb windows with their remove buttons."""

    template_name = "consent/consent_edit.html"
    allowed_roles = access.PORTFOLIO_ROLES

    def render_page(self, request, customer, form, status=200):
        context = {
            "customer": customer,
            "consent": selectors.customer_consent(request.user, customer, include_over=True),
            "form": form,
            "remove_form": DndRemoveForm(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        channel = request.GET.get("channel", "")
        initial = {"channel": channel} if channel in Channel.values else {}
        return self.render_page(request, customer, ConsentForm(initial=initial))

    def post(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        form = ConsentForm(request.POST)
        if form.is_valid():
            try:
                record = services.consent_record(actor=request.user, customer=customer, **form.cleaned_data)
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                values = {"channel": record.get_channel_display(), "state": record.get_state_display()}
                if record.unchanged:
                    messages.info(request, _("Already recorded: %(channel)s, %(state)s. Nothing changed.") % values)
                else:
                    messages.success(request, _("Consent recorded: %(channel)s, %(state)s.") % values)
                return redirect("consent:consent-edit", pk=customer.pk)
        return self.render_page(request, customer, form, status=400)


class DndWindowCreateView(RoleRequiredMixin, View):
    """A new do-not-disturb window (勿扰时段) for the customer."""

    template_name = "consent/dnd_form.html"
    allowed_roles = access.PORTFOLIO_ROLES

    def render_form(self, request, customer, form, status=200):
        return render(request, self.template_name, {"customer": customer, "form": form}, status=status)

    def get(self, request, pk):
        return self.render_form(request, customer_get_visible(request.user, pk), DndWindowForm())

    def post(self, request, pk):
        customer = customer_get_visible(request.user, pk)
        form = DndWindowForm(request.POST)
        if form.is_valid():
            try:
                window = submit_once(
                    actor=request.user,
                    key=form.posted_key,
                    model=DndWindow,
                    create=lambda: services.dnd_window_add(actor=request.user, customer=customer, **form.cleaned_data),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                messages.success(request, _("Do-not-disturb window added: %(window)s.") % {"window": window.describe()})
                return redirect("consent:consent-edit", pk=customer.pk)
        return self.render_form(request, customer, form, status=400)


class DndWindowRemoveView(RoleRequiredMixin, View):
    """Remove a window (the customer lifted it), with a reason."""

    allowed_roles = access.PORTFOLIO_ROLES

    def post(self, request, pk, window_pk):
        customer = customer_get_visible(request.user, pk)
        window = selectors.dnd_window_get(customer, window_pk)
        form = DndRemoveForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the reason for removing the window: nothing was removed."))
            return redirect("consent:consent-edit", pk=customer.pk)
        try:
            services.dnd_window_remove(actor=request.user, window=window, reason=form.cleaned_data["reason"])
        except ValidationError as e:
            messages.error(request, as_text(e))
        else:
            messages.success(request, _("Do-not-disturb window removed: %(window)s.") % {"window": window.describe()})
        return redirect("consent:consent-edit", pk=customer.pk)


class ConsentHistoryView(RoleRequiredMixin, TemplateView):
    """The history of the customer's consent and windows: every change, who made it, when, how and why."""

    template_name = "consent/consent_history.html"
    allowed_roles = access.EVERY_ROLE

    def get_context_data(self, **kwargs):
        customer = customer_get_visible(self.request.user, self.kwargs["pk"])
        page = selectors.consent_history(customer, self.request.GET.get("page"))
        return super().get_context_data(
            customer=customer, page_obj=page, can_edit=selectors.can_edit_consent(self.request.user), **kwargs
        )
