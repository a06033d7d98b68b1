"""Validation of identifiers: GB 11643-1999 resident ID, GB 32100-2015 unified social credit code, mainland
mobile numbers, and the other ID documents. Each function returns the normalised value or raises a
ValidationError with a message for the form."""

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

    Legacy 15-digit numbers carry no check digit and were replaced by 2013: they are refused with a message
    asking for the 18-digit number. ``today`` (default: the local date) bounds the birth date; a loader checking a
    million numbers passes it once.
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
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("The birth date inside the ID number is not a real date."), code="id_birth") from None
    if birth > (today or timezone.localdate()) or birth.year < 1900:
        raise ValidationError(_("The birth date inside the ID number is not plausible."), code="id_birth")
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The ID number's check digit is wrong; please check the number for a typing error."), code="id_check"
        )
    return ResidentId(number=number, birth_date=birth, gender="M" if int(number[16]) % 2 else "F")


def validate_foreign_permanent(value: str) -> str:
    """The 2023 foreign permanent resident ID card (外国人永久居留身份证): 18 characters beginning with 9, laid out
    like the resident ID (birth date in digits 7-14) and checked with the GB 11643 algorithm."""
    number = (value or "").strip().upper()
    if not re.fullmatch(r"9\d{16}[\dX]", number):
        raise ValidationError(
            _("A foreign permanent resident ID number has 18 characters and begins with 9."), code="fp_format"
        )
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("The birth date inside the ID number is not a real date."), code="id_birth") from None
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The ID number's check digit is wrong; please check the number for a typing error."), code="id_check"
        )
    return number


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
