"""ReviewService: what the identity review pane asks of the cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from c360_desktop.core.identity.review import (
    ReviewPair,
    build_queue,
    decide,
    pending,
    remaining,
    side_by_side,
    undo_last,
)
from c360_desktop.core.progress import Progress
from c360_desktop.core.storage.cache import Cache


class ReviewService:
    def __init__(self, cache: Cache, user: Callable[[], Any] | None = None) -> None:
        self._cache = cache
        self._user = user  # who decides (a security.User); None: unchecked (the core's own use)

    def _may_merge(self, action: str) -> None:
        if self._user is not None:
            from c360_desktop.core.audit.log import require
            from c360_desktop.core.security import Permission

            require(self._cache, self._user(), Permission.MERGE, action)

    def next_pair(self) -> tuple[ReviewPair | None, int]:
        """The most valuable pair to decide next, and how many are left."""
        conn = self._cache.reader()
        found = pending(conn, 1)
        return (found[0] if found else None), remaining(conn)

    def side_by_side(self, a: str, b: str) -> list[tuple[str, str, str]]:
        """The two customers' fields in rows, for comparing (KeyError: one is gone)."""
        return side_by_side(self._cache.reader(), a, b)

    def build_queue(self, progress: Progress | None = None) -> int:
        """Resolve the customers and refill the queue with undecided uncertain pairs; how many."""
        return build_queue(self._cache, progress=progress)

    def decide(self, pair_id: int, decision: str, user: str, settings: Any = None) -> str | None:
        """Record a match / no-match / skip; a match merges the two (returns the ledger id)."""
        self._may_merge("identity_review")
        if decision == "match" and self._user is not None:
            from c360_desktop.core.security import require_fresh

            require_fresh(self._user(), "Merging customers")
        return decide(self._cache, pair_id, decision, user, settings)

    def undo_last(self, user: str) -> int | None:
        """Take back the latest decision; returns its pair id."""
        self._may_merge("identity_review.undo")
        return undo_last(self._cache, user)
