"""customer_create / customer_update / customer_reveal: identifiers, derived fields, duplicates, history."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from customers import pii, services
from customers.models import AccessLog, Customer
from tests.factories import CorporateCustomerFactory, CustomerFactory

pytestmark = pytest.mark.django_db
ID = "11010519491231002X"


def create(org, **kw):
    defaults = {"actor": org.rm_west.user, "kind": Customer.Kind.INDIVIDUAL, "name": "张三", "branch": org.west_outlet}
    defaults.update(kw)
    return services.customer_create(primary_rm=org.rm_west, **defaults)


def test_an_individual_is_stored_with_protected_identifiers(org):
    c = create(org, id_type="resident_id", id_number=ID.lower(), mobile="138 0013 8000")
    c.refresh_from_db()
    assert c.id_number_masked == "110***********002X" and c.mobile_masked == "138****8000"
    assert ID not in c.id_number_enc and "13800138000" not in c.mobile_enc  # stored encrypted
    assert c.reveal("id_number") == ID and c.reveal("mobile") == "13800138000"
    assert c.id_last4 == "002X"
    assert c.id_number_hash == pii.search_hash("resident_id", ID)
    assert (c.birth_date, c.gender) == (date(1949, 12, 31), "F")  # derived from the ID number
    assert c.customer_no == f"P{c.pk:011d}" and c.created_by == org.rm_west.user
    assert c.segment.code == "mass"


def test_birth_date_and_gender_must_agree_with_the_id(org):
    with pytest.raises(ValidationError) as exc:
        create(org, id_type="resident_id", id_number=ID, birth_date=date(1950, 1, 1), gender="M")
    assert {"birth_date", "gender"} <= set(exc.value.message_dict)
    assert not Customer.objects.exists()


def test_a_known_id_number_is_refused_with_a_pointer_to_the_customer(org):
    first = create(org, id_type="resident_id", id_number=ID)
    with pytest.raises(services.DuplicateIdentifier) as exc:
        create(org, name="李四", id_type="resident_id", id_number=ID.lower())
    assert exc.value.existing == first
    assert first.customer_no in exc.value.message_dict["id_number"][0]
    assert Customer.objects.count() == 1


def test_a_known_credit_code_is_refused(org):
    CorporateCustomerFactory(primary_rm=org.rm_west, credit_code="91350100M000100Y43")
    with pytest.raises(services.DuplicateIdentifier):
        CorporateCustomerFactory(primary_rm=org.rm_west, credit_code="91350100m000100y43")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id_type": "resident_id", "id_number": "110105194912310021"}, "id_number"),
        ({"id_type": "", "id_number": ID}, "id_type"),
        ({"mobile": "12345"}, "mobile"),
        ({"id_type": "passport", "id_number": "E1"}, "id_number"),
    ],
)
def test_invalid_identifiers_are_field_errors(org, fields, field):
    with pytest.raises(ValidationError) as exc:
        create(org, **fields)
    assert field in exc.value.message_dict


def test_corporate_fields_do_not_apply_to_individuals(org):
    with pytest.raises(ValidationError):
        create(org, credit_code="91350100M000100Y43")


def test_the_rm_must_be_an_active_rm(org):
    with pytest.raises(ValidationError) as exc:
        services.customer_create(
            actor=org.admin.user, kind="individual", name="王五", branch=org.west_outlet, primary_rm=org.west_head
        )
    assert "primary_rm" in exc.value.message_dict


def test_update_keeps_identifiers_unless_given_and_records_who_changed_what(org):
    c = create(org, id_type="resident_id", id_number=ID, mobile="13800138000")
    services.customer_update(
        actor=org.west_head.user, customer=c, name="张三丰", mobile=services.UNCHANGED, occupation="教师"
    )
    c.refresh_from_db()
    assert c.name == "张三丰" and c.reveal("mobile") == "13800138000" and c.reveal("id_number") == ID
    latest = c.history.first()
    assert latest.history_user == org.west_head.user and latest.name == "张三丰"
    assert c.updated_by == org.west_head.user
    services.customer_update(actor=org.west_head.user, customer=c, mobile="13911112222")
    c.refresh_from_db()
    assert c.mobile_masked == "139****2222"


def test_risk_assessment_expires_after_the_configured_validity(org, settings):
    settings.RISK_ASSESSMENT_VALID_DAYS = 365
    with time_machine.travel(date(2026, 1, 10)):
        c = create(org, risk_level="C3", risk_assessed_on=date(2026, 1, 10))
        assert c.risk_expires_on == date(2027, 1, 10) and not c.risk_expired
    with time_machine.travel(date(2027, 1, 11)):
        assert c.risk_expired


def test_reveal_is_logged_with_reason_and_without_the_value(org):
    c = CustomerFactory(primary_rm=org.rm_west, mobile="13800138000")
    value = services.customer_reveal(
        actor=org.rm_west.user, customer=c, field="mobile", reason="联系客户", ip_address="10.1.2.3"
    )
    assert value == "13800138000"
    log = AccessLog.objects.get()
    assert (log.user, log.customer, log.field, log.reason, log.action) == (
        org.rm_west.user,
        c,
        "mobile",
        "联系客户",
        "reveal",
    )
    assert log.staff_name == org.rm_west.name and log.ip_address == "10.1.2.3"
    assert "13800138000" not in str(log.__dict__)


def test_reveal_needs_a_reason_and_a_role_that_may(org):
    c = CustomerFactory(primary_rm=org.rm_west)
    with pytest.raises(ValidationError):
        services.customer_reveal(actor=org.rm_west.user, customer=c, field="mobile", reason=" ")
    with pytest.raises(PermissionDenied):
        services.customer_reveal(actor=org.west_officer.user, customer=c, field="id_number", reason="投诉处理")
    assert not AccessLog.objects.exists()


def test_asset_snapshot_updates_current_aum_and_tier(org):
    c = CustomerFactory(primary_rm=org.rm_west, aum=Decimal("1000"))
    services.asset_snapshot_record(customer=c, on=date(2026, 11, 20), aum=Decimal("600000.00"))
    c.refresh_from_db()
    assert c.aum == Decimal("600000.00") and c.segment.code == "wealth" and c.aum_as_of == date(2026, 11, 20)
    assert c.segment_changes.get().to_segment.code == "wealth"
    services.asset_snapshot_record(customer=c, on=date(2026, 11, 1), aum=Decimal("5.00"))  # older: no effect
    c.refresh_from_db()
    assert c.aum == Decimal("600000.00")


def test_a_stored_resident_id_keeps_deciding_birth_date_and_gender(org):
    c = create(org, id_type="resident_id", id_number=ID)
    services.customer_update(
        actor=org.rm_west.user, customer=c, id_number=services.UNCHANGED, birth_date=None, gender=""
    )
    c.refresh_from_db()
    assert (c.birth_date, c.gender) == (date(1949, 12, 31), "F")  # an empty form field does not clear them
    with pytest.raises(ValidationError) as exc:
        services.customer_update(actor=org.rm_west.user, customer=c, id_number=services.UNCHANGED, gender="M")
    assert "gender" in exc.value.message_dict


def test_the_history_never_shows_a_temporary_customer_number(org):
    c = create(org)
    assert list(c.history.values_list("customer_no", flat=True)) == [c.customer_no]
