"""Django admin names an object by ``str(obj)`` (the changelist's select box, the change page's title and
breadcrumbs). Third-party models' ``__str__`` is English and cannot be translated; an admin with this mixin names
them by ``object_label(obj)`` instead, in the user's language. Its change pages use
``admin/labelled_change_form.html`` (or a template extending it), whose breadcrumbs read the label."""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


class LabelledObjectAdminMixin:
    change_form_template = "admin/labelled_change_form.html"

    def object_label(self, obj) -> str:
        return str(obj)

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))  # noqa: S308 - Django's own
    def action_checkbox(self, obj):
        attrs = {
            "class": "action-select",
            "aria-label": format_html(_("Select this object for an action - {}"), self.object_label(obj)),
        }
        return forms.CheckboxInput(attrs, lambda value: False).render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None:
            extra_context.setdefault("subtitle", self.object_label(obj))
        return super().change_view(request, object_id, form_url, extra_context)
