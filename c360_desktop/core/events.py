"""The Kafka event envelope shared by every topic (see DESIGN.md, "Events and alerts")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

TOPICS = ("customer-interactions", "system-changes", "marketing-events", "sales-activities")


class EventEnvelope(BaseModel):
    """One event. Newer schema versions are accepted where the needed fields are present, so
    unknown extra fields are kept rather than refused."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event_id: UUID
    type: str = Field(min_length=1, max_length=100)
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    source: str = Field(min_length=1, max_length=200)
    customer_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone (UTC ISO 8601, e.g. 2026-01-31T14:05:00Z)")
        return value.astimezone(UTC)
