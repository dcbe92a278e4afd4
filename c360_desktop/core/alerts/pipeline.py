"""From raw messages to stored alerts: decode, evaluate the rules, store; no Kafka here.

``AlertPipeline.handle`` takes a batch of messages (topic, partition, offset, value) and, in one
cache transaction, stores an alert for each alert-worthy event meant for this desktop's user,
a dead letter (with the reason) for each message that cannot be used, and the valid events in
the recent-events ring. Alerts are keyed by event id, dead letters by topic position, so handing
the same batch over twice (a redelivery after a crash or an outage) changes nothing: at-least-once
delivery, exactly-once effect. The caller commits its Kafka offsets only after ``handle`` returns.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from c360_desktop.core.alerts.rules import Audience, Facts, RuleEngine, render_title
from c360_desktop.core.events import BadEvent, Event, decode
from c360_desktop.core.leads.queue import latest_score_sql
from c360_desktop.core.storage.cache import Cache

ALERT_NAMESPACE = uuid.UUID("6f0c3a51-8d0e-4c6a-9a55-3c360a1e7000")
RECENT_EVENTS = 5_000
RAW_KEPT = 65_536


def alert_id_for(event_id: str) -> str:
    """The same event makes the same alert id on every desktop (so acknowledgements meet)."""
    return str(uuid.uuid5(ALERT_NAMESPACE, event_id))


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes | None


@dataclass(frozen=True)
class NewAlert:
    """An alert just stored, as the Alerts pane shows it."""

    id: str
    event_id: str
    customer_id: str | None
    type: str
    severity: str
    title: str
    body: str
    created_at: str
    received_at: str
    rule_ids: tuple[str, ...]
    email_to: tuple[str, ...] = ()
    customer_name: str | None = None


@dataclass
class BatchResult:
    alerts: list[NewAlert] = field(default_factory=list)
    dead: int = 0
    events: int = 0
    duplicates: int = 0
    changed_tables: dict[str, int] = field(default_factory=dict)  # table -> highest row_version


class CustomerFacts:
    """Customer attributes for rule conditions, loaded in bulk and kept in a bounded LRU."""

    def __init__(self, cache: Cache, capacity: int = 200_000) -> None:
        self.cache = cache
        self.capacity = capacity
        self._facts: OrderedDict[str, Facts | None] = OrderedDict()

    def get(self, customer_id: str | None) -> Facts | None:
        if customer_id is None:
            return None
        facts = self._facts.get(customer_id)
        if facts is not None:
            self._facts.move_to_end(customer_id)
        return facts

    def prefetch(self, customer_ids: Iterable[str]) -> None:
        missing = list({c for c in customer_ids if c not in self._facts})
        conn = self.cache.reader()
        today = datetime.now(UTC).replace(tzinfo=None)
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            for c in chunk:
                self._facts[c] = None  # not in this cache (out of territory, or not synced yet)
            for row in conn.execute(_FACTS_SQL.format(marks=",".join("?" * len(chunk))), chunk):
                (cid, name, kind, status, parish, segment, spend, last_purchase, open_leads,
                 churn, clv, lead, consent) = row
                days = None
                if last_purchase:
                    days = (today - datetime.fromisoformat(last_purchase)).days
                self._facts[cid] = {
                    "name": name, "kind": kind, "status": status, "parish": parish, "segment": segment,
                    "lifetime_spend": (spend or 0) / 100, "last_purchase": last_purchase,
                    "days_since_purchase": days, "open_leads": open_leads or 0, "churn_risk": churn,
                    "clv": clv, "lead_score": lead, "marketing_consent": consent == "granted",
                }
        while len(self._facts) > self.capacity:
            self._facts.popitem(last=False)

    def forget(self) -> None:
        """Central data changed: attributes are loaded afresh when next needed."""
        self._facts.clear()


_FACTS_SQL = f"""
SELECT c.id, c.display_name, c.kind, c.status, c.parish, s.name, cs.lifetime_spend_cents,
       cs.last_purchase_at, cs.open_leads,
       {latest_score_sql("churn", "c.id")}, {latest_score_sql("clv", "c.id")}, {latest_score_sql("lead", "c.id")},
       (SELECT status FROM consent WHERE customer_id = c.id AND purpose = 'marketing' AND deleted_at IS NULL
            ORDER BY recorded_at DESC LIMIT 1)
FROM customer c
LEFT JOIN segment s ON s.id = c.segment_id
LEFT JOIN customer_summary cs ON cs.customer_id = c.id
WHERE c.id IN ({{marks}}) AND c.deleted_at IS NULL
"""


class AlertPipeline:
    def __init__(self, cache: Cache, engine: RuleEngine, audience: Audience,
                 max_age: timedelta = timedelta(days=7)) -> None:
        self.cache = cache
        self.engine = engine
        self.audience = audience
        self.max_age = max_age
        self.facts = CustomerFacts(cache)
        self._batches = 0

    def handle(self, messages: Sequence[Message]) -> BatchResult:
        result = BatchResult()
        received = _utc_text(datetime.now(UTC))
        events: list[tuple[Message, Event]] = []
        dead: list[tuple[Message, str]] = []
        seen: set[str] = set()
        for m in messages:
            try:
                ev = decode(m.topic, m.value)
            except BadEvent as exc:
                dead.append((m, str(exc)))
                continue
            except Exception as exc:  # a decoder bug must not stop the stream: keep the message
                dead.append((m, f"could not be read: {type(exc).__name__}: {exc}"))
                continue
            if ev.event_id in seen:
                result.duplicates += 1
                continue
            seen.add(ev.event_id)
            events.append((m, ev))
            if ev.type == "rows.changed":
                table, version = ev.data.table, ev.data.row_version  # type: ignore[attr-defined]
                result.changed_tables[table] = max(version, result.changed_tables.get(table, 0))
        result.events = len(events)
        self.facts.prefetch(ev.customer_id for _m, ev in events
                            if ev.customer_id and ev.type in self.engine.needs_customer)
        oldest = datetime.now(UTC) - self.max_age
        candidates: list[tuple[Message, Event, NewAlert]] = []
        for m, ev in events:
            if ev.envelope.occurred_at < oldest or not self.engine.watches(ev.type):
                continue
            facts = self.facts.get(ev.customer_id)
            match = self.engine.evaluate(ev, facts)
            if match is None:
                continue
            meant = [r for r in match.rules if self.audience.includes(r, facts)]
            if not meant:
                continue
            severity = match.severity
            emails = tuple(sorted({a for r in meant for a in r.email}))
            candidates.append((m, ev, NewAlert(
                id=alert_id_for(ev.event_id), event_id=ev.event_id, customer_id=ev.customer_id, type=ev.type,
                severity=severity, title=render_title(match, ev, facts, severity), body="\n".join(match.reasons),
                created_at=_utc_text(ev.envelope.occurred_at), received_at=received,
                rule_ids=tuple(r.id for r in match.rules), email_to=emails,
                customer_name=(facts or {}).get("name"))))
        with self.cache.writer() as conn:
            result.alerts = self._store_alerts(conn, candidates)
            result.duplicates += len(candidates) - len(result.alerts)
            conn.executemany(
                "INSERT OR IGNORE INTO dead_letter (topic, partition, \"offset\", received_at, reason, size, raw) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(m.topic, m.partition, m.offset, received, reason[:2000], len(m.value or b""),
                  (m.value or b"")[:RAW_KEPT]) for m, reason in dead])
            result.dead = len(dead)
            conn.executemany(
                "INSERT OR IGNORE INTO recent_event (event_id, topic, type, occurred_at, customer_id, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(ev.event_id, m.topic, ev.type, _utc_text(ev.envelope.occurred_at), ev.customer_id, m.value)
                 for m, ev in events[-RECENT_EVENTS:]])
            self._batches += 1
            if self._batches % 20 == 1:
                conn.execute("DELETE FROM recent_event WHERE seq <= (SELECT max(seq) FROM recent_event) - ?",
                             (RECENT_EVENTS,))
        if "customer" in result.changed_tables or "score" in result.changed_tables:
            self.facts.forget()
        return result

    @staticmethod
    def _store_alerts(conn: sqlite3.Connection, candidates: list[tuple[Message, Event, NewAlert]]) -> list[NewAlert]:
        # already stored (a redelivered event): left out
        return [a for m, _ev, a in candidates if store_alert(conn, a, m.topic, m.partition, m.offset)]


def store_alert(conn: sqlite3.Connection, a: NewAlert, topic: str, partition: int = -1, offset: int = -1) -> bool:
    """Inside the caller's transaction: the alert and its local details (where it came from: a
    Kafka position, or -1 for alerts raised on this desktop). False when that alert id is stored
    already, in which case nothing is written."""
    before = conn.total_changes
    conn.execute(
        "INSERT OR IGNORE INTO alert (id, row_version, updated_at, event_id, customer_id, type, severity, "
        "title, body, created_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
        (a.id, a.received_at, a.event_id, a.customer_id, a.type, a.severity, a.title, a.body, a.created_at))
    if conn.total_changes == before:
        return False
    conn.execute(
        "INSERT OR IGNORE INTO alert_local (alert_id, rule_ids, reasons, topic, partition, \"offset\", "
        "received_at, email_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (a.id, json.dumps(a.rule_ids), json.dumps(a.body.split("\n")), topic, partition, offset,
         a.received_at, json.dumps(a.email_to) if a.email_to else None))
    return True

