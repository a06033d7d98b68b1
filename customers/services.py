"""Writes for customers. Every write takes the acting user, validates with full_clean and runs in a transaction."""

import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import DateTimeField, IntegerField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.bulk import plain_indexes_rebuilt
from crm_site.sql import insert_from_select
from organisation import access
from organisation.models import Branch, Staff
from organisation.selectors import branches_visible_to

from . import signals, validators
from .models import AccessLog, AssetSnapshot, Customer, Segment, SegmentChange, Tag
from .permissions import can_reveal
from .selectors import customers_visible_to

ID_VALIDATORS = {
    Customer.IdType.RESIDENT_ID: lambda v: validators.parse_resident_id(v).number,
    Customer.IdType.PASSPORT: validators.validate_passport,
    Customer.IdType.HK_MACAO_PERMIT: validators.validate_hk_macao_permit,
    Customer.IdType.TAIWAN_PERMIT: validators.validate_taiwan_permit,
    Customer.IdType.FOREIGN_PERMANENT: validators.validate_foreign_permanent,
}

# Fields a caller may set, by customer type. Identifiers (id_number, mobile) are passed in plain text and
# stored encrypted, hashed and masked by the model's setters.
COMMON_FIELDS = ("name", "branch", "primary_rm", "lifecycle", "notes", "mobile", "tags")
INDIVIDUAL_FIELDS = (
    "id_type",
    "id_number",
    "gender",
    "birth_date",
    "lunar_birthday",
    "occupation",
    "address",
    "risk_level",
    "risk_assessed_on",
)
CORPORATE_FIELDS = ("credit_code", "legal_representative", "industry", "contact_person", "address")
UNCHANGED = object()


class DuplicateIdentifier(ValidationError):
    """The ID number or credit code already belongs to another customer (``existing``)."""

    def __init__(self, message: str, *, field: str, existing: Customer):
        super().__init__({field: [ValidationError(message, code="duplicate")]})
        self.existing = existing


def _allowed_fields(kind: str) -> tuple[str, ...]:
    return COMMON_FIELDS + (INDIVIDUAL_FIELDS if kind == Customer.Kind.INDIVIDUAL else CORPORATE_FIELDS)


def _set_identifiers(customer: Customer, data: dict) -> None:
    """Validate and store the ID number, mobile and credit code; derive birth date and gender from a resident ID."""
    errors: dict[str, list] = {}
    if "mobile" in data and data["mobile"] is not UNCHANGED:
        raw = data.pop("mobile") or ""
        try:
            customer.set_mobile(validators.validate_mobile(raw) if raw else "")
        except ValidationError as e:
            errors.setdefault("mobile", []).extend(e.error_list)
    else:
        data.pop("mobile", None)

    if customer.is_individual:
        id_type = data.pop("id_type", customer.id_type) or ""
        raw_id = data.pop("id_number", UNCHANGED)
        if raw_id is not UNCHANGED:
            if raw_id and not id_type:
                errors.setdefault("id_type", []).append(ValidationError(_("Choose the type of the ID document.")))
            elif raw_id:
                try:
                    number = ID_VALIDATORS[id_type](raw_id)
                except ValidationError as e:
                    errors.setdefault("id_number", []).extend(e.error_list)
                else:
                    customer.set_id_number(id_type, number)
                    if id_type == Customer.IdType.RESIDENT_ID:
                        parsed = validators.parse_resident_id(number)
                        for name, derived in (("birth_date", parsed.birth_date), ("gender", parsed.gender)):
                            given = data.get(name)
                            if given and given != derived:
                                errors.setdefault(name, []).append(_mismatch(name))
                            data[name] = derived
            else:
                customer.set_id_number("", "")
        elif id_type != customer.id_type and customer.id_number_hash:
            errors.setdefault("id_number", []).append(
                ValidationError(_("Enter the ID number again when changing the ID type."))
            )
        elif customer.id_type == Customer.IdType.RESIDENT_ID and customer.id_number_enc:
            # The stored resident ID still decides the birth date and gender.
            parsed = validators.parse_resident_id(customer.reveal("id_number"))
            for name, derived in (("birth_date", parsed.birth_date), ("gender", parsed.gender)):
                given = data.get(name)
                if given and given != derived:
                    errors.setdefault(name, []).append(_mismatch(name))
                data[name] = derived
    elif "credit_code" in data:
        raw = data.pop("credit_code") or ""
        try:
            customer.credit_code = validators.validate_credit_code(raw) if raw else None
        except ValidationError as e:
            errors.setdefault("credit_code", []).extend(e.error_list)
    if errors:
        raise ValidationError(errors)


def _mismatch(field: str) -> ValidationError:
    if field == "birth_date":
        return ValidationError(_("The birth date does not agree with the ID number."))
    return ValidationError(_("The gender does not agree with the ID number."))


def _check_duplicates(customer: Customer) -> None:
    others = Customer.objects.exclude(pk=customer.pk)
    if customer.id_number_hash:
        existing = others.filter(id_number_hash=customer.id_number_hash).first()
        if existing:
            raise DuplicateIdentifier(
                _("This ID number is already registered as customer %(no)s.") % {"no": existing.customer_no},
                field="id_number",
                existing=existing,
            )
    if customer.credit_code:
        existing = others.filter(credit_code=customer.credit_code).first()
        if existing:
            raise DuplicateIdentifier(
                _("This credit code is already registered as customer %(no)s.") % {"no": existing.customer_no},
                field="credit_code",
                existing=existing,
            )


def _check_rm(primary_rm: Staff | None) -> None:
    if primary_rm is not None and (primary_rm.role != Staff.Role.RM or not primary_rm.is_active_staff):
        raise ValidationError({"primary_rm": _("The relationship manager must be an active RM.")})


def _set_lifecycle(customer: Customer, data: dict) -> None:
    """The lifecycle stage is derived every night (customers.lifecycle) unless staff set it by hand. A stage other
    than the stored one (any stage, on registering) is set by hand from then on (``lifecycle_manual``); the stored
    one leaves the customer as they were; an empty one ("derived automatically") hands the stage back to the
    derivation, which sets it at its next run."""
    if "lifecycle" not in data:
        return
    stage = data.pop("lifecycle") or ""
    if not stage:
        customer.lifecycle_manual = False
    elif stage != customer.lifecycle or customer.pk is None:  # on registering, any stage chosen is by hand
        customer.lifecycle = stage
        customer.lifecycle_manual = True


def _apply(customer: Customer, data: dict) -> list[Tag] | None:
    unknown = set(data) - set(_allowed_fields(customer.kind))
    if unknown:
        raise ValidationError(
            _("These fields do not apply to this type of customer: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    tags = data.pop("tags", None)
    _set_lifecycle(customer, data)
    _set_identifiers(customer, data)
    for name, value in data.items():
        setattr(customer, name, value)
    customer.set_birth_date(customer.birth_date)
    if customer.is_individual and customer.risk_level:
        customer.risk_assessed_on = customer.risk_assessed_on or timezone.localdate()
        customer.risk_expires_on = customer.risk_assessed_on + timedelta(days=settings.RISK_ASSESSMENT_VALID_DAYS)
    elif customer.is_individual:
        customer.risk_assessed_on = customer.risk_expires_on = None
    _check_rm(customer.primary_rm)
    return list(tags) if tags is not None else None


@transaction.atomic
def customer_create(
    *, actor, kind: str, name: str, branch: Branch, customer_no: str = "", aum: Decimal = Decimal("0"), **fields
) -> Customer:
    """Register a customer. ``fields`` are the kind's fields (see COMMON/INDIVIDUAL/CORPORATE_FIELDS); identifiers
    are given in plain text. Raises ValidationError (DuplicateIdentifier for a known ID or credit code), and
    PermissionDenied unless the actor works with portfolios and the branch is in their scope."""
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    if staff is not None and not branches_visible_to(staff).filter(pk=branch.pk).exists():
        raise PermissionDenied(_("You may not register customers at this branch."))
    actor = access.history_user(actor)
    now = timezone.now()
    customer = Customer(
        kind=kind,
        name=name,
        branch=branch,
        customer_no=customer_no or f"~{uuid.uuid4().hex[:19]}",
        aum=aum,
        segment=Segment.objects.for_aum(aum),
        created_by=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
    )
    tags = _apply(customer, fields)
    _check_duplicates(customer)
    customer.full_clean(exclude=["customer_no"] if not customer_no else None)
    customer._history_user = actor
    customer.save()
    if not customer_no:
        # Customers registered in the CRM (not from core banking) get a "P" number made of their key.
        customer.customer_no = f"P{customer.pk:011d}"
        Customer.objects.filter(pk=customer.pk).update(customer_no=customer.customer_no)
        Customer.history.filter(id=customer.pk).update(customer_no=customer.customer_no)
    if tags:
        customer.tags.set(tags_get_or_create(tags))
    if customer.primary_rm is not None:
        # Relationships opens the customer's first portfolio assignment (管户) with the RM.
        signals.customer_registered.send(
            sender=Customer, customer=customer, staff=customer.primary_rm, reason=_("Registered"), now=now
        )
    return customer


# A customer changes RM (and with it home branch) only through an approved reassignment or handover.
NOT_CHANGED_BY_UPDATE = ("primary_rm", "branch")


@transaction.atomic
def customer_update(*, actor, customer: Customer, **fields) -> Customer:
    """Change a customer's details. An identifier passed as UNCHANGED (or omitted) keeps its stored value. The RM
    and home branch are not changed here: that takes an approved reassignment (relationships)."""
    moved = set(fields) & set(NOT_CHANGED_BY_UPDATE)
    if moved:
        raise ValidationError(_("The RM and branch change only through an approved reassignment request."))
    staff = access.actor_staff(actor, access.PORTFOLIO_ROLES)
    visible = Customer.objects.all() if staff is None else customers_visible_to(staff)
    customer = visible.select_for_update(of=("self",)).filter(pk=customer.pk).first()
    if customer is None:
        raise PermissionDenied(_("You may not change this customer."))
    actor = access.history_user(actor)
    tags = _apply(customer, fields)
    _check_duplicates(customer)
    customer.updated_by = actor
    customer.updated_at = timezone.now()
    customer.full_clean()
    customer._history_user = actor
    customer.save()
    if tags is not None:
        customer.tags.set(tags_get_or_create(tags))
    return customer


@transaction.atomic
def customer_reveal(*, actor, customer: Customer, field: str, reason: str, ip_address: str | None = None) -> str:
    """Return the full value of a masked identifier, writing the reveal to the access log first."""
    if field not in AccessLog.Field.values or not can_reveal(actor, field):
        raise PermissionDenied(_("Your role may not view this number in full."))
    if not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("This customer is not in your scope."))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("Give the reason for viewing the full number.")})
    access_log_record(
        actor=actor,
        action=AccessLog.Action.REVEAL,
        customer=customer,
        field=field,
        reason=reason,
        ip_address=ip_address,
    )
    return customer.reveal(field)


def access_log_record(
    *,
    actor,
    action: str,
    reason: str,
    customer: Customer | None = None,
    field: str = "",
    detail: dict | None = None,
    row_count: int | None = None,
    ip_address: str | None = None,
) -> AccessLog:
    """Write one line of the access log: who (a member of staff, never the system), what, why, when, from where;
    never the data itself."""
    staff = access.actor_staff(actor)
    if staff is None:  # the SYSTEM actor: the access log records what people saw
        raise PermissionDenied(_("Only active staff can do this."))
    entry = AccessLog(
        user=staff.user,
        staff_name=staff.name,
        action=action,
        customer=customer,
        field=field,
        reason=reason[:200],
        detail=detail or {},
        row_count=row_count,
        ip_address=ip_address,
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def asset_snapshot_record(*, customer: Customer, on: date, aum: Decimal) -> AssetSnapshot:
    """Record a day's AUM; the latest snapshot becomes the customer's current AUM (and tier)."""
    snapshot, _created = AssetSnapshot.objects.update_or_create(customer=customer, date=on, defaults={"aum": aum})
    if customer.aum_as_of is None or on >= customer.aum_as_of:
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        new_segment = Segment.objects.for_aum(aum)
        if new_segment != customer.segment:
            SegmentChange.objects.create(
                customer=customer,
                from_segment=customer.segment,
                to_segment=new_segment,
                aum=aum,
                changed_at=timezone.now(),
            )
        Customer.objects.filter(pk=customer.pk).update(aum=aum, aum_as_of=on, segment=new_segment)
    return snapshot


# Above this many customers to change, the refresh rebuilds the customers' plain indexes instead of maintaining
# them row by row (a million AUM updates maintain 27 indexes a million times each).
REFRESH_REBUILD_MIN = 50_000


@transaction.atomic
def customers_refresh_aum(*, as_of: date | None = None) -> int:
    """Set current AUM from the snapshots of ``as_of`` (default: the newest snapshot date), for every customer
    whose current AUM is not from a later date: a backfilled older date does not move it. Set-based (one UPDATE …
    FROM the day's snapshots); only rows whose AUM or date differ are written. Returns the rows changed."""
    if as_of is None:
        as_of = AssetSnapshot.objects.order_by("-date").values_list("date", flat=True).first()
        if as_of is None:
            return 0
    qn = connection.ops.quote_name
    c, a = qn(Customer._meta.db_table), qn(AssetSnapshot._meta.db_table)
    day = as_of if connection.vendor == "postgresql" else as_of.isoformat()
    where = (
        f"{c}.id = s.customer_id AND s.date = %s AND ({c}.aum_as_of IS NULL OR {c}.aum_as_of <= %s) "
        f"AND ({c}.aum <> s.aum OR {c}.aum_as_of IS NULL OR {c}.aum_as_of <> %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {c}, {a} s WHERE {where}", [day, day, day])  # noqa: S608 - _meta names
        count = cursor.fetchone()[0]
    if not count:
        return 0
    rebuild = plain_indexes_rebuilt(Customer) if count >= REFRESH_REBUILD_MIN else nullcontext()
    with rebuild, connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {c} SET aum = s.aum, aum_as_of = %s FROM {a} s WHERE {where}",  # noqa: S608 - _meta names
            [day, day, day, day],
        )
        return max(cursor.rowcount, 0)


def _in_range(segment: Segment) -> Q:
    q = Q(aum__gte=segment.aum_min)
    if segment.aum_max is not None:
        q &= Q(aum__lt=segment.aum_max)
    return q


def _record_changes(movers, to_segment_id: int | None, now: datetime) -> int:
    return insert_from_select(
        SegmentChange,
        ["customer", "from_segment", "aum", "to_segment", "changed_at"],
        movers.annotate(
            _to=Value(to_segment_id, output_field=IntegerField()),
            _at=Value(now, output_field=DateTimeField()),
        ).values_list("pk", "segment_id", "aum", "_to", "_at"),
    )


@transaction.atomic
def customers_recompute_tiers(*, now: datetime | None = None) -> dict:
    """Reassign every customer's tier from current AUM, in set-based SQL: per tier, one INSERT … SELECT into the
    tier history and one UPDATE (a handful of statements for the whole table, whatever its size)."""
    now = now or timezone.now()
    changed: dict[str, int] = {}
    segments = list(Segment.objects.all())
    no_tier = Customer.objects.exclude(segment=None)
    for segment in segments:
        no_tier = no_tier.exclude(_in_range(segment))
    moving = [(segment, Customer.objects.filter(_in_range(segment)).exclude(segment=segment)) for segment in segments]
    # The first tiering after a load of many customers moves most of them: the plain indexes are rebuilt after.
    many = sum(movers.count() for _segment, movers in moving) >= REFRESH_REBUILD_MIN
    with plain_indexes_rebuilt(Customer) if many else nullcontext():
        for segment, movers in moving:
            _record_changes(movers, segment.pk, now)
            changed[segment.code] = movers.update(segment=segment)
        _record_changes(no_tier, None, now)
        changed["none"] = no_tier.update(segment=None)
    return changed


def segments_install_defaults(SegmentModel=Segment) -> int:  # noqa: N803 - a model class (migrations pass theirs)
    """The default tiers, created when missing. Thresholds and policies are data, editable in admin."""
    defaults = [
        ("mass", "大众客户", "0", "50000", 365, "20000", 1, False),
        ("potential", "潜力客户", "50000", "500000", 180, "100000", 2, False),
        ("wealth", "财富客户", "500000", "6000000", 90, "300000", 3, True),
        ("private", "私行客户", "6000000", None, 30, "1000000", 4, True),
    ]
    created = 0
    fields = {f.name for f in SegmentModel._meta.get_fields()}
    for code, name, lo, hi, days, threshold, order, greet in defaults:
        extra = {"holiday_greetings": greet} if "holiday_greetings" in fields else {}
        _obj, was_created = SegmentModel.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "aum_min": Decimal(lo),
                "aum_max": Decimal(hi) if hi else None,
                "contact_policy_days": days,
                "large_movement_threshold": Decimal(threshold),
                "sort_order": order,
                **extra,
            },
        )
        created += was_created
    return created


def tags_get_or_create(names: Iterable[str | Tag]) -> list[Tag]:
    """Tags by name (created when new); Tag instances pass through."""
    out = []
    for item in names:
        if isinstance(item, Tag):
            out.append(item)
        elif str(item).strip():
            out.append(Tag.objects.get_or_create(name=str(item).strip()[:30])[0])
    return out
