"""Who keeps an outlet's pool: the member of staff its head named (``PoolKeeper``), while active; else the outlet's
own head (the first active one by employee number); else nobody (a pool without a keeper is shown on the head's
dashboard, never silently dropped)."""

from django.db.models import BigIntegerField, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from organisation.models import Staff

from .models import PoolKeeper


def _named(branch_ref):
    return Subquery(
        PoolKeeper.objects.filter(branch_id=branch_ref, staff__status=Staff.Status.ACTIVE).values("staff_id")[:1],
        output_field=BigIntegerField(),
    )


def _head(branch_ref):
    return Subquery(
        Staff.objects.filter(branch_id=branch_ref, role=Staff.Role.HEAD, status=Staff.Status.ACTIVE)
        .order_by("employee_no")
        .values("id")[:1],
        output_field=BigIntegerField(),
    )


def keeper_expression(branch_field: str = "branch_id"):
    """The keeper's staff id of the outlet in ``branch_field`` of the rows being queried, as one SQL expression
    (for set-based writes: ``Coalesce(F("primary_rm_id"), keeper_expression("branch_id"))`` is "the customer's RM,
    or their outlet's pool keeper")."""
    ref = OuterRef(branch_field)
    return Coalesce(_named(ref), _head(ref), output_field=BigIntegerField())


def keepers_of(branch_ids) -> dict[int, int | None]:
    """{branch id: keeper's staff id or None} for the given branches, in one query."""
    from organisation.models import Branch

    rows = Branch.objects.filter(pk__in=list(branch_ids)).annotate(keeper=keeper_expression("pk"))
    return {row["pk"]: row["keeper"] for row in rows.values("pk", "keeper")}


def customer_owner_expression():
    """On a Customer queryset: the primary RM, or the home outlet's pool keeper for a pool customer."""
    return Coalesce(F("primary_rm_id"), keeper_expression("branch_id"), output_field=BigIntegerField())
