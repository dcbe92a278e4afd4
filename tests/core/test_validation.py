"""Jamaican validation: phones, TRNs, parishes, e-mails, money and GCT."""

from datetime import date
from decimal import Decimal

import pytest

from c360_desktop.core import jamaica
from c360_desktop.core import validation as v


@pytest.mark.parametrize("text", [
    "876-555-0123", "(876) 555 0123", "+18765550123", "8765550123", "1-876-555-0123",
    "+1 876 555 0123", "876.555.0123",
])
def test_phone_formats_normalise_to_e164(text):
    assert v.normalize_phone(text) == "+18765550123"


def test_658_overlay_numbers_are_accepted():
    assert v.normalize_phone("658-200-1234") == "+16582001234"
    assert v.phone_kind("+16582001234") == "mobile"


@pytest.mark.parametrize("text, reason", [
    ("555-0123", "area code"),
    ("", "empty"),
    ("hello", "not a phone number"),
    ("876-111-0123", "not a valid phone number"),
])
def test_bad_phones_name_the_field_and_value(text, reason):
    with pytest.raises(v.InvalidValue) as err:
        v.normalize_phone(text, field="mobile")
    assert reason in str(err.value)
    assert str(err.value).startswith("mobile: ")
    assert repr(text) in str(err.value)


def test_trn_format():
    assert v.normalize_trn("123-456-789") == "123456789"
    assert v.normalize_trn("123456789") == "123456789"
    assert v.format_trn("123456789") == "123-456-789"
    assert v.mask_trn("123456789") == "***-***-789"
    for bad in ("12345678", "1234567890", "12a-456-789"):
        with pytest.raises(v.InvalidValue, match="TRN"):
            v.normalize_trn(bad)


@pytest.mark.parametrize("text, code", [
    ("St Andrew", "JM-02"), ("St. Andrew", "JM-02"), ("Saint Andrew", "JM-02"),
    ("saint  andrew", "JM-02"), ("ST. CATHERINE", "JM-14"), ("Kingston", "JM-01"),
    ("JM-12", "JM-12"), ("Manchester", "JM-12"), ("St Ann", "JM-06"), ("St. Ann's", None),
])
def test_parish_aliases(text, code):
    assert jamaica.parish_code(text) == code


def test_unknown_parish_message():
    with pytest.raises(v.InvalidValue, match="'Middlesex' is not a Jamaican parish"):
        v.normalize_parish("Middlesex", "parish")


def test_money_is_decimal_never_float():
    assert v.to_money("J$1,234.5") == Decimal("1234.50")
    assert v.to_money(100) == Decimal("100.00")
    with pytest.raises(v.InvalidValue, match="float"):
        v.to_money(12.5)
    with pytest.raises(v.InvalidValue, match="not an amount"):
        v.to_money("twelve")
    assert v.format_jmd(123456789) == "J$1,234,567.89"


def test_gct_rate_by_transaction_date():
    assert v.gct_rate(date(2020, 3, 31)) == Decimal("0.165")
    assert v.gct_rate(date(2020, 4, 1)) == Decimal("0.15")


def test_reference_data_is_complete():
    parishes = jamaica.parishes()
    assert [p.code for p in parishes] == [f"JM-{i:02d}" for i in range(1, 15)]
    assert {t.parish_code for t in jamaica.towns()} == {p.code for p in parishes}
