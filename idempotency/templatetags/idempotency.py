import uuid

from django import template

from ..forms import FIELD, SubmissionKeyField

register = template.Library()


@register.simple_tag
def submission_key():
    """The hidden submission key of a form written by hand in a template; the Django form that reads the post
    carries ``SubmissionKeyMixin``, which takes the key from there."""
    return SubmissionKeyField().widget.render(FIELD, uuid.uuid4())
