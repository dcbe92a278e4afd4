"""Alerts, rules, dead letters and recent events in the cache: what the Alerts pane reads and does.

Acknowledging and snoozing change the shared alert row and go to the outbox as an ``upsert``
(the alert may not exist centrally yet: every desktop makes the same alert id from the event id).
Whether an alert was read is this desktop's business and stays local.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from c360_desktop.core.alerts.rules import (
    SEVERITIES,
    AlertRule,
    RuleEngine,
    default_rules,
    render_title,
)
from c360_desktop.core.events import BadEvent, Event, decode
from c360_desktop.core.profile.service import queue_change
from c360_desktop.core.security import Permission, User
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.timestamps import db_now


@dataclass(frozen=True)
class AlertRow:
    id: str
    event_id: str
    customer_id: str | None
    customer_name: str | None
    type: str
    severity: str
    title: str
    body: str
    created_at: str
    received_at: str | None
    read: bool
    acknowledged_at: str | None
    snoozed_until: str | None


@dataclass(frozen=True)
class DeadLetterRow:
    seq: int
    topic: str
    partition: int
    offset: int
    received_at: str
    reason: str
    size: int
    preview: str


_ALERT_SQL = """
SELECT a.id, a.event_id, a.customer_id, c.display_name, a.type, a.severity, a.title, coalesce(a.body, ''),
       a.created_at, l.received_at, l.read_at IS NOT NULL, a.acknowledged_at, a.snoozed_until
FROM alert a
LEFT JOIN alert_local l ON l.alert_id = a.id
LEFT JOIN customer c ON c.id = a.customer_id
"""


class AlertStore:
    def __init__(self, cache: Cache, user: Callable[[], User] | None = None) -> None:
        self.cache = cache
        self._user = user  # who changes the rules (needs manage_rules); None: the app's own seeding

    # ---- rules ----

    def rules(self) -> list[AlertRule]:
        """The rules in their order; a new cache starts with the default set."""
        conn = self.cache.reader()
        rows = conn.execute("SELECT definition FROM alert_rule ORDER BY position, name").fetchall()
        if not rows and self.cache.meta("alert_rules_seeded") is None:
            self._write_rules(default_rules())
            rows = conn.execute("SELECT definition FROM alert_rule ORDER BY position, name").fetchall()
        out = []
        for (definition,) in rows:
            data = json.loads(definition) if isinstance(definition, str) else definition
            out.append(AlertRule.model_validate(data))
        return out

    def save_rules(self, rules: Sequence[AlertRule]) -> None:
        """Replace the rule set (all or nothing) as the user, who needs the manage-rules
        permission; audited."""
        if self._user is None:
            self._write_rules(rules)
            return
        from c360_desktop.core.audit import log as audit_log

        user = self._user()
        audit_log.require(self.cache, user, Permission.MANAGE_RULES, "alerts.rules")
        self._write_rules(rules)
        audit_log.record_now(self.cache, user.name, "alerts.rules", "alert_rule", None,
                             {"rules": len(rules), "enabled": sum(1 for r in rules if r.enabled)})

    def _write_rules(self, rules: Sequence[AlertRule]) -> None:
        now = db_now()
        with self.cache.writer() as conn:
            conn.execute("DELETE FROM alert_rule")
            conn.executemany(
                "INSERT INTO alert_rule (id, name, enabled, position, definition, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(r.id, r.name, r.enabled, i, r.model_dump_json(), now) for i, r in enumerate(rules)])
            conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('alert_rules_seeded', '1')")

    # ---- alerts ----

    def alerts(self, min_severity: str = "low", unread_only: bool = False, text: str = "",
               show_done: bool = False, limit: int = 5000) -> list[AlertRow]:
        where = ["a.deleted_at IS NULL", "a.severity IN ({})".format(
            ",".join(f"'{s}'" for s in SEVERITIES[SEVERITIES.index(min_severity):]))]
        params: list[object] = []
        if unread_only:
            where.append("l.read_at IS NULL")
        if not show_done:
            where.append("a.acknowledged_at IS NULL")
            where.append("(a.snoozed_until IS NULL OR a.snoozed_until <= ?)")
            params.append(db_now())
        if text:
            where.append("(a.title LIKE ? OR c.display_name LIKE ?)")
            params += [f"%{text}%", f"%{text}%"]
        sql = f"{_ALERT_SQL} WHERE {' AND '.join(where)} ORDER BY a.created_at DESC, a.id LIMIT ?"
        rows = self.cache.reader().execute(sql, (*params, limit)).fetchall()
        return [AlertRow(*r[:10], bool(r[10]), *r[11:]) for r in rows]  # type: ignore[call-arg]

    def unread_count(self) -> int:
        (n,) = self.cache.reader().execute(
            "SELECT count(*) FROM alert a LEFT JOIN alert_local l ON l.alert_id = a.id "
            "WHERE l.read_at IS NULL AND a.acknowledged_at IS NULL AND a.deleted_at IS NULL").fetchone()
        return int(n)

    def mark_read(self, alert_ids: Sequence[str]) -> None:
        now = db_now()
        with self.cache.writer() as conn:
            for a in alert_ids:
                conn.execute("INSERT INTO alert_local (alert_id, rule_ids, reasons, topic, partition, \"offset\", "
                             "received_at, read_at) VALUES (?, '[]', '[]', '', -1, -1, ?, ?) "
                             "ON CONFLICT(alert_id) DO UPDATE SET read_at = coalesce(read_at, excluded.read_at)",
                             (a, now, now))

    def acknowledge(self, alert_ids: Sequence[str], user: str) -> int:
        return self._change(alert_ids, user, {"acknowledged_at": db_now()})

    def snooze(self, alert_ids: Sequence[str], until: datetime, user: str) -> int:
        return self._change(alert_ids, user, {"snoozed_until": until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")})

    def _change(self, alert_ids: Sequence[str], user: str, changes: dict[str, str]) -> int:
        """Change alert rows here and queue the change for the centre, in one transaction."""
        cols = ("id", "event_id", "customer_id", "type", "severity", "title", "body", "created_at",
                "acknowledged_at", "snoozed_until", "row_version")
        done = 0
        self.mark_read(alert_ids)
        with self.cache.writer() as conn:
            for alert_id in alert_ids:
                row = conn.execute(f"SELECT {', '.join(cols)} FROM alert WHERE id = ?", (alert_id,)).fetchone()
                if row is None:
                    continue
                current = dict(zip(cols, row, strict=True))
                base = {k: current[k] for k in changes}
                if base == changes:
                    continue
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(f"UPDATE alert SET {sets}, updated_by = ? WHERE id = ?",
                             (*changes.values(), user, alert_id))
                record = {k: v for k, v in current.items() if k != "row_version"}
                queue_change(conn, "alert", alert_id, "upsert",
                             {"row": {**record, **changes, "updated_by": user}, "changes": changes, "base": base,
                              "updated_by": user}, base_row_version=current["row_version"] or None)
                done += 1
        return done

    # ---- dead letters and recent events ----

    def dead_letters(self, limit: int = 1000) -> list[DeadLetterRow]:
        rows = self.cache.reader().execute(
            "SELECT seq, topic, partition, \"offset\", received_at, reason, size, substr(raw, 1, 300) "
            "FROM dead_letter ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        return [DeadLetterRow(*r[:7], (r[7] or b"").decode("utf-8", "replace")) for r in rows]  # type: ignore[call-arg]

    def dead_letter_count(self) -> int:
        return int(self.cache.reader().execute("SELECT count(*) FROM dead_letter").fetchone()[0])

    def recent_events(self, limit: int = 2000) -> list[Event]:
        out = []
        for topic, body in self.cache.reader().execute(
                "SELECT topic, body FROM recent_event ORDER BY seq DESC LIMIT ?", (limit,)):
            try:
                out.append(decode(topic, body))
            except BadEvent:
                continue  # stored by an older version with other rules: not testable now
        return out

    def test_rule(self, rule: AlertRule, limit: int = 2000) -> list[tuple[Event, str, str]]:
        """Which recent events this rule would alert on: (event, severity, title)."""
        from c360_desktop.core.alerts.pipeline import CustomerFacts

        engine = RuleEngine([rule.model_copy(update={"enabled": True})])
        events = self.recent_events(limit)
        facts = CustomerFacts(self.cache)
        facts.prefetch(e.customer_id for e in events if e.customer_id)
        hits = []
        for ev in events:
            f = facts.get(ev.customer_id)
            match = engine.evaluate(ev, f)
            if match is not None:
                hits.append((ev, match.severity, render_title(match, ev, f, match.severity)))
        return hits
