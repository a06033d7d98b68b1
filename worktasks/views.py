from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from crm_site.pagination import paginate
from crm_site.service_errors import apply_to_form, as_text
from customers import search
from customers.forms import CustomerFilterForm
from customers.selectors import CustomerFilters, customer_list, customers_visible_to
from idempotency.services import submit_once
from organisation import access
from organisation.permissions import RoleRequiredMixin
from organisation.selectors import rms_visible_to
from relationships.forms import InteractionForm
from relationships.panels import quick_log

from . import selectors, services
from .forms import LineNoteForm, TaskFilterForm, TaskForm
from .models import Task, TaskLine


@dataclass
class Selection:
    """The customers a task is for, as the page that chose them carried them: ids, the customer list's filter (its
    query string, the search term as the list's token) or an outlet's pool."""

    ids: list[int] = field(default_factory=list)
    list_query: str = ""
    pool: int | None = None

    @property
    def given(self) -> bool:
        return bool(self.ids or self.list_query or self.pool)

    def customers(self, request):
        """Ids (checked by the service) or a queryset of the visible customers; None when the list's search has
        expired."""
        if self.ids:
            return self.ids
        if self.pool:
            return customers_visible_to(request.user).filter(branch_id=self.pool, primary_rm__isnull=True)
        query = QueryDict(self.list_query, mutable=True)
        token = query.pop(search.TOKEN, None)
        if token:
            term = search.recall(request, token[-1])
            if term is None:
                return None
            query[search.TERM] = term
        form = CustomerFilterForm(query or None, user=request.user)
        return customer_list(request.user, form.filters() if form.is_bound else CustomerFilters())

    def initial(self) -> dict:
        return {"customer": self.ids, "list_query": self.list_query, "pool": self.pool}


def _ids(values) -> list[int]:
    return sorted({int(v) for v in values if str(v).isdigit() and int(v) <= 2**63 - 1})


def selection_from_get(query: QueryDict) -> Selection:
    if query.getlist("customer"):
        return Selection(ids=_ids(query.getlist("customer")))
    if query.get("from") == "list":
        rest = query.copy()
        for key in ("from", "page"):
            rest.pop(key, None)
        return Selection(list_query=rest.urlencode())
    pool = query.get("pool", "")
    return Selection(pool=int(pool)) if pool.isdigit() else Selection()


def selection_from_post(form: TaskForm) -> Selection:
    data = form.cleaned_data
    return Selection(ids=data.get("customer") or [], list_query=data.get("list_query") or "", pool=data.get("pool"))


class TaskListView(RoleRequiredMixin, TemplateView):
    """任务: the tasks of the user's scope (a head's branches, an RM's own), by state, with their progress."""

    template_name = "worktasks/task_list.html"
    allowed_roles = access.PORTFOLIO_ROLES
    per_page = 25

    def get_context_data(self, **kwargs):
        form = TaskFilterForm(self.request.GET or None)
        state = form.cleaned_data.get("state", "") if form.is_valid() else ""
        page = paginate(
            selectors.task_list(self.request.user, state=state), self.request.GET.get("page"), self.per_page
        )
        can_create = access.has_role(self.request.user, access.HEADS_AND_ADMINS)
        return super().get_context_data(form=form, state=state, page_obj=page, can_create=can_create, **kwargs)


class TaskCreateView(RoleRequiredMixin, View):
    """下发任务: for RMs of the creator's scope, or for a selection of customers (from the customer list, with a
    row selection or "everyone matching the filter", or from an outlet's pool)."""

    template_name = "worktasks/task_form.html"
    allowed_roles = access.HEADS_AND_ADMINS

    def render_form(self, request, form, selection, count=None, status=200):
        context = {"form": form, "selection": selection, "count": count}
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        selection = selection_from_get(request.GET)
        if request.GET.get("from") == "selection" and not selection.ids:
            messages.error(request, _("Tick at least one customer to hand out a task."))
            return redirect("customers:customer-list")
        count = None
        if selection.given:
            customers = selection.customers(request)
            if customers is None:
                messages.info(request, _("That search has expired. Please search again."))
                return redirect("customers:customer-list")
            count = len(customers) if isinstance(customers, list) else customers.count()
        form = TaskForm(
            initial=selection.initial(), rm_choices=rms_visible_to(request.user), has_selection=selection.given
        )
        return self.render_form(request, form, selection, count)

    def post(self, request):
        has_selection = any(request.POST.get(k) for k in ("customer", "list_query", "pool"))
        form = TaskForm(request.POST, rm_choices=rms_visible_to(request.user), has_selection=has_selection)
        selection = Selection()
        if form.is_valid():
            selection = selection_from_post(form)
            customers = selection.customers(request) if selection.given else None
            if selection.given and customers is None:
                form.add_error(None, _("The customer list's search has expired. Go back to the list and search again."))
            else:
                data = form.cleaned_data
                try:
                    task = submit_once(
                        actor=request.user,
                        key=form.posted_key,
                        model=Task,
                        create=lambda: services.task_create(
                            actor=request.user,
                            title=data["title"],
                            instructions=data["instructions"],
                            due_on=data["due_on"],
                            priority=data["priority"],
                            assignees=data.get("assignees") or (),
                            customers=customers,
                        ),
                    )
                except ValidationError as e:
                    apply_to_form(form, e)
                else:
                    message = _("Task handed out: %(n)s lines.") % {"n": task.lines_total}
                    if task.customers_unowned:
                        message += " " + ngettext(
                            "%(n)s customer has nobody to look after them and was not given the task.",
                            "%(n)s customers have nobody to look after them and were not given the task.",
                            task.customers_unowned,
                        ) % {"n": task.customers_unowned}
                        messages.warning(request, message)
                    else:
                        messages.success(request, message)
                    return redirect("worktasks:task-detail", pk=task.pk)
        else:
            selection = Selection(
                ids=_ids(request.POST.getlist("customer")),
                list_query=request.POST.get("list_query", ""),
                pool=int(request.POST["pool"]) if request.POST.get("pool", "").isdigit() else None,
            )
        return self.render_form(request, form, selection)


class TaskDetailView(RoleRequiredMixin, TemplateView):
    """A task: for an assignee, their lines to complete; for its creator and the heads above, the progress per RM
    and every line."""

    template_name = "worktasks/task_detail.html"
    allowed_roles = access.PORTFOLIO_ROLES
    per_page = 50

    def get_context_data(self, **kwargs):
        user = self.request.user
        task = selectors.task_get_visible(user, self.kwargs["pk"])
        follows = selectors.task_follows(user, task)
        assignee = self.request.GET.get("assignee", "")
        assignee_id = int(assignee) if assignee.isdigit() and follows else None
        lines = selectors.task_lines_for(user, task, assignee_id=assignee_id)
        page = paginate(lines, self.request.GET.get("page"), self.per_page)
        return super().get_context_data(
            task=task,
            follows=follows,
            progress=selectors.task_progress_by_assignee(task) if follows else None,
            page_obj=page,
            assignee_id=assignee_id,
            can_cancel=follows and task.status == Task.Status.OPEN,
            me=user.staff.pk,
            **kwargs,
        )


class TaskCancelView(RoleRequiredMixin, View):
    allowed_roles = access.HEADS_AND_ADMINS

    def post(self, request, pk):
        task = selectors.task_get_visible(request.user, pk)
        try:
            services.task_cancel(actor=request.user, task=task)
        except (ValidationError, PermissionDenied) as e:
            messages.error(request, as_text(e) if isinstance(e, ValidationError) else str(e))
        else:
            messages.success(request, _("Task cancelled."))
        return redirect("worktasks:task-detail", pk=task.pk)


class TaskLineCompleteView(RoleRequiredMixin, View):
    """Complete one's own line: a customer's with the quick log (the same form as everywhere, closing the
    customer's follow-ups it fulfils), an RM's own with a note. Over htmx the quick log comes and goes in the modal;
    without it, it is an ordinary page."""

    allowed_roles = access.PORTFOLIO_ROLES
    template_name = "worktasks/line_complete.html"
    fragment = "relationships/partials/_quick_log.html"

    def quick_log_form(self, request, line, data=None):
        to_close = quick_log.context(request, line.customer).get("follow_ups_to_close", [])
        return InteractionForm(data, follow_ups_to_close=to_close)

    def render_form(self, request, line, form):
        context = {
            "line": line,
            "task": line.task,
            "customer": line.customer,
            "form": form,
            "form_action": reverse("worktasks:line-complete", args=[line.pk]),
        }
        template = self.fragment if request.htmx and line.customer_id else self.template_name
        return render(request, template, context)

    def get(self, request, pk):
        line = selectors.task_line_get_own(request.user, pk)
        form = self.quick_log_form(request, line) if line.customer_id else LineNoteForm()
        return self.render_form(request, line, form)

    def post(self, request, pk):
        line = selectors.task_line_get_own(request.user, pk)
        form = self.quick_log_form(request, line, request.POST) if line.customer_id else LineNoteForm(request.POST)
        if form.is_valid():
            try:
                line = submit_once(
                    actor=request.user,
                    key=getattr(form, "posted_key", None),
                    model=TaskLine,
                    create=lambda: services.task_line_complete(actor=request.user, line=line, **form.cleaned_data),
                )
            except ValidationError as e:
                apply_to_form(form, e)
            else:
                message = _("Line done: %(task)s.") % {"task": line.task.title}
                if request.htmx and line.customer_id:
                    context = {"customer": line.customer, "interaction": line.interaction, "message": message}
                    response = render(request, "relationships/partials/_quick_log_done.html", context)
                    response["HX-Trigger"] = "taskLineDone"
                    return response
                messages.success(request, message)
                return redirect("worktasks:task-detail", pk=line.task_id)
        return self.render_form(request, line, form)
