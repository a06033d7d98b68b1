"""Identifier validation: GB 11643-1999 resident ID, GB 32100-2015 credit code, mainland mobile."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from customers import validators

# Published samples: the resident ID example of GB 11643-1999 and a widely cited credit code from GB 32100.
KNOWN_VALID_IDS = ["11010519491231002X", "11010119900307299X"]
KNOWN_VALID_USCC = ["91350100M000100Y43", "914403001922038216"]


@pytest.mark.parametrize("number", KNOWN_VALID_IDS)
def test_valid_resident_ids(number):
    parsed = validators.parse_resident_id(number)
    assert parsed.number == number


def test_birth_date_and_gender_come_from_the_number():
    parsed = validators.parse_resident_id("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "F"  # 17th digit 2: even
    assert validators.parse_resident_id("11010119900307299X").gender == "M"  # 17th digit 9: odd


def test_lowercase_x_is_accepted_and_stored_uppercase():
    assert validators.parse_resident_id(" 11010519491231002x ").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "id_check"),  # last character changed
        ("11010519491231003X", "id_check"),  # a sequence digit changed
        ("110105194902310020", "id_birth"),  # 31 February
        ("110105209912310020", "id_birth"),  # born in the future
        ("991050194912310020", "id_region"),  # no such province
        ("110105189912310020", "id_birth"),  # before 1900: not plausible for a living customer
        ("11010519491231002", "id_format"),  # 17 characters
        ("1101051949123100X2", "id_format"),  # X not at the end
        ("ABCDEFGHIJKLMNOPQR", "id_format"),
        ("110105491231002", "legacy_id"),  # 15-digit legacy number
        ("", "id_format"),
    ],
)
def test_invalid_resident_ids_are_refused_with_a_reason(number, code):
    with pytest.raises(ValidationError) as exc:
        validators.parse_resident_id(number)
    assert exc.value.code == code


def test_a_birth_date_of_today_is_accepted_and_tomorrow_is_not():
    with time_machine.travel(date(2026, 11, 23)):
        first17 = "11010520261123001"
        today = first17 + validators.resident_id_check_char(first17)
        assert validators.parse_resident_id(today).birth_date == date(2026, 11, 23)
        first17 = "11010520261124001"
        with pytest.raises(ValidationError):
            validators.parse_resident_id(first17 + validators.resident_id_check_char(first17))


@pytest.mark.parametrize("code", KNOWN_VALID_USCC)
def test_valid_credit_codes(code):
    assert validators.validate_credit_code(code) == code


def test_credit_code_lowercase_is_normalised():
    assert validators.validate_credit_code("91350100m000100y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # 17 characters
        "9135010OM000100Y43",  # letter O is not in the alphabet
        "91350100M000I00Y43",  # letter I is not in the alphabet
        "91350100S000100Y43",  # nor S
        "913501000001000Z43",  # nor Z
        "",
    ],
)
def test_invalid_credit_codes(code):
    with pytest.raises(ValidationError):
        validators.validate_credit_code(code)


def test_the_check_uses_mod_31_and_letter_values_not_ord():
    # Y is worth 30 in the GB 32100 alphabet; an ord()-based implementation computes another check character.
    assert validators.USCC_ALPHABET.index("Y") == 30
    assert validators.uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("13800138000", "13800138000"), ("+86 139-1234-5678", "13912345678"), ("19912345678", "19912345678")],
)
def test_valid_mobiles(raw, normalised):
    assert validators.validate_mobile(raw) == normalised


@pytest.mark.parametrize("raw", ["12345678901", "1380013800", "138001380000", "0571-88888888", "abc"])
def test_invalid_mobiles(raw):
    with pytest.raises(ValidationError):
        validators.validate_mobile(raw)


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (validators.validate_passport, "E12345678", "E1"),
        (validators.validate_hk_macao_permit, "H12345678", "X12345678"),
        (validators.validate_taiwan_permit, "12345678", "1234567"),
    ],
)
def test_other_id_documents(validator, good, bad):
    assert validator(good) == good
    with pytest.raises(ValidationError):
        validator(bad)
