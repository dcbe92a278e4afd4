"""Pushing local changes (the outbox) to the central database: exactly once, never overwriting.

Each outbox entry is applied in one central transaction together with its idempotency key in
``applied_change``; a replay finds the key and only marks the entry as pushed. Updates carry the
row version they were made against. If the centre has moved on, the edit is merged field by
field against the values it was made from (its base): a field the centre did not change takes
the local value; a field both sides changed to the same value needs nothing; a field both sides
changed differently becomes a conflict in the local inbox, and the centre keeps its value until
the user decides. Nothing is ever silently overwritten.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import column, insert, select, table, update

from c360_desktop.core.privacy import erasure
from c360_desktop.core.progress import Progress
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.sync.central import Central, Duplicate, SyncError, sync_columns
from c360_desktop.core.timestamps import db_now

log = logging.getLogger(__name__)

_RETRIES = 3


@dataclass
class PushResult:
    applied: int = 0
    already_applied: int = 0
    merged: int = 0
    dropped: int = 0  # changes to people erased at the centre meanwhile: nothing left to apply them to
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # (entity, id, field)

    @property
    def conflicts_note(self) -> str:
        """"1 conflict to review", "3 conflicts to review", or "" when there are none."""
        n = len(self.conflicts)
        return "" if not n else f"{n} conflict{'s' if n > 1 else ''} to review"


def three_way(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
              ) -> tuple[dict[str, Any], list[str]]:
    """The fields to write, and the fields in conflict."""
    merged, conflicts = {}, []
    for name, value in mine.items():
        if theirs.get(name) == base.get(name):
            merged[name] = value  # the centre left it alone
        elif theirs.get(name) != value:
            conflicts.append(name)  # both changed it, differently
    return merged, conflicts


class Pusher:
    def __init__(self, cache: Cache, central: Central) -> None:
        self.cache, self.central = cache, central

    def pending(self) -> list[tuple]:
        return self.cache.reader().execute(
            "SELECT seq, idempotency_key, entity, entity_id, operation, payload, base_row_version "
            "FROM outbox WHERE pushed_at IS NULL ORDER BY seq").fetchall()

    def push(self, progress: Progress | None = None) -> PushResult:
        progress = progress or Progress()
        result = PushResult()
        entries = self.pending()
        if entries:
            log.info("pushing %d local changes", len(entries))
        erased = erasure.erased_customers(self.central) if entries else set()
        for i, (seq, key, entity, entity_id, operation, payload, base_rv) in enumerate(entries):
            body = json.loads(payload)
            if erased and self._owner(entity, entity_id, body) in erased:
                with self.cache.writer() as conn:
                    conn.execute("UPDATE outbox SET pushed_at = ?, last_error = ? WHERE seq = ?",
                                 (db_now(), "dropped: the customer was erased at the centre", seq))
                result.dropped += 1
                continue
            outcome, conflicts = self._apply(key, entity, entity_id, operation, body, base_rv)
            with self.cache.writer() as conn:
                for c in conflicts:
                    conn.execute(
                        "INSERT INTO sync_conflict (entity, entity_id, field, base, mine, theirs, theirs_row_version, "
                        "outbox_key, created_at) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM "
                        "sync_conflict WHERE outbox_key = ? AND field = ?)",
                        (entity, entity_id, c["field"], json.dumps(c["base"]), json.dumps(c["mine"]),
                         json.dumps(c["theirs"]), c["row_version"], key, db_now(), key, c["field"]))
                conn.execute("UPDATE outbox SET pushed_at = ?, attempts = attempts + 1, last_error = NULL "
                             "WHERE seq = ?", (db_now(), seq))
            result.conflicts += [(entity, entity_id, c["field"]) for c in conflicts]
            if outcome == "duplicate":
                result.already_applied += 1
            else:
                result.applied += 1
                result.merged += outcome == "merged"
            progress.update((i + 1) / max(len(entries), 1), f"Pushed {i + 1:,} of {len(entries):,} changes")
        if entries:
            log.info("push finished: %d applied (%d merged), %d already applied, %d conflicts, %d dropped",
                     result.applied, result.merged, result.already_applied, len(result.conflicts), result.dropped)
        return result

    def _owner(self, entity: str, entity_id: str, payload: dict[str, Any]) -> str | None:
        """The customer an outbox entry is about, if any."""
        if entity == "customer":
            return entity_id
        row = payload.get("row") if isinstance(payload.get("row"), dict) else payload
        if isinstance(row, dict) and row.get("customer_id"):
            return str(row["customer_id"])
        if entity in erasure.CUSTOMER_SCOPED:
            found = self.cache.reader().execute(f'SELECT customer_id FROM "{entity}" WHERE id = ?',
                                                (entity_id,)).fetchone()
            return found[0] if found else None
        return None

    def _apply(self, key: str, entity: str, entity_id: str, operation: str, payload: dict[str, Any],
               base_rv: int | None) -> tuple[str, list[dict[str, Any]]]:
        ledger = table("applied_change", column("idempotency_key"), column("entity"), column("entity_id"),
                       column("outcome"), column("detail"))
        c = self.central
        try:
            c.write(insert(ledger).values(idempotency_key=key, entity=entity, entity_id=entity_id,
                                          outcome="applying", detail=None))
        except Duplicate:
            c.rollback()  # applied before (the local mark was lost in a crash): hand back its conflicts
            rows = c.run(select(ledger.c.detail).where(ledger.c.idempotency_key == key))
            c.rollback()
            detail = rows[0][0] if rows else None
            detail = json.loads(detail) if isinstance(detail, str) else detail
            return "duplicate", (detail or {}).get("conflicts", [])
        try:
            conflicts: list[dict[str, Any]] = []
            if operation == "insert" and entity == "erasure":
                erasure.erase_at_centre(c, erasure.Tombstone.from_row(payload))
                outcome = "applied"
            elif operation == "insert":
                outcome = self._insert(entity, payload)
            elif operation == "update":
                outcome, conflicts = self._update(entity, entity_id, payload, base_rv)
            elif operation == "upsert":
                outcome = self._upsert(entity, entity_id, payload)
            else:
                raise SyncError(f"outbox entry {key}: unknown operation {operation!r}")
            c.write(update(ledger).where(ledger.c.idempotency_key == key).values(
                outcome=outcome, detail=json.dumps({"conflicts": conflicts}) if conflicts else None))
            c.commit()
            return outcome, conflicts
        except BaseException:
            c.rollback()
            raise

    def _insert(self, entity: str, payload: dict[str, Any]) -> str:
        cols = [col for col in sync_columns(entity) if col in payload and col != "row_version"]
        t = table(entity, *(column(col) for col in cols))
        self.central.write(insert(t).values(_encoded({col: payload[col] for col in cols})))
        return "applied"

    def _upsert(self, entity: str, entity_id: str, payload: dict[str, Any]) -> str:
        """Insert the row if the centre lacks it; else set the changed fields the centre has left
        empty. For shared facts such as an alert's acknowledgement: the first one to reach the
        centre stands, and a later one is not a conflict."""
        probe = table(entity, column("id"))
        if not self.central.run(select(probe.c.id).where(probe.c.id == entity_id)):
            return self._insert(entity, payload["row"])
        names = list(payload["changes"])
        t = table(entity, column("id"), column("row_version"), column("updated_by"), *(column(n) for n in names))
        for _ in range(_RETRIES):
            current_rv, *current = self.central.run(
                select(t.c.row_version, *(t.c[n] for n in names)).where(t.c.id == entity_id))[0]
            fill = {n: payload["changes"][n] for n, v in zip(names, current, strict=True) if v is None}
            if not fill:
                return "already_set"
            stmt = update(t).where(t.c.id == entity_id, t.c.row_version == current_rv).values(
                _encoded({**fill, "updated_by": payload.get("updated_by")}))
            if self.central.write(stmt) == 1:
                return "applied"
        raise SyncError(f"{entity} {entity_id} keeps changing centrally; try the sync again")

    def _update(self, entity: str, entity_id: str, payload: dict[str, Any], base_rv: int | None
                ) -> tuple[str, list[dict[str, Any]]]:
        changes, base = payload["changes"], payload["base"]
        names = list(changes)
        t = table(entity, column("id"), column("row_version"), column("updated_by"), *(column(n) for n in names))
        values = _encoded({**changes, "updated_by": payload.get("updated_by")})
        if self.central.write(update(t).where(t.c.id == entity_id, t.c.row_version == base_rv).values(values)) == 1:
            return "applied", []
        for _ in range(_RETRIES):  # the centre moved on: merge field by field
            rows = self.central.run(select(t.c.row_version, *(t.c[n] for n in names)).where(t.c.id == entity_id))
            if not rows:
                raise SyncError(f"{entity} {entity_id} no longer exists centrally")
            current_rv, *current = rows[0]
            theirs = dict(zip(names, current, strict=True))
            merged, conflicting = three_way(base, changes, theirs)
            conflicts = [{"field": n, "base": base.get(n), "mine": changes[n], "theirs": theirs[n],
                          "row_version": current_rv} for n in conflicting]
            if not merged:
                return "conflict", conflicts
            stmt = update(t).where(t.c.id == entity_id, t.c.row_version == current_rv).values(
                _encoded({**merged, "updated_by": payload.get("updated_by")}))
            if self.central.write(stmt) == 1:
                return ("merged" if not conflicts else "partial"), conflicts
        raise SyncError(f"{entity} {entity_id} keeps changing centrally; try the sync again")


def _encoded(values: dict[str, Any]) -> dict[str, Any]:
    """Values for the centre: JSON columns (source fields and lineage, audit details...) as
    JSON text, which PostgreSQL's json and SQL Server's NVARCHAR columns both take."""
    return {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()}
