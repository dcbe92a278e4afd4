"""The customer 360: assembling the unified profile, paging the timeline, and adding notes.

Every query here is an indexed lookup by customer id, so a profile costs a dozen small reads
whatever the size of the cache. Notes are written with their outbox entry in one transaction:
a note saved offline is never lost and is pushed exactly once (the outbox key is idempotent).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from c360_desktop.core import models as m
from c360_desktop.core import validation
from c360_desktop.core.analytics.reasons import worded
from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.ids import new_id
from c360_desktop.core.search import index as search_index
from c360_desktop.core.security import User, redact
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.timestamps import db_now
from c360_desktop.core.validation import cents_to_money

OPEN_LEAD_STATUSES = m.OPEN_LEAD_STATUSES


class CustomerNotFound(LookupError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"no customer with id {customer_id!r} in this cache")
        self.customer_id = customer_id


@dataclass(frozen=True, slots=True)
class TimelineItem:
    id: str
    kind: str  # "purchase" or an interaction channel: call, email, visit, social, support ...
    occurred_at: str  # UTC, 'YYYY-MM-DD HH:MM:SS'
    title: str
    detail: str
    amount_cents: int | None
    sentiment: float | None

    @property
    def cursor(self) -> tuple[str, str]:
        """Pass as ``before`` to fetch the page after this item."""
        return (self.occurred_at, self.id)


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _when(text: str) -> datetime:
    """A required timestamp column."""
    return datetime.fromisoformat(text)


class ProfileService:
    """The 360 view, as the current user may see it (``security.redact``); ``user`` says who
    that is at each call (settings can change while the app runs); None: everything (tools)."""

    def __init__(self, cache: Cache, user: Callable[[], User] | None = None) -> None:
        self._cache = cache
        self._user = user

    def exists(self, customer_id: str) -> bool:
        return self._cache.reader().execute(
            "SELECT 1 FROM customer WHERE id = ? AND deleted_at IS NULL", (customer_id,)
        ).fetchone() is not None

    def name_of(self, customer_id: str) -> str:
        """The customer's display name (a key lookup; not a view of the profile, so not audited)."""
        row = self._cache.reader().execute("SELECT display_name FROM customer WHERE id = ? AND deleted_at IS NULL",
                                           (customer_id,)).fetchone()
        if row is None:
            raise CustomerNotFound(customer_id)
        return str(row[0])

    def get(self, customer_id: str, as_of: datetime | None = None) -> m.UnifiedCustomerProfile:
        conn = self._cache.reader()
        row = conn.execute(
            """SELECT c.id, c.kind, c.display_name, c.given_name, c.family_name, c.business_name,
                      c.trn, c.date_of_birth, c.parish, r.name, c.created_at,
                      s.id, s.name, s.description, s.method
               FROM customer c
               LEFT JOIN sales_rep r ON r.id = c.rep_id
               LEFT JOIN segment s ON s.id = c.segment_id
               WHERE c.id = ? AND c.deleted_at IS NULL""", (customer_id,),
        ).fetchone()
        if row is None:
            raise CustomerNotFound(customer_id)
        segments: tuple[m.CustomerSegment, ...] = (m.CustomerSegment(id=row[11], name=row[12], description=row[13] or "",
                                      method=row[14]),) if row[11] else ()
        modelled = conn.execute("SELECT version, r, f, m, rfm_segment, cluster_name FROM customer_segment "
                                "WHERE customer_id = ?", (customer_id,)).fetchone()
        if modelled:  # the segmentation model's (core/analytics/segments.py), after the synced one
            segments += (m.CustomerSegment(
                id=modelled[0], name=f"{modelled[4]} (R{modelled[1]} F{modelled[2]} M{modelled[3]})",
                description=f"cluster: {modelled[5]}", method="rfm-model"),)
        profile = m.UnifiedCustomerProfile(
            id=row[0], kind=row[1], display_name=row[2], given_name=row[3], family_name=row[4],
            business_name=row[5], trn=row[6], date_of_birth=row[7], parish=row[8],
            rep_name=row[9], created_at=_dt(row[10]),
            contact_points=self._contacts(conn, customer_id),
            addresses=self._addresses(conn, customer_id),
            source_records=self._sources(conn, customer_id),
            transactions=self._summary(conn, customer_id, as_of),
            recent_interactions=self._interactions(conn, customer_id),
            social_profiles=tuple(
                m.SocialMediaProfile(id=r[0], platform=r[1], handle=r[2], url=r[3], followers=r[4])
                for r in conn.execute(
                    "SELECT id, platform, handle, url, followers FROM social_profile "
                    "WHERE customer_id = ? AND deleted_at IS NULL", (customer_id,))),
            segments=segments,
            scores=self._scores(conn, customer_id),
            open_leads=self._leads(conn, customer_id),
            notes=self.notes(customer_id),
            consents=self.consents(customer_id),
        )
        if self._user is None:
            return profile
        user = self._user()
        # every view of a profile by a person is in the audit trail
        audit_log.record_now(self._cache, user.name, "profile.view", "customer", customer_id,
                             {"role": user.role.value, "as_of": as_of.isoformat() if as_of else None})
        return redact(profile, user)

    def _contacts(self, conn: sqlite3.Connection, cid: str) -> tuple[m.ContactPoint, ...]:
        return tuple(
            m.ContactPoint(kind=r[0], value=r[1], label=r[2] or "", is_primary=bool(r[3]),
                           source=r[4] or "")
            for r in conn.execute(
                "SELECT kind, value, label, is_primary, source FROM contact_point "
                "WHERE customer_id = ? AND deleted_at IS NULL ORDER BY is_primary DESC, kind", (cid,)))

    def _addresses(self, conn: sqlite3.Connection, cid: str) -> tuple[m.Address, ...]:
        return tuple(
            m.Address(kind=r[0], street=r[1], town=r[2], parish=r[3], postal_zone=r[4],
                      lat=r[5], lon=r[6])
            for r in conn.execute(
                "SELECT kind, street, town, parish, postal_zone, lat, lon FROM customer_address "
                "WHERE customer_id = ? AND deleted_at IS NULL ORDER BY kind = 'previous', kind", (cid,)))

    def _sources(self, conn: sqlite3.Connection, cid: str) -> tuple[m.SourceRecordRef, ...]:
        return tuple(
            m.SourceRecordRef(id=r[0], system=r[1], external_id=r[2], fields=json.loads(r[3]),
                              imported_at=_dt(r[4]), match_probability=r[5], match_rule=r[6])
            for r in conn.execute(
                """SELECT s.id, s.system, s.external_id, s.fields, s.imported_at, l.probability, l.rule
                   FROM identity_link l JOIN source_record s ON s.id = l.source_record_id
                   WHERE l.customer_id = ? AND l.deleted_at IS NULL AND s.deleted_at IS NULL
                   ORDER BY s.system, s.external_id""", (cid,)))

    def _summary(self, conn: sqlite3.Connection, cid: str, as_of: datetime | None) -> m.TransactionsSummary:
        row = conn.execute(
            "SELECT txn_count, lifetime_spend_cents, first_purchase_at, last_purchase_at "
            "FROM customer_summary WHERE customer_id = ?", (cid,)).fetchone()
        if row is None or not row[0]:
            return m.TransactionsSummary()
        since = ((as_of or datetime.now(UTC)) - timedelta(days=365)).strftime("%Y-%m-%d %H:%M:%S")
        (last_12m,) = conn.execute(
            'SELECT coalesce(sum(total_cents), 0) FROM "transaction" '
            "WHERE customer_id = ? AND occurred_at >= ? AND deleted_at IS NULL", (cid, since)).fetchone()
        return m.TransactionsSummary(
            count=row[0], lifetime_spend=cents_to_money(row[1]),
            average_order=(cents_to_money(row[1]) / row[0]).quantize(Decimal("0.01")),
            first_purchase=_dt(row[2]), last_purchase=_dt(row[3]),
            spend_last_12_months=cents_to_money(last_12m))

    def _interactions(self, conn: sqlite3.Connection, cid: str) -> tuple[m.InteractionEvent, ...]:
        return tuple(
            m.InteractionEvent(id=r[0], customer_id=cid, occurred_at=_when(r[1]), channel=r[2],
                               direction=r[3], subject=r[4] or "", body=r[5] or "", sentiment=r[6])
            for r in conn.execute(
                "SELECT id, occurred_at, channel, direction, subject, body, sentiment FROM interaction "
                "WHERE customer_id = ? AND deleted_at IS NULL ORDER BY occurred_at DESC LIMIT 5", (cid,)))

    def _scores(self, conn: sqlite3.Connection, cid: str) -> tuple[m.ModelScore, ...]:
        rows = conn.execute(
            """SELECT model, model_version, value, scored_at, contributions FROM score s
               WHERE customer_id = ? AND deleted_at IS NULL AND scored_at = (
                   SELECT max(scored_at) FROM score WHERE customer_id = s.customer_id
                   AND model = s.model AND deleted_at IS NULL)""", (cid,)).fetchall()
        return tuple(
            m.ModelScore(model=r[0], model_version=r[1], value=r[2], scored_at=_when(r[3]),
                         contributions=tuple(m.FeatureContribution(**c) for c in worded(r[0], json.loads(r[4] or "[]"))))
            for r in rows)

    def _leads(self, conn: sqlite3.Connection, cid: str) -> tuple[m.Lead, ...]:
        marks = ",".join("?" * len(OPEN_LEAD_STATUSES))
        return tuple(
            m.Lead(id=r[0], status=r[1], source=r[2] or "",
                   estimated_value=cents_to_money(r[3]) if r[3] is not None else None,
                   created_at=_when(r[4]), rep_name=r[5])
            for r in conn.execute(
                f"""SELECT l.id, l.status, l.source, l.estimated_value_cents, l.created_at, r.name
                    FROM lead l LEFT JOIN sales_rep r ON r.id = l.rep_id
                    WHERE l.customer_id = ? AND l.deleted_at IS NULL AND l.status IN ({marks})
                    ORDER BY l.created_at DESC""", (cid, *OPEN_LEAD_STATUSES)))

    # -- timeline ----------------------------------------------------------------------------
    def timeline(self, customer_id: str, before: tuple[str, str] | None = None,
                 limit: int = 100) -> list[TimelineItem]:
        """Transactions and interactions merged, newest first; page on with ``before``."""
        ts, tid = before or ("9999-12-31 23:59:59", "~")
        sql = """
            SELECT * FROM (
                SELECT t.id, 'purchase', t.occurred_at, coalesce(p.name, 'Purchase'),
                       t.quantity || ' x, ' || t.channel, t.total_cents, NULL
                FROM "transaction" t LEFT JOIN product p ON p.id = t.product_id
                WHERE t.customer_id = :cid AND t.deleted_at IS NULL
                  AND (t.occurred_at, t.id) < (:ts, :id)
                ORDER BY t.occurred_at DESC, t.id DESC LIMIT :n)
            UNION ALL
            SELECT * FROM (
                SELECT i.id, i.channel, i.occurred_at, coalesce(i.subject, ''), coalesce(i.body, ''),
                       NULL, i.sentiment
                FROM interaction i
                WHERE i.customer_id = :cid AND i.deleted_at IS NULL
                  AND (i.occurred_at, i.id) < (:ts, :id)
                ORDER BY i.occurred_at DESC, i.id DESC LIMIT :n)
            ORDER BY 3 DESC, 1 DESC LIMIT :n"""
        rows = self._cache.reader().execute(sql, {"cid": customer_id, "ts": ts, "id": tid, "n": limit})
        return [TimelineItem(*r) for r in rows]

    # -- notes -------------------------------------------------------------------------------
    def notes(self, customer_id: str) -> tuple[m.Note, ...]:
        rows = self._cache.reader().execute(
            """SELECT n.id, n.body, n.created_at, n.author,
                      EXISTS(SELECT 1 FROM outbox o WHERE o.entity = 'note' AND o.entity_id = n.id
                             AND o.pushed_at IS NULL)
               FROM note n WHERE n.customer_id = ? AND n.deleted_at IS NULL
               ORDER BY n.created_at DESC, n.id DESC LIMIT 200""", (customer_id,))
        return tuple(m.Note(id=r[0], customer_id=customer_id, body=r[1], created_at=_when(r[2]),
                            author=r[3], pending_sync=bool(r[4])) for r in rows)

    def consents(self, customer_id: str) -> tuple[m.Consent, ...]:
        """The latest consent record per purpose and channel (the history stays in the table)."""
        rows = self._cache.reader().execute(
            f"""SELECT k.channel, k.purpose, k.status, k.recorded_at, k.source, k.updated_by,
                      EXISTS(SELECT 1 FROM outbox o WHERE o.entity = 'consent' AND o.entity_id = k.id
                             AND o.pushed_at IS NULL), coalesce(k.legal_basis, 'consent')
               FROM consent k WHERE k.customer_id = ? AND k.deleted_at IS NULL AND {m.LATEST_CONSENT}
               ORDER BY k.purpose, k.channel""", (customer_id,))
        return tuple(m.Consent(channel=r[0], purpose=r[1], status=r[2], recorded_at=_when(r[3]), source=r[4],
                               recorded_by=None if r[5] == "demo-data" else r[5], pending_sync=bool(r[6]),
                               legal_basis=r[7])
                     for r in rows)

    def record_consent(self, customer_id: str, channel: str, purpose: str, status: str, source: str,
                       author: str, legal_basis: str = "consent") -> m.Consent:
        """Record that the customer granted or withdrew consent, on ``legal_basis`` (a key of
        models.LEGAL_BASES): a new row (the history is kept), queued for sync, audited, and the
        customer's next best actions ranked again."""
        if legal_basis not in m.LEGAL_BASES:
            raise validation.InvalidValue("legal basis", legal_basis, f"is not one of {', '.join(m.LEGAL_BASES)}")
        if channel not in m.CONSENT_CHANNELS:
            raise validation.InvalidValue("channel", channel, f"is not one of {', '.join(m.CONSENT_CHANNELS)}")
        if purpose not in m.CONSENT_PURPOSES:
            raise validation.InvalidValue("purpose", purpose, f"is not one of {', '.join(m.CONSENT_PURPOSES)}")
        if status not in ("granted", "withdrawn"):
            raise validation.InvalidValue("status", status, "must be granted or withdrawn")
        source = " ".join((source or "").split())
        if not source or len(source) > 30:
            raise validation.InvalidValue("source", source, "must say how it was given, in at most 30 characters")
        from c360_desktop.core.leads.queue import refresh_lead_ranks_for_customers

        cid, now = new_id(), db_now()
        row = {"id": cid, "customer_id": customer_id, "channel": channel, "purpose": purpose, "status": status,
               "recorded_at": now, "source": source, "legal_basis": legal_basis, "updated_at": now,
               "updated_by": author}
        with self._cache.writer() as conn:
            if conn.execute("SELECT 1 FROM customer WHERE id = ? AND deleted_at IS NULL",
                            (customer_id,)).fetchone() is None:
                raise CustomerNotFound(customer_id)
            conn.execute("INSERT INTO consent (id, row_version, updated_at, updated_by, customer_id, channel, purpose, "
                         "status, recorded_at, source, legal_basis) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (cid, now, author, customer_id, channel, purpose, status, now, source, legal_basis))
            queue_change(conn, "consent", cid, "insert", row)
            audit_log.record(conn, author, f"consent.{status}", "customer", customer_id,
                             {"channel": channel, "purpose": purpose, "source": source, "legal_basis": legal_basis})
            refresh_lead_ranks_for_customers(conn, [customer_id])
        return m.Consent(channel=channel, purpose=purpose, status=status,  # type: ignore[arg-type]
                         recorded_at=_when(now), source=source, recorded_by=author, pending_sync=True,
                         legal_basis=legal_basis)

    def add_note(self, customer_id: str, body: str, author: str) -> m.Note:
        """Save a note locally and queue it for sync, in one transaction."""
        body = body.strip()
        now = db_now()
        note = m.Note(id=new_id(), customer_id=customer_id, body=body,
                      created_at=datetime.fromisoformat(now), author=author)
        with self._cache.writer() as conn:
            if conn.execute("SELECT 1 FROM customer WHERE id = ? AND deleted_at IS NULL",
                            (customer_id,)).fetchone() is None:
                raise CustomerNotFound(customer_id)
            conn.execute(
                "INSERT INTO note (id, row_version, updated_at, updated_by, customer_id, body, author, "
                "created_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?)",
                (note.id, now, author, customer_id, body, author, now))
            queue_change(conn, "note", note.id, "insert", {
                "id": note.id, "customer_id": customer_id, "body": body, "author": author,
                "created_at": now, "updated_at": now, "updated_by": author})
        return note

    def update_customer(self, customer_id: str, changes: dict[str, Any], author: str) -> dict[str, Any]:
        """Edit a customer here at once and queue the edit for sync, with each field's value
        before the edit (the base of a three-way merge if the centre changed it meanwhile).
        Returns the changes as stored (normalised: phones in E.164, parish as its code)."""
        with self._cache.writer() as conn:
            stored = update_customer_in(conn, customer_id, changes, author)
            if stored:  # which fields, never their values: the trail must not copy personal data
                audit_log.record(conn, author, "profile.edit", "customer", customer_id, {"fields": sorted(stored)})
            return stored


def update_customer_in(conn: sqlite3.Connection, customer_id: str, changes: dict[str, Any],
                       author: str) -> dict[str, Any]:
    """``ProfileService.update_customer`` inside the caller's write transaction (a steward's
    approved fix is written with its issue and audit entry, all or none)."""
    clean = {field: _validated(field, value) for field, value in changes.items()}
    cols = ", ".join(f'"{f}"' for f in clean)
    row = conn.execute(f'SELECT row_version, {cols} FROM customer WHERE id = ? AND deleted_at IS NULL',
                       (customer_id,)).fetchone()
    if row is None:
        raise CustomerNotFound(customer_id)
    base = dict(zip(clean, row[1:], strict=True))
    clean = {f: v for f, v in clean.items() if v != base[f]}
    if not clean:
        return {}
    sets = ", ".join(f'"{f}" = ?' for f in clean)
    conn.execute(f"UPDATE customer SET {sets}, updated_by = ? WHERE id = ?", (*clean.values(), author, customer_id))
    search_index.index_customers(conn, [customer_id])
    queue_change(conn, "customer", customer_id, "update",
                 {"changes": clean, "base": {f: base[f] for f in clean}, "updated_by": author},
                 base_row_version=row[0])
    return clean


EDITABLE_FIELDS: dict[str, Any] = {
    "display_name": None, "given_name": None, "family_name": None, "business_name": None,
    "street": None, "town": None, "postal_zone": None,
    "trn": validation.normalize_trn, "parish": validation.normalize_parish,
    "primary_phone": validation.normalize_phone, "primary_email": validation.normalize_email,
}


def _validated(field: str, value: Any) -> Any:
    if field not in EDITABLE_FIELDS:
        raise validation.InvalidValue(field, value, "is not a field that can be edited")
    if value is None or value == "":
        if field == "display_name":
            raise validation.InvalidValue(field, value, "must not be empty")
        return None
    check = EDITABLE_FIELDS[field]
    return check(str(value), field) if check else str(value).strip()


def queue_change(conn: sqlite3.Connection, entity: str, entity_id: str, operation: str,
                 payload: dict[str, Any], base_row_version: int | None = None) -> str:
    """Put a local change in the outbox (inside the caller's transaction); returns its idempotency key."""
    key = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO outbox (idempotency_key, entity, entity_id, operation, payload, base_row_version, "
        "created_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        (key, entity, entity_id, operation, json.dumps(payload), base_row_version, db_now()))
    return key
