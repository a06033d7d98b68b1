"""Validation of identifiers: GB 11643-1999 resident ID, the 2023 foreign permanent resident ID card, GB 32100-2015
unified social credit code, mainland mobile numbers, and the other ID documents; and the plausibility of the dates
a customer's record holds (birth date, risk assessment). Each function returns the normalised value or raises a
ValidationError with a message for the form.

An identifier is checked by its standard only: a resident ID number of someone born in 1880 is a valid number
(GB 11643-1999's own example, 440524188001010014). Whether such a person can be a customer today is a separate rule
of the customer form (``validate_birth_date``: an age over ``MAX_AGE`` years), with its own message."""

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# GB 11643-1999: weights of the first 17 digits; the sum mod 11 indexes the check characters.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# First two digits: province-level codes (GB/T 2260), plus 71 Taiwan, 81 Hong Kong, 82 Macao and 83 for the
# residence permits of Taiwan residents.
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
}  # fmt: skip

# GB 32100-2015: 31 symbols (no I, O, S, V, Z), weights of the first 17 characters.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_RE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,17}$")
HK_MACAO_PERMIT_RE = re.compile(r"^[HM]\d{8}(\d{2})?$")
TAIWAN_PERMIT_RE = re.compile(r"^\d{8}(\d{2})?$")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    gender: str  # "M" or "F"


def resident_id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def parse_resident_id(value: str, today: date | None = None) -> ResidentId:
    """Validate an 18-digit resident ID number. Lowercase x is accepted and stored uppercase.

    GB 11643-1999: a 6-digit address code (its first two digits a province-level code), the 8-digit birth date (a
    real calendar date, not after ``today``), a 3-digit sequence code (its last digit odd for men, even for women)
    and the ISO 7064 MOD 11-2 check character. Legacy 15-digit numbers carry no check digit and were replaced by
    2013: they are refused with a message asking for the 18-digit number. ``today`` (default: the local date)
    bounds the birth date; a loader checking a million numbers passes it once.
    """
    number = (value or "").strip().upper()
    if re.fullmatch(r"\d{15}", number):
        raise ValidationError(
            _("15-digit ID numbers are no longer valid. Please enter the 18-digit resident ID number."),
            code="legacy_id",
        )
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError(_("A resident ID number has 17 digits followed by a digit or X."), code="id_format")
    if number[:2] not in PROVINCES:
        raise ValidationError(_("The ID number does not start with a valid region code."), code="id_region")
    birth = _birth_date_of(number, today)
    _check_digit(number)
    return ResidentId(number=number, birth_date=birth, gender="M" if int(number[16]) % 2 else "F")


def _birth_date_of(number: str, today: date | None) -> date:
    """Digits 7-14 of an 18-character ID number: a real calendar date, not after ``today``. GB 11643-1999 sets no
    earliest year (its own example is born in 1880)."""
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("The birth date inside the ID number is not a real date."), code="id_birth") from None
    if birth > (today or timezone.localdate()):
        raise ValidationError(_("The birth date inside the ID number is in the future."), code="id_birth_future")
    return birth


def _check_digit(number: str) -> None:
    """ISO 7064 MOD 11-2 over the first 17 digits, as GB 11643-1999 specifies."""
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The ID number's check digit is wrong; please check the number for a typing error."), code="id_check"
        )


def validate_foreign_permanent(value: str, today: date | None = None) -> str:
    """The 2023 foreign permanent resident ID card (外国人永久居留身份证): 18 characters beginning with 9 (then the
    issuing province's code and the 3-digit nationality code), laid out like the resident ID — the birth date in
    digits 7-14, a real date not after ``today`` — and ending with the same ISO 7064 MOD 11-2 check character."""
    number = (value or "").strip().upper()
    if not re.fullmatch(r"9\d{16}[\dX]", number):
        raise ValidationError(
            _("A foreign permanent resident ID number has 18 characters and begins with 9."), code="fp_format"
        )
    _birth_date_of(number, today)
    _check_digit(number)
    return number


def id_birth_date(id_type: str, value: str) -> date | None:
    """The birth date an ID number carries (a resident ID or a foreign permanent resident ID), or None for another
    document or a number that is not valid (its own validation says why)."""
    try:
        if id_type == "resident_id":
            return parse_resident_id(value).birth_date
        if id_type == "foreign_permanent":
            return _birth_date_of(validate_foreign_permanent(value), None)
    except ValidationError:
        return None
    return None


# The plausibility of a customer's dates: rules of the customer form, not of the identifiers.
MAX_AGE = 120  # years: an older customer is a typing error (the oldest documented person lived to 122)
RISK_ASSESSMENT_MAX_YEARS = 10  # an assessment is valid for a year; one older than this is a typing error


def age_on(birth_date: date, today: date) -> int:
    """Whole years from ``birth_date`` to ``today`` (the birthday counts from its day)."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def validate_birth_date(value: date, today: date | None = None) -> date:
    """A birth date not after today and no more than MAX_AGE years ago."""
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError(_("The birth date cannot be in the future."), code="birth_future")
    if age_on(value, today) > MAX_AGE:
        raise ValidationError(
            _("That makes the customer older than %(max)s years; please check the birth date."),
            code="age_implausible",
            params={"max": MAX_AGE},
        )
    return value


def validate_risk_assessed_on(value: date, today: date | None = None) -> date:
    """The date of a risk assessment: today or earlier (a later date would extend its validity), and no more
    than RISK_ASSESSMENT_MAX_YEARS years ago."""
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError(_("The risk assessment date cannot be in the future."), code="risk_future")
    try:
        oldest = today.replace(year=today.year - RISK_ASSESSMENT_MAX_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - RISK_ASSESSMENT_MAX_YEARS, day=28)
    if value < oldest:
        raise ValidationError(
            _("A risk assessment more than %(years)s years old cannot be recorded; assess the customer again."),
            code="risk_too_old",
            params={"years": RISK_ASSESSMENT_MAX_YEARS},
        )
    return value


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    code = (value or "").strip().upper()
    if not USCC_RE.fullmatch(code):
        raise ValidationError(
            _("A unified social credit code has 18 characters: digits and capital letters except I, O, S, V and Z."),
            code="uscc_format",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The credit code's check character is wrong; please check it for a typing error."), code="uscc_check"
        )
    return code


def validate_mobile(value: str) -> str:
    number = re.sub(r"[\s-]", "", value or "")
    if number.startswith("+86"):
        number = number[3:]
    if not MOBILE_RE.fullmatch(number):
        raise ValidationError(
            _("Enter a mainland mobile number: 11 digits starting with 13 to 19."), code="mobile_format"
        )
    return number


def validate_passport(value: str) -> str:
    number = (value or "").strip().upper()
    if not PASSPORT_RE.fullmatch(number):
        raise ValidationError(_("A passport number has 5 to 17 letters and digits."), code="passport_format")
    return number


def validate_hk_macao_permit(value: str) -> str:
    number = (value or "").strip().upper()
    if not HK_MACAO_PERMIT_RE.fullmatch(number):
        raise ValidationError(
            _("A Hong Kong/Macao permit number is H or M followed by 8 or 10 digits."), code="hkm_format"
        )
    return number


def validate_taiwan_permit(value: str) -> str:
    number = (value or "").strip().upper()
    if not TAIWAN_PERMIT_RE.fullmatch(number):
        raise ValidationError(_("A Taiwan permit number has 8 or 10 digits."), code="tw_format")
    return number
