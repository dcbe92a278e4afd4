"""Validation and normalisation of Jamaican contact data: phones, TRNs, parishes, money, addresses.

Each function either returns the canonical form or raises ``InvalidValue``, whose message names
the field and the offending value, so callers can show it as is.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from c360_desktop.core import jamaica

JAMAICA_AREA_CODES = ("876", "658")
CENTS = Decimal("0.01")
# GCT (General Consumption Tax): 16.5% until 31 March 2020, 15% from 1 April 2020.
_GCT_RATES: tuple[tuple[date, Decimal], ...] = (
    (date(2020, 4, 1), Decimal("0.15")),
    (date(1900, 1, 1), Decimal("0.165")),
)


class InvalidValue(ValueError):
    """A value that fails validation; the message names the field and the value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field}: {value!r} {reason}")
        self.field = field
        self.value = value
        self.reason = reason


def normalize_phone(value: str, field: str = "phone", region: str = "JM") -> str:
    """A phone number written any common way, as E.164 ("+18765550123")."""
    text = (value or "").strip()
    if not text:
        raise InvalidValue(field, value, "is empty")
    digits = re.sub(r"\D", "", text)
    if region == "JM" and len(digits) == 7 and not text.startswith("+"):
        raise InvalidValue(field, value, "needs its area code (876 or 658)")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidValue(field, value, f"is not a phone number ({exc.args[0]})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(field, value, "is not a valid phone number for its country")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_kind(e164: str) -> str:
    """'mobile', 'fixed' or 'unknown' for a number in E.164."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    if kind == PhoneNumberType.MOBILE:
        return "mobile"
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return "fixed"
    return "unknown"


def format_phone(e164: str) -> str:
    """A stored E.164 number as people write it locally: (876) 555-0123."""
    if e164.startswith("+1") and len(e164) == 12:
        d = e164[2:]
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"
    return e164


def normalize_trn(value: str, field: str = "trn") -> str:
    """A TRN as its 9 digits. No public check-digit algorithm exists, so only the format is checked."""
    text = (value or "").strip()
    if not re.fullmatch(r"\d{3}[- ]?\d{3}[- ]?\d{3}", text):
        raise InvalidValue(field, value, "is not a TRN (9 digits, written NNN-NNN-NNN)")
    return re.sub(r"\D", "", text)


def format_trn(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if len(digits) == 9 else digits


def mask_trn(digits: str) -> str:
    """A TRN with all but the last three digits hidden, for roles that may not see it."""
    return f"***-***-{digits[-3:]}" if len(digits) == 9 else "***"


def normalize_parish(value: str, field: str = "parish") -> str:
    code = jamaica.parish_code(value)
    if code is None:
        raise InvalidValue(field, value, "is not a Jamaican parish (e.g. 'St. Andrew' or 'JM-02')")
    return code


def normalize_email(value: str, field: str = "email") -> str:
    text = (value or "").strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", text):
        raise InvalidValue(field, value, "is not an e-mail address")
    return text


def to_money(value: object, field: str = "amount") -> Decimal:
    """A JMD amount as a Decimal with two places. Floats are refused: they cannot hold cents exactly."""
    if isinstance(value, float):
        raise InvalidValue(field, value, "is a float; pass a Decimal, a string or integer cents")
    try:
        amount = Decimal(str(value).replace(",", "").replace("J$", "").replace("$", "").strip())
    except InvalidOperation:
        raise InvalidValue(field, value, "is not an amount of money") from None
    if not amount.is_finite():
        raise InvalidValue(field, value, "is not a finite amount")
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


def cents_to_money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENTS)


def format_jmd(cents: int | None) -> str:
    if cents is None:
        return "—"
    return f"J${cents_to_money(cents):,.2f}"


def gct_rate(on: date) -> Decimal:
    """The GCT rate in force on a date."""
    for start, rate in _GCT_RATES:
        if on >= start:
            return rate
    return _GCT_RATES[-1][1]
