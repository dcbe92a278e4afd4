"""Domain models: validation messages name the field and the value; the event envelope."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from c360_desktop.core import models as m
from c360_desktop.core.events import EventEnvelope


def test_address_requires_street_town_parish_and_normalises_the_parish():
    a = m.Address(street="12 Hope Road", town="Papine", parish="St Andrew")
    assert a.parish == "JM-02"
    with pytest.raises(ValidationError) as err:
        m.Address(street=" ", town="Papine", parish="Narnia")
    text = str(err.value)
    assert "street" in text and "'Narnia' is not a Jamaican parish" in text


def test_contact_point_phone_is_stored_as_e164():
    c = m.ContactPoint(kind="phone", value="(876) 555 0123")
    assert c.value == "+18765550123"
    with pytest.raises(ValidationError, match="contact phone: '555' needs its area code|contact phone"):
        m.ContactPoint(kind="phone", value="555")


def test_transaction_money_is_decimal():
    t = m.TransactionData(id="t", customer_id="c", occurred_at=datetime(2026, 1, 1), amount="100",
                          gct="15", total="115.00")
    assert str(t.total) == "115.00"
    with pytest.raises(ValidationError, match="float"):
        m.TransactionData(id="t", customer_id="c", occurred_at=datetime(2026, 1, 1), amount=1.5,
                          gct="0", total="1.5")


def test_scores_keep_their_reasons_and_bands():
    s = m.LeadScore(model_version="v1", value=82, scored_at=datetime(2026, 1, 1), contributions=(
        m.FeatureContribution(feature="recency", contribution=-3.0),
        m.FeatureContribution(feature="complaints", contribution=11.0),
        m.FeatureContribution(feature="visits", contribution=2.0),
        m.FeatureContribution(feature="spend", contribution=18.0)))
    assert s.band == "hot"
    assert [c.feature for c in s.top_reasons(2)] == ["spend", "complaints"]
    with pytest.raises(ValidationError):
        m.ChurnPrediction(model_version="v1", value=1.2, scored_at=datetime(2026, 1, 1))


def test_event_envelope_accepts_newer_fields_and_needs_utc():
    e = EventEnvelope(event_id=uuid4(), type="social.mention", schema_version=3,
                      occurred_at="2026-11-28T10:00:00-05:00", source="listener",
                      payload={"text": "hi"}, extra_field_from_v3=True)
    assert e.occurred_at == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="time zone"):
        EventEnvelope(event_id=uuid4(), type="x", schema_version=1,
                      occurred_at="2026-11-28T10:00:00", source="s")
