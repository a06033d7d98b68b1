"""Django admin answering bad input in its list filters and forms with its own error, never a server error.

Two places where Django admin itself fails on a crafted request (NUL characters are dropped earlier, for every page,
by ``crm_site.nul_middleware``):

- the date drill-down (``date_hierarchy``) turns ``?created_at__year=…&…__day=…`` into a date range without
  bounding it: a year of 9999 with a day, or a number past the platform's integers, raised OverflowError or a
  ValueError outside its own check. ``BoundedChangeList`` turns both into Django's "incorrect lookup" answer (the
  list again, with ``?e=1``);
- an autocomplete field re-shown with a posted value that is not a key (``parent=abc``) looked the value up as a
  key and failed. ``BoundedAutocompleteSelect`` shows only the posted values that are keys; the form already says
  the choice is not valid.

- a list's search (``?q=``) of 100,000 characters is a LIKE pattern SQLite refuses ("pattern too complex"); the
  search term is cut at ``SEARCH_MAX_LENGTH`` characters, longer than any name, number or reference searched.

``AdminInputMixin`` puts all three on a ModelAdmin; every admin of the project that has a date drill-down, an
autocomplete field or a search uses it (tests/crm_site/test_fuzz.py fuzzes every admin list and add form)."""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError


class BoundedChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as e:
            raise IncorrectLookupParameters(e) from e


class BoundedAutocompleteSelect(AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        key = self.field.remote_field.get_related_field()
        return super().optgroups(name, [v for v in value if _is_key(key, v)], attr)


def _is_key(field, value) -> bool:
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


SEARCH_MAX_LENGTH = 200


class AdminInputMixin:
    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term[:SEARCH_MAX_LENGTH])

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = BoundedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdminMixin:
    """A record Django admin shows for reading only: it is written by its app's services (a history, a job's
    result), never added, changed or deleted by hand."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
