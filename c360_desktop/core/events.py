"""Kafka events: the envelope shared by every topic and the versioned payload of each event type
(see DESIGN.md, "Events and alerts").

Version policy. Every event type has a current ``schema_version``. An event of that version or
older is read with the current payload model (fields added later have defaults); an event of a
newer version is read too, as long as the fields this app needs are present and well-typed: extra
fields are kept, never refused. Anything else (bad JSON, wrong types, missing fields, unknown
types, oversized messages) raises ``BadEvent`` with a reason that names the field, so the listener
can put it in the dead-letter table and carry on.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, field_validator

TOPICS = ("customer-interactions", "system-changes", "marketing-events", "sales-activities")
MAX_MESSAGE_BYTES = 1_048_576  # larger messages are dead-lettered unread
CID_HEADER = "c360-correlation-id"
"""The Kafka message header that carries the sender's correlation id (``core.logs``)."""


class BadEvent(ValueError):
    """A message that cannot be used; the text says why and where, for the dead-letter table."""


class EventEnvelope(BaseModel):
    """One event. Newer schema versions are accepted where the needed fields are present, so
    unknown extra fields are kept rather than refused."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event_id: uuid.UUID
    type: str = Field(min_length=1, max_length=100)
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    source: str = Field(min_length=1, max_length=200)
    customer_id: str | None = Field(default=None, max_length=36)
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone (UTC ISO 8601, e.g. 2026-01-31T14:05:00Z)")
        return value.astimezone(UTC)


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


Sentiment = Field(default=None, ge=-1.0, le=1.0)


class InteractionLogged(Payload):
    channel: Literal["phone", "email", "visit", "whatsapp", "sms", "web", "store", "social"]
    direction: Literal["inbound", "outbound"] = "inbound"
    sentiment: float | None = Sentiment
    complaint: bool = False
    competitor: str | None = Field(default=None, max_length=100)
    text: str | None = Field(default=None, max_length=10_000)


class SocialMention(Payload):
    platform: str = Field(min_length=1, max_length=30)
    handle: str | None = Field(default=None, max_length=100)
    text: str = Field(max_length=10_000)
    sentiment: float | None = Sentiment
    complaint: bool = False
    competitor: str | None = Field(default=None, max_length=100)
    reach: int = Field(default=0, ge=0)


class TicketOpened(Payload):
    ticket_id: str = Field(min_length=1, max_length=50)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    subject: str = Field(default="", max_length=500)


class OrderPlaced(Payload):
    order_id: str = Field(min_length=1, max_length=50)
    amount: Decimal = Field(ge=0, max_digits=15, decimal_places=2)
    currency: str = Field(default="JMD", pattern=r"^[A-Z]{3}$")


class LeadScoreChanged(Payload):
    lead_id: str = Field(min_length=1, max_length=36)
    old_score: float = Field(ge=0, le=100)
    new_score: float = Field(ge=0, le=100)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def jump(self) -> float:
        return self.new_score - self.old_score


class ActivityLogged(Payload):
    kind: Literal["call", "email", "meeting", "visit"]
    outcome: str | None = Field(default=None, max_length=50)
    rep_id: str | None = Field(default=None, max_length=36)


class CampaignSpend(Payload):
    campaign_id: str = Field(min_length=1, max_length=36)
    campaign_name: str = Field(default="", max_length=200)
    spend_to_date: Decimal = Field(ge=0, max_digits=15, decimal_places=2)
    budget: Decimal = Field(gt=0, max_digits=15, decimal_places=2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def budget_used(self) -> float:
        """Spend as a fraction of budget (1.0 = all of it)."""
        return float(self.spend_to_date / self.budget)


class CampaignResponse(Payload):
    campaign_id: str = Field(min_length=1, max_length=36)
    response: Literal["open", "click", "reply", "unsubscribe", "convert"]


class RowsChanged(Payload):
    table: str = Field(min_length=1, max_length=50)
    ids: list[str] = Field(default_factory=list, max_length=10_000)
    row_version: int = Field(ge=0)

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        from c360_desktop.core.storage.schema import SYNCED_TABLES

        if value not in SYNCED_TABLES:
            raise ValueError(f"{value!r} is not a synchronised table")
        return value


class EventType(BaseModel):
    name: str
    topic: str
    version: int
    payload: type[Payload]
    label: str


EVENT_TYPES: dict[str, EventType] = {t.name: t for t in (
    EventType(name="interaction.logged", topic="customer-interactions", version=1, payload=InteractionLogged,
              label="Interaction logged"),
    EventType(name="social.mention", topic="customer-interactions", version=1, payload=SocialMention,
              label="Social media mention"),
    EventType(name="support.ticket_opened", topic="customer-interactions", version=1, payload=TicketOpened,
              label="Support ticket opened"),
    EventType(name="order.placed", topic="sales-activities", version=1, payload=OrderPlaced,
              label="Order placed"),
    EventType(name="lead.score_changed", topic="sales-activities", version=1, payload=LeadScoreChanged,
              label="Lead score changed"),
    EventType(name="activity.logged", topic="sales-activities", version=1, payload=ActivityLogged,
              label="Sales activity logged"),
    EventType(name="campaign.spend", topic="marketing-events", version=1, payload=CampaignSpend,
              label="Campaign spend"),
    EventType(name="campaign.response", topic="marketing-events", version=1, payload=CampaignResponse,
              label="Campaign response"),
    EventType(name="rows.changed", topic="system-changes", version=1, payload=RowsChanged,
              label="Central rows changed"),
)}


def payload_fields(event_type: str) -> dict[str, Any]:
    """Field name -> annotation of an event type's payload, computed fields included."""
    model = EVENT_TYPES[event_type].payload
    fields: dict[str, Any] = {name: f.annotation for name, f in model.model_fields.items()}
    fields.update({name: f.return_type for name, f in model.model_computed_fields.items()})
    return fields


class Event(BaseModel):
    """A decoded, validated event: the envelope and its typed payload."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    envelope: EventEnvelope
    data: Payload

    @property
    def event_id(self) -> str:
        return str(self.envelope.event_id)

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def customer_id(self) -> str | None:
        return self.envelope.customer_id


def _where(err: Any, prefix: str = "") -> str:
    loc = ".".join(str(p) for p in err["loc"]) or "(message)"
    return f"{prefix}{loc}: {str(err['msg']).removeprefix('Value error, ')}"


def decode(topic: str, value: bytes | str | None) -> Event:
    """Parse and validate one message from ``topic``; raises BadEvent naming what is wrong."""
    if value is None:
        raise BadEvent("empty message (no value)")
    size = len(value)
    if size > MAX_MESSAGE_BYTES:
        raise BadEvent(f"message of {size:,} bytes exceeds the {MAX_MESSAGE_BYTES:,}-byte limit")
    try:
        envelope = EventEnvelope.model_validate_json(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise BadEvent(f"not valid JSON: {str(errors[0]['msg']).removeprefix('Invalid JSON: ')}") from None
        if errors and errors[0]["type"] == "model_type":
            raise BadEvent("not a JSON object") from None
        raise BadEvent("; ".join(_where(e) for e in errors[:5])) from None
    kind = EVENT_TYPES.get(envelope.type)
    if kind is None:
        raise BadEvent(f"type: unknown event type {envelope.type!r} (schema_version {envelope.schema_version})")
    if kind.topic != topic:
        raise BadEvent(f"type: {envelope.type!r} belongs on topic {kind.topic!r}, not {topic!r}")
    try:
        data = kind.payload.model_validate(envelope.payload)
    except ValidationError as exc:
        newer = (f" (schema_version {envelope.schema_version} is newer than this app reads, "
                 f"{kind.version}, and lacks what it needs)") if envelope.schema_version > kind.version else ""
        raise BadEvent("; ".join(_where(e, "payload.") for e in exc.errors(include_url=False)[:5]) + newer) from None
    return Event(envelope=envelope, data=data)


def make_event(event_type: str, payload: dict[str, Any], customer_id: str | None = None,
               source: str = "c360", occurred_at: datetime | None = None,
               event_id: uuid.UUID | None = None) -> dict[str, Any]:
    """An envelope as a JSON-ready dict, for producers (the simulator, the change publisher, tests)."""
    kind = EVENT_TYPES[event_type]
    kind.payload.model_validate(payload)  # a producer bug should fail here, not in every desktop
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "type": event_type,
        "schema_version": kind.version,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "source": source,
        "customer_id": customer_id,
        "payload": payload,
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), default=str).encode()
