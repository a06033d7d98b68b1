"""A saved segment read through the customer list (docs/marketing.md, "How a segment is read").

A segment stores the customer list's GET parameters. Every time it is opened, counted or used, they are validated
again by the list's own filter form (``customers.forms.CustomerFilterForm``) for the person reading it, and applied by
the list's own selector (``customers.selectors.customer_list``). So every filter the list has, today or added later,
works in a segment without a line here, and a segment finds for each reader only customers that reader may see.

A stored parameter the form no longer accepts (a filter removed from the list, a tier deleted, a branch filter read
by an RM, whose form has none) is dropped and named (``SegmentFilter.dropped``); the rest applies. A segment none
of whose criteria apply any more finds **no** customer, never everyone.

This module reads a form, so it is not ``marketing.selectors`` (the import-linter contract keeps forms out of
selectors and services): a service that needs a segment's customers (a campaign launch) is handed the queryset by
its caller — a view or a task — as ``worktasks.services.task_create`` is handed the customer list's."""

from dataclasses import dataclass, field, replace
from decimal import Decimal

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from customers.forms import CustomerFilterForm
from customers.masking import mask_search_term
from customers.models import Customer
from customers.search import TERM
from customers.selectors import CustomerFilters, customer_list

from .models import SavedSegment

SORT = "sort"  # the list's order: kept with a segment (it opens in that order), never a criterion of its own


@dataclass(frozen=True)
class Criterion:
    key: str  # the GET parameter
    label: str  # the filter's label on the list
    value: str  # its value in words

    def __str__(self) -> str:
        return f"{self.label}：{self.value}" if self.value else self.label


@dataclass
class SegmentFilter:
    """What a filter means for one reader: the list's filters, the parameters that apply, both in words, and what
    was dropped."""

    filters: CustomerFilters
    params: dict[str, list[str]]  # what applies, as the list's GET parameters (never the search term)
    criteria: list[Criterion]  # what applies, in words (the order included)
    dropped: list[Criterion] = field(default_factory=list)  # stored or given, but not accepted by the form
    search_term: str = ""  # the list's search term, masked as the list masks it in logs; never part of a segment

    @property
    def narrows(self) -> bool:
        """Whether a criterion other than the order applies: a segment is a filter."""
        return self.filters.narrows and any(c.key != SORT for c in self.criteria)

    def query(self, **extra) -> QueryDict:
        """The parameters as a query string for the customer list (``extra`` added)."""
        query = QueryDict(mutable=True)
        for key, values in self.params.items():
            query.setlist(key, values)
        for key, value in extra.items():
            query[key] = value
        return query

    def rows(self) -> list[list[str]]:
        """The criteria as stored with a segment (``SavedSegment.criteria``)."""
        return [[c.key, c.label, c.value] for c in self.criteria]


def _as_query(data) -> QueryDict:
    if isinstance(data, QueryDict):
        return data
    query = QueryDict(mutable=True)
    for key, values in (data or {}).items():
        query.setlist(str(key), [str(v) for v in (values if isinstance(values, list | tuple) else [values])])
    return query


def _number(value) -> str:
    if isinstance(value, Decimal):
        return f"{int(value):,}" if value == value.to_integral_value() else f"{value.normalize():,f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _flat(choices):
    for key, label in choices:
        if isinstance(label, list | tuple):  # a group of choices
            yield from _flat(label)
        else:
            yield str(key), str(label)


def _instance_label(field: forms.ModelChoiceField, instance) -> str:
    return str(field.label_from_instance(instance)).strip("\u3000 ")


def in_words(field: forms.Field, raw: list[str], value) -> str:
    """A valid filter's value as the list's form shows it: a choice by its label, a record by its name, a date in
    ISO form, a number with thousands separators."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        return "、".join(_instance_label(field, v) for v in value)
    if isinstance(field, forms.ModelChoiceField):
        return _instance_label(field, value)
    if isinstance(field, forms.ChoiceField):  # MultipleChoiceField and TypedChoiceField included
        labels = dict(_flat(field.choices))
        return "、".join(labels.get(v, v) for v in raw)
    if isinstance(field, forms.NullBooleanField | forms.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return "、".join(_number(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _number(value)


def _label_of(segment: SavedSegment, key: str) -> str:
    """A stored criterion by the words it was saved with, else by the list's label for it, else by its name."""
    saved = segment.saved_label(key)
    if saved != key:
        return saved
    field = CustomerFilterForm.base_fields.get(key)
    return str(field.label) if field is not None else key


def read_filter(data, viewer, *, segment: SavedSegment | None = None) -> SegmentFilter:
    """``data`` (the list's GET parameters, the search term in place of its token; or a segment's stored
    parameters) read by the list's filter form for ``viewer``.

    Only the form's own fields count; the search term is never one of them (a name, a mobile or an ID number has no
    place in a stored filter: it is shown masked, and left out). Given a ``segment``, a stored parameter the form does
    not know is dropped and named by the words it was saved with; a value the form refuses is dropped and named by
    the form's label."""
    query = _as_query(data)
    form = CustomerFilterForm(query, user=viewer)
    form.is_valid()
    filters = replace(form.filters(), q="")
    params: dict[str, list[str]] = {}
    criteria: list[Criterion] = []
    dropped: list[Criterion] = []
    for name, form_field in form.fields.items():
        raw = [v for v in query.getlist(name) if v.strip() != ""]
        if name == TERM or not raw:
            continue
        if name in form.errors or name not in form.cleaned_data:
            label = _label_of(segment, name) if segment is not None else str(form_field.label)
            dropped.append(Criterion(name, label, ""))
            continue
        value = form.cleaned_data[name]
        if value in (None, "", [], ()):
            continue
        params[name] = raw
        criteria.append(Criterion(name, str(form_field.label), in_words(form_field, raw, value)))
    if segment is not None:
        dropped += [Criterion(key, _label_of(segment, key), "") for key in query if key not in form.fields]
    term = (query.get(TERM) or "").strip()
    return SegmentFilter(
        filters=filters,
        params=params,
        criteria=criteria,
        dropped=dropped,
        search_term=mask_search_term(term) if term else "",
    )


def segment_filter(segment: SavedSegment, viewer) -> SegmentFilter:
    """The segment's filter as ``viewer`` reads it (their own form: an RM's has no branch nor RM filter)."""
    return read_filter(segment.params, viewer, segment=segment)


def segment_customers(segment: SavedSegment, viewer, *, read: SegmentFilter | None = None) -> QuerySet[Customer]:
    """The customers ``segment`` finds among those ``viewer`` may see, in the segment's order: the customer list's
    own selector with the segment's filter. A plain queryset (no list of ids), for ``INSERT … SELECT``. A segment
    none of whose criteria apply any more finds nobody."""
    read = read or segment_filter(segment, viewer)
    if not read.narrows:
        return Customer.objects.none()
    return customer_list(viewer, read.filters)


@dataclass(frozen=True)
class SegmentCount:
    """How many customers a segment finds for one reader: exact up to ``cap``; above it, ``capped`` (shown
    "10,000+")."""

    count: int
    cap: int

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def shown(self) -> int:
        return min(self.count, self.cap)


def segment_count(
    segment: SavedSegment, viewer, cap: int | None = None, *, read: SegmentFilter | None = None
) -> SegmentCount:
    """The segment's customers for ``viewer``, counted up to ``cap`` (default: the customer list's own cap,
    ``LIST_COUNT_CAP``, so that the segment and its list say the same): one ``SELECT count(*) FROM (… LIMIT
    cap + 1)`` that stops at cap + 1 rows and reads only the keys."""
    cap = settings.LIST_COUNT_CAP if cap is None else cap
    customers = segment_customers(segment, viewer, read=read)
    return SegmentCount(customers.order_by().values("pk")[: cap + 1].count(), cap)
