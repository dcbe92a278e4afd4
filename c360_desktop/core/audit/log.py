"""The local, append-only, hash-chained audit log.

Every audited action is one ``audit_event`` row (synchronised: pushed to the centre through the
outbox) and one ``audit_chain`` link written in the same transaction. A link holds the SHA-256 of
the previous link's hash and the event's content, so changing, removing or reordering any entry
breaks every later link, and ``verify`` names the first entry that no longer matches. The chain
table refuses UPDATE and DELETE (triggers, migration 0020); the hashes make editing the file
with another tool detectable as well.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from c360_desktop.core.timestamps import db_now

GENESIS = "0" * 64  # the "previous hash" of the first link


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    event_id: str
    occurred_at: str
    actor: str
    action: str
    entity: str
    entity_id: str | None
    details: dict[str, Any]
    subject: str | None = None  # the customer's name now, for entries on a customer


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    checked: int
    first_bad: int | None = None  # the seq of the first entry that does not match
    problem: str = ""
    redacted: int = 0  # entries whose details an erasure redacted (their links still match)

    @property
    def message(self) -> str:
        if self.ok:
            note = f" ({self.redacted:,} redacted by an erasure)" if self.redacted else ""
            return f"audit log intact: {self.checked:,} entries, every link matches{note}"
        return f"audit log altered at entry {self.first_bad}: {self.problem} ({self.checked:,} entries before it match)"


def _canonical(event_id: str, occurred_at: str, actor: str, action: str, entity: str,
               entity_id: str | None, details: Any) -> bytes:
    if isinstance(details, str | bytes):
        details = json.loads(details)
    return json.dumps([event_id, occurred_at, actor, action, entity, entity_id, details],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def link_hash(prev: str, content: bytes) -> str:
    return hashlib.sha256(prev.encode("ascii") + content).hexdigest()


def record(conn: sqlite3.Connection, actor: str, action: str, entity: str, entity_id: str | None,
           details: Mapping[str, Any] | None = None) -> str:
    """Write one audited action inside the caller's write transaction: the event, its outbox
    entry and its chain link, all or none. Returns the event id. ``details`` must not hold
    personal values (name fields changed, not what they were changed to)."""
    from c360_desktop.core.profile.service import queue_change

    event_id, now = str(uuid.uuid4()), db_now()
    body = dict(details or {})
    text = json.dumps(body, default=str)
    conn.execute("INSERT INTO audit_event (id, row_version, updated_at, updated_by, actor, action, entity, "
                 "entity_id, occurred_at, details) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (event_id, now, actor, actor, action, entity, entity_id, now, text))
    queue_change(conn, "audit_event", event_id, "insert", {
        "id": event_id, "actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
        "occurred_at": now, "details": body, "updated_at": now, "updated_by": actor})
    last = conn.execute("SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1").fetchone()
    prev = last[0] if last else GENESIS
    conn.execute("INSERT INTO audit_chain (event_id, prev_hash, hash) VALUES (?, ?, ?)",
                 (event_id, prev, link_hash(prev, _canonical(event_id, now, actor, action, entity,
                                                             entity_id, json.loads(text)))))
    if action in ("profile.view", "export", "export.pseudonymised", "signin", "signin.failed", "session.unlock.failed",
                  "reauth.failed"):
        from c360_desktop.core.audit import anomaly

        anomaly.check(conn, actor, action, body, now)
    return event_id


def record_now(cache: Any, actor: str, action: str, entity: str, entity_id: str | None,
               details: Mapping[str, Any] | None = None) -> str:
    """``record`` in a write transaction of its own on ``cache`` (a core Cache)."""
    with cache.writer() as w:
        return record(w, actor, action, entity, entity_id, details)


def verify(conn: sqlite3.Connection) -> Verdict:
    """Walk the chain from its first link: each link must follow the one before (no gap in its
    numbers, the previous hash carried over) and match its event's content as stored now. An
    entry whose details an erasure redacted (listed by a later, intact ``privacy.erasure``
    entry) keeps its place in the chain; only its content is no longer compared."""
    prev, expected_seq, checked = GENESIS, None, 0
    rows = conn.execute(
        "SELECT c.seq, c.event_id, c.prev_hash, c.hash, e.occurred_at, e.actor, e.action, e.entity, "
        "e.entity_id, e.details FROM audit_chain c LEFT JOIN audit_event e ON e.id = c.event_id ORDER BY c.seq"
    ).fetchall()
    redacted_by: dict[str, int] = {}  # event id -> seq of the erasure entry that redacted it
    for seq, event_id, prev_hash, stored, occurred_at, actor, action, entity, entity_id, details in rows:
        if action != "privacy.erasure" or occurred_at is None:
            continue
        try:
            intact = link_hash(prev_hash, _canonical(event_id, occurred_at, actor, action, entity, entity_id,
                                                     details)) == stored
            listed = (json.loads(details) if isinstance(details, str) else details or {}).get("redacted_events", [])
        except (ValueError, TypeError, AttributeError):
            continue
        if intact:
            for listed_id in listed:
                redacted_by.setdefault(str(listed_id), seq)
    redacted = 0
    for seq, event_id, prev_hash, stored, occurred_at, actor, action, entity, entity_id, details in rows:
        if expected_seq is not None and seq != expected_seq:
            return Verdict(False, checked, expected_seq, f"entries {expected_seq} to {seq - 1} are missing")
        if prev_hash != prev:
            return Verdict(False, checked, seq, "its link to the entry before does not match")
        if occurred_at is None:
            return Verdict(False, checked, seq, f"its event {event_id} was removed")
        try:
            content = _canonical(event_id, occurred_at, actor, action, entity, entity_id, details)
        except (ValueError, TypeError):
            return Verdict(False, checked, seq, "its details are no longer readable")
        if link_hash(prev, content) != stored:
            if redacted_by.get(event_id, 0) > seq:
                redacted += 1
            else:
                return Verdict(False, checked, seq, f"its content changed ({action} by {actor} at {occurred_at})")
        prev, expected_seq, checked = stored, seq + 1, checked + 1
    last = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_chain'").fetchone()
    if last and expected_seq is not None and last[0] >= expected_seq:
        return Verdict(False, checked, expected_seq, f"the last {last[0] - expected_seq + 1} entries were removed")
    if last and last[0] > 0 and expected_seq is None:
        return Verdict(False, 0, 1, "every entry was removed")
    return Verdict(True, checked, redacted=redacted)


def entries(conn: sqlite3.Connection, actor: str | None = None, customer_id: str | None = None,
            action: str | None = None, since: str | None = None, until: str | None = None,
            limit: int = 500) -> list[Entry]:
    """This desktop's chained entries, newest first, filtered (each filter optional; ``action``
    is a prefix: "profile" finds "profile.view"; ``since``/``until`` are UTC timestamps)."""
    where, params = ["1 = 1"], []
    for clause, value in (("e.actor = ?", actor), ("e.entity_id = ?", customer_id),
                          ("e.occurred_at >= ?", since), ("e.occurred_at <= ?", until)):
        if value:
            where.append(clause)
            params.append(value)
    if action:
        where.append("(e.action = ? OR e.action LIKE ? ESCAPE '\\')")
        params += [action, action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"]
    rows = conn.execute(
        "SELECT c.seq, e.id, e.occurred_at, e.actor, e.action, e.entity, e.entity_id, e.details, cu.display_name "
        "FROM audit_chain c JOIN audit_event e ON e.id = c.event_id "
        "LEFT JOIN customer cu ON e.entity = 'customer' AND cu.id = e.entity_id "
        f"WHERE {' AND '.join(where)} "
        "ORDER BY c.seq DESC LIMIT ?", (*params, int(limit)))
    return [Entry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if isinstance(r[7], str) else (r[7] or {}), r[8])
            for r in rows]


def require(cache: Any, user: Any, permission: Any, action: str) -> None:
    """Go on if ``user`` (a security.User) holds ``permission``; else record the refusal in the
    audit trail and raise security.Refused, whose message says who can."""
    from c360_desktop.core.security import Refused, can, refusal

    if not can(user, permission):
        record_now(cache, user.name, f"{action}.refused", "permission", None,
                   {"permission": str(permission), "role": user.role.value})
        raise Refused(refusal(user, permission))

