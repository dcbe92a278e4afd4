"""The one way the cache writes a moment: UTC text ``YYYY-MM-DD HH:MM:SS`` (sortable, SQLite's own)."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%d %H:%M:%S"


def db_time(moment: datetime) -> str:
    """A moment as the cache stores it; an aware time is converted to UTC, a naive one is taken as UTC."""
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime(FORMAT)


def db_now() -> str:
    """Now, as the cache stores it."""
    return db_time(datetime.now(UTC))
