"""ReviewService: what the identity review pane asks of the cache."""

from __future__ import annotations

from c360_desktop.core.identity.review import ReviewPair, pending, remaining, side_by_side
from c360_desktop.core.storage.cache import Cache


class ReviewService:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def next_pair(self) -> tuple[ReviewPair | None, int]:
        """The most valuable pair to decide next, and how many are left."""
        conn = self._cache.reader()
        found = pending(conn, 1)
        return (found[0] if found else None), remaining(conn)

    def side_by_side(self, a: str, b: str) -> list[tuple[str, str, str]]:
        """The two customers' fields in rows, for comparing (KeyError: one is gone)."""
        return side_by_side(self._cache.reader(), a, b)
