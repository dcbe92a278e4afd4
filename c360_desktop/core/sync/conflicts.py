"""The conflict inbox: fields changed here and centrally to different values, decided by a person."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from c360_desktop.core.profile.service import ProfileService
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.timestamps import db_now


@dataclass(frozen=True, slots=True)
class Conflict:
    seq: int
    entity: str
    entity_id: str
    label: str  # the customer's name, for people
    field: str
    base: Any
    mine: Any
    theirs: Any
    created_at: str


class ConflictInbox:
    def __init__(self, cache: Cache, profiles: ProfileService) -> None:
        self._cache, self._profiles = cache, profiles

    def open(self) -> list[Conflict]:
        rows = self._cache.reader().execute(
            """SELECT k.seq, k.entity, k.entity_id, coalesce(c.display_name, k.entity_id), k.field,
                      k.base, k.mine, k.theirs, k.created_at
               FROM sync_conflict k LEFT JOIN customer c ON k.entity = 'customer' AND c.id = k.entity_id
               WHERE k.resolved_at IS NULL ORDER BY k.seq""").fetchall()
        return [Conflict(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), json.loads(r[7]), r[8])
                for r in rows]

    def keep_theirs(self, seq: int) -> None:
        """The centre's value stands (the cache already holds it after the pull)."""
        self._resolve(seq, "theirs")

    def keep_mine(self, seq: int, author: str) -> None:
        """Send my value again, as an edit of the centre's current value."""
        conflict = next((c for c in self.open() if c.seq == seq), None)
        if conflict is None:
            raise LookupError(f"no open conflict {seq}")
        if conflict.entity != "customer":
            raise ValueError(f"conflicts on {conflict.entity} are not editable here")
        self._profiles.update_customer(conflict.entity_id, {conflict.field: conflict.mine}, author)
        self._resolve(seq, "mine")

    def _resolve(self, seq: int, how: str) -> None:
        with self._cache.writer() as conn:
            conn.execute("UPDATE sync_conflict SET resolved_at = ?, resolution = ? WHERE seq = ? "
                         "AND resolved_at IS NULL", (db_now(), how, seq))
