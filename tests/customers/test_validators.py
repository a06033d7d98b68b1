"""Identifier validation: GB 11643-1999 resident ID, the 2023 foreign permanent resident ID card, GB 32100-2015
credit code, mainland mobile; and the plausibility rules of a customer's dates (birth date, risk assessment)."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from customers import validators

# Published samples: the resident ID examples of GB 11643-1999 (440524188001010014 is the standard's own worked
# example, born 1 January 1880) and a widely cited credit code from GB 32100.
KNOWN_VALID_IDS = ["11010519491231002X", "11010119900307299X", "440524188001010014"]
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
        ("110105209912310020", "id_birth_future"),  # born in the future
        ("991050194912310020", "id_region"),  # no such province
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


def test_the_standards_worked_example_born_in_1880_is_a_valid_number():
    # GB 11643-1999: the weighted sum of 44052418800101001 is 4×7 + 4×9 + 0×10 + 5×5 + 2×8 + 4×4 + 1×2 + 8×1 + 8×6
    # + 0×3 + 0×7 + 1×9 + 0×10 + 1×5 + 0×8 + 0×4 + 1×2 = 195; 195 mod 11 = 8, and the check character of 8 is "4".
    parsed = validators.parse_resident_id("440524188001010014")
    assert parsed.birth_date == date(1880, 1, 1) and parsed.gender == "M"  # 17th digit 1: odd
    assert validators.resident_id_check_char("44052418800101001") == "4"
    # The standard sets no earliest year: a number is not refused for its age (that is the customer form's rule).
    first17 = "11010518500101001"
    assert validators.parse_resident_id(first17 + validators.resident_id_check_char(first17)).birth_date.year == 1850


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


# The 2023 foreign permanent resident ID card: 9, the issuing province (11 Beijing), the nationality code (156), the
# birth date 19900101, the sequence 001 and the check character. The weighted sum of 91115619900101001 is 9×7 + 1×9
# + 1×10 + 1×5 + 5×8 + 6×4 + 1×2 + 9×1 + 9×6 + 0×3 + 0×7 + 1×9 + 0×10 + 1×5 + 0×8 + 0×4 + 1×2 = 232; 232 mod 11 = 1,
# and the check character of 1 is "0".
FOREIGN_PERMANENT = "911156199001010010"


def test_the_foreign_permanent_resident_id_is_checked_like_the_resident_id():
    assert validators.resident_id_check_char("91115619900101001") == "0"
    assert validators.validate_foreign_permanent(FOREIGN_PERMANENT) == FOREIGN_PERMANENT
    assert validators.validate_foreign_permanent(f" {FOREIGN_PERMANENT} ") == FOREIGN_PERMANENT
    assert validators.id_birth_date("foreign_permanent", FOREIGN_PERMANENT) == date(1990, 1, 1)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("911156199001010011", "id_check"),  # the check character changed
        ("911156199002300010", "id_birth"),  # 30 February
        ("811156199001010010", "fp_format"),  # does not begin with 9
        ("91115619900101001", "fp_format"),  # 17 characters
        ("", "fp_format"),
    ],
)
def test_invalid_foreign_permanent_ids_are_refused_with_a_reason(number, code):
    with pytest.raises(ValidationError) as exc:
        validators.validate_foreign_permanent(number)
    assert exc.value.code == code


def test_a_foreign_permanent_id_born_tomorrow_is_refused():
    first17 = "91115620261124001"
    number = first17 + validators.resident_id_check_char(first17)
    with pytest.raises(ValidationError) as exc:
        validators.validate_foreign_permanent(number, today=date(2026, 11, 23))
    assert exc.value.code == "id_birth_future"
    assert validators.validate_foreign_permanent(number, today=date(2026, 11, 24)) == number


def test_the_id_number_carries_a_birth_date_only_for_the_two_resident_cards():
    assert validators.id_birth_date("resident_id", "440524188001010014") == date(1880, 1, 1)
    assert validators.id_birth_date("passport", "E12345678") is None
    assert validators.id_birth_date("resident_id", "440524188001010015") is None  # invalid: its own error says why


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (date(1990, 3, 7), date(2026, 3, 6), 35),
        (date(1990, 3, 7), date(2026, 3, 7), 36),  # the birthday counts from its day
        (date(2000, 2, 29), date(2026, 2, 28), 25),
        (date(2000, 2, 29), date(2026, 3, 1), 26),
    ],
)
def test_age_in_whole_years(birth, today, age):
    assert validators.age_on(birth, today) == age


@pytest.mark.parametrize(
    ("birth", "code"),
    [
        (date(2026, 11, 24), "birth_future"),  # tomorrow
        (date(2030, 1, 1), "birth_future"),
        (date(9999, 12, 31), "birth_future"),
        (date(1905, 11, 22), "age_implausible"),  # 121 today
        (date(1880, 1, 1), "age_implausible"),
        (date(1, 1, 1), "age_implausible"),
    ],
)
def test_birth_dates_that_cannot_be_are_refused_with_their_own_reason(birth, code):
    with time_machine.travel(date(2026, 11, 23)), pytest.raises(ValidationError) as exc:
        validators.validate_birth_date(birth)
    assert exc.value.code == code


def test_a_birth_date_of_today_and_an_age_of_120_are_accepted():
    with time_machine.travel(date(2026, 11, 23)):
        assert validators.validate_birth_date(date(2026, 11, 23)) == date(2026, 11, 23)
        assert validators.validate_birth_date(date(1906, 11, 23)) == date(1906, 11, 23)  # 120 today


@pytest.mark.parametrize(
    ("assessed", "code"),
    [
        (date(2026, 11, 24), "risk_future"),  # tomorrow
        (date(2999, 1, 1), "risk_future"),
        (date(2016, 11, 22), "risk_too_old"),  # ten years and a day
        (date(1990, 1, 1), "risk_too_old"),
    ],
)
def test_risk_assessment_dates_that_cannot_be_are_refused(assessed, code):
    with time_machine.travel(date(2026, 11, 23)), pytest.raises(ValidationError) as exc:
        validators.validate_risk_assessed_on(assessed)
    assert exc.value.code == code


@pytest.mark.parametrize("assessed", [date(2026, 11, 23), date(2016, 11, 23)])
def test_a_risk_assessment_of_today_or_ten_years_ago_is_accepted(assessed):
    with time_machine.travel(date(2026, 11, 23)):
        assert validators.validate_risk_assessed_on(assessed) == assessed


def test_ten_years_before_29_february_is_28_february():
    with time_machine.travel(date(2028, 2, 29)):
        assert validators.validate_risk_assessed_on(date(2018, 2, 28)) == date(2018, 2, 28)
        with pytest.raises(ValidationError):
            validators.validate_risk_assessed_on(date(2018, 2, 27))
