from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form
from idempotency.services import submit_once
from organisation import access
from organisation.models import Staff
from organisation.permissions import RoleRequiredMixin

from . import exports, panels, search, selectors, services
from .forms import CustomerFilterForm, HeaderSearchForm, RevealForm, customer_form_class, initial_from
from .models import Customer
from .permissions import revealable_fields


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class CustomerListView(RoleRequiredMixin, search.TokenSearchMixin, TemplateView):
    """The filter form posts (the search term goes through ``customers.search``); the filters stay in the URL."""

    template_name = "customers/customer_list.html"
    allowed_roles = access.EVERY_ROLE
    per_page = 50

    def get_context_data(self, **kwargs):
        form = CustomerFilterForm(self.search_query or None, user=self.request.user)
        filters = form.filters() if form.is_bound else selectors.CustomerFilters()
        customers = selectors.customer_list(self.request.user, filters)
        page = paginate(customers, self.request.GET.get("page"), self.per_page)
        staff = self.request.user.staff
        # An RM's whole list (in any order) says how it relates to My customers and the dashboard
        # (docs/customers.md, "Counts").
        counts = selectors.portfolio_counts(staff) if staff.role == Staff.Role.RM and not filters.narrows else None
        kwargs.update(panels.list_panels(self.request, form, filters))  # what the apps above offer for the list
        return super().get_context_data(
            form=form, page_obj=page, can_export=staff.role in access.PORTFOLIO_ROLES, counts=counts, **kwargs
        )


class CustomerSearchView(RoleRequiredMixin, View):
    """The header's search box, answered as it is typed: the first hits of the customer list's search (the same
    visibility and matching rule), each with its quick actions. The box posts over htmx and gets the dropdown's
    fragment; a post without htmx goes through the token step to this page's GET, which is a whole search page
    (so is the page opened directly). The term is never in a URL (customers.search)."""

    allowed_roles = access.EVERY_ROLE
    template_name = "customers/customer_search.html"
    fragment = "customers/partials/_header_search_results.html"

    def context(self, form: HeaderSearchForm) -> dict:
        term = form.term()
        return {
            "form": form,
            "found": selectors.customer_quick_search(self.request.user, term) if term else None,
            "can_log": access.has_role(self.request.user, access.PORTFOLIO_ROLES),
        }

    def get(self, request):
        response = search.legacy_redirect(request)
        if response is not None:
            return response
        query = search.query_of(request)
        if query is None:
            return search.without_token(request)
        form = HeaderSearchForm(query if search.TERM in query else None)
        return render(request, self.template_name, self.context(form))

    def post(self, request):
        form = HeaderSearchForm(request.POST)
        if request.htmx:
            return render(request, self.fragment, self.context(form))
        if not form.is_valid():
            return render(request, self.template_name, self.context(form))
        return search.redirect_with_token(request, request.POST)


class CustomerExportView(RoleRequiredMixin, View):
    """The filtered list as .xlsx: masked, and written to the access log."""

    allowed_roles = access.PORTFOLIO_ROLES

    def get(self, request):
        response = search.legacy_redirect(request)
        if response is not None:
            return response
        query = search.query_of(request)
        if query is None:  # the search has expired: back to the list, which says so
            return search.without_token(request, to=reverse("customers:customer-list"))
        form = CustomerFilterForm(query or None, user=request.user)
        filters = form.filters() if form.is_bound else selectors.CustomerFilters()
        customers = selectors.customer_list(request.user, filters)
        limit = settings.EXPORT_MAX_ROWS
        rows = customers[: limit + 1].count()
        if rows > limit:
            messages.error(
                request,
                _("The list has more than %(limit)s customers. Narrow the filters to export it.")
                % {"limit": f"{limit:,}"},
            )
            return redirect(reverse("customers:customer-list") + "?" + request.GET.urlencode())
        return exports.export_logged(
            request,
            exports.customers_xlsx(customers),
            reason=_("Customer list export"),
            detail={"filters": filters.describe()},
            rows=rows,
        )


def detail_context(request, pk, *, revealed: dict | None = None) -> dict:
    view = selectors.customer_360(request.user, pk)
    return {
        # The relationship, follow-up and complaint panels come from the apps above (customers.panels).
        **panels.customer_360.context(request, view.customer),
        "view": view,
        "customer": view.customer,
        "revealable": revealable_fields(request.user),
        "can_edit": access.has_role(request.user, access.PORTFOLIO_ROLES),
        "revealed": revealed or {},
        "reveal_form": RevealForm(),
    }


class CustomerDetailView(RoleRequiredMixin, TemplateView):
    """The customer's 360° page."""

    template_name = "customers/customer_detail.html"
    allowed_roles = access.EVERY_ROLE

    def get_context_data(self, **kwargs):
        return super().get_context_data(**detail_context(self.request, self.kwargs["pk"]), **kwargs)


class CustomerFormMixin(RoleRequiredMixin):
    template_name = "customers/customer_form.html"
    allowed_roles = access.PORTFOLIO_ROLES

    def render_form(self, form, *, customer=None, duplicate=None, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "customer": customer, "kind": form.kind, "duplicate": duplicate},
            status=status,
        )

    def save(self, form, call):
        """Run the service; its validation errors become form errors (never a 500)."""
        try:
            return call(), None
        except services.DuplicateIdentifier as e:
            apply_to_form(form, e)
            return None, selectors.duplicate_pointer(self.request.user, e.existing)
        except ValidationError as e:
            apply_to_form(form, e)
            return None, None


class CustomerCreateView(CustomerFormMixin, View):
    def kind(self):
        kind = self.request.GET.get("kind") or self.request.POST.get("kind") or Customer.Kind.INDIVIDUAL
        if kind not in Customer.Kind.values:
            raise Http404
        return kind

    def build(self, data=None):
        form = customer_form_class(self.kind())(data, user=self.request.user)
        form.kind = self.kind()
        return form

    def get(self, request):
        return self.render_form(self.build())

    def post(self, request):
        form = self.build(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        data = form.service_fields()
        customer, duplicate = self.save(
            form,
            lambda: submit_once(
                actor=request.user,
                key=form.posted_key,
                model=Customer,
                create=lambda: services.customer_create(
                    actor=request.user, kind=form.kind, name=data.pop("name"), branch=data.pop("branch"), **data
                ),
            ),
        )
        if customer is None:
            return self.render_form(form, duplicate=duplicate)
        messages.success(request, _("Customer %(name)s registered.") % {"name": customer.name})
        return redirect("customers:customer-detail", pk=customer.pk)


class CustomerUpdateView(CustomerFormMixin, View):
    def build(self, customer, data=None):
        form = customer_form_class(customer.kind)(
            data, user=self.request.user, instance=customer, initial=initial_from(customer)
        )
        form.kind = customer.kind
        return form

    def get(self, request, pk):
        customer = selectors.customer_get_visible(request.user, pk)
        return self.render_form(self.build(customer), customer=customer)

    def post(self, request, pk):
        customer = selectors.customer_get_visible(request.user, pk)
        form = self.build(customer, request.POST)
        if not form.is_valid():
            return self.render_form(form, customer=customer)
        updated, duplicate = self.save(
            form, lambda: services.customer_update(actor=request.user, customer=customer, **form.service_fields())
        )
        if updated is None:
            return self.render_form(form, customer=customer, duplicate=duplicate)
        messages.success(request, _("Changes saved."))
        return redirect("customers:customer-detail", pk=customer.pk)


class CustomerRevealView(RoleRequiredMixin, View):
    """Shows a masked identifier in full after the user gives a reason; the reveal is logged first.
    Over htmx it answers with the fragment that replaces the masked value; without htmx, the whole page."""

    allowed_roles = access.EVERY_ROLE
    fragment = "customers/partials/_reveal.html"

    def post(self, request, pk):
        customer = selectors.customer_get_visible(request.user, pk)
        form = RevealForm(request.POST)
        if not form.is_valid():
            context = {"customer": customer, "reveal_form": form, "field": request.POST.get("field", "")}
            if request.htmx:
                return render(request, self.fragment, context)
            return render(request, "customers/customer_detail.html", detail_context(request, pk) | context, status=400)
        field = form.cleaned_data["field"]
        value = services.customer_reveal(
            actor=request.user, customer=customer, field=field, reason=form.reason_text(), ip_address=client_ip(request)
        )
        if request.htmx:
            return render(request, self.fragment, {"customer": customer, "field": field, "value": value})
        return render(request, "customers/customer_detail.html", detail_context(request, pk, revealed={field: value}))
