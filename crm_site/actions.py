"""The one way to write a page with several actions (a detail page's approve / reject / cancel buttons): a registry
``{name: Action}`` that says, for each action, what its button says, which form carries its input, which service it
calls, and what the user is told afterwards. The view looks the posted action up, validates its form, runs it, and
shows the message; the services check permission and state again, so a forged POST gets their refusal."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .service_errors import as_text


@dataclass(frozen=True)
class Action:
    label: str | Promise
    # run(actor, target, data) -> the service's result; data is the form's cleaned_data (or the POST without a form)
    run: Callable[..., object]
    done: str | Promise = ""
    form: type | None = None
    # Over htmx, answer 204 No Content: the page changed the row in place and has nothing to redraw.
    quiet_over_htmx: bool = False


def run_posted(request, actions: dict[str, Action], target, *, back: str, **back_kwargs):
    """Run the action named in the POST on ``target``, with the POST as its data, then go ``back`` with the
    action's message, or with the service's refusal as an error message. An unknown action changes nothing."""
    action = actions.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("This action is not available here."))
        return redirect(back, **back_kwargs)
    try:
        action.run(request.user, target, request.POST)
    except ValidationError as e:
        messages.error(request, as_text(e))
        return redirect(back, **back_kwargs)
    if action.quiet_over_htmx and getattr(request, "htmx", False):
        return HttpResponse(status=204)
    if action.done:
        messages.success(request, action.done)
    return redirect(back, **back_kwargs)
