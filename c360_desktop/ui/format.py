"""Display formatting shared by panes: local time, parishes, phones, money, masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from c360_desktop.core import jamaica
from c360_desktop.core.validation import format_jmd, format_phone, format_trn

JAMAICA = timezone(timedelta(hours=-5), "America/Jamaica")  # no daylight saving
# Consent and marketing channels as a label (a column, a list entry)
CONSENT_CHANNEL_LABELS = {"email": "E-mail", "sms": "SMS", "whatsapp": "WhatsApp", "phone": "Phone calls"}
__all__ = ["CONSENT_CHANNEL_LABELS", "JAMAICA", "format_jmd", "format_phone", "local_date", "local_datetime", "parish_name",
           "trn_text"]


def _as_utc(value: str | datetime) -> datetime:
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def local_datetime(value: str | datetime | None) -> str:
    return _as_utc(value).astimezone(JAMAICA).strftime("%d %b %Y %H:%M") if value else "—"


def local_date(value: str | datetime | None) -> str:
    return _as_utc(value).astimezone(JAMAICA).strftime("%d %b %Y") if value else "—"


def parish_name(code: str | None) -> str:
    return jamaica.parish_name(code) or "—"


def trn_text(trn: str | None) -> str:
    """A TRN as 123-456-789; one the service masked (security.redact) as it came."""
    if not trn:
        return "—"
    return trn if "*" in trn else format_trn(trn)


# A green/amber/red status (health checks, data-quality rules): its colour and its word.
STATUS_COLOURS = {"green": "#2e7d32", "amber": "#e69500", "red": "#c62828"}
STATUS_WORDS = {"green": "OK", "amber": "Look", "red": "Problem"}
