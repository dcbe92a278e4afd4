"""QualityService: measure the cache's data quality, keep its history, raise alerts, and run the
stewardship workflow (issues with suggested fixes, assigned, approved or rejected, applied
through the outbox with an audit entry)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.profile.service import queue_change, update_customer_in
from c360_desktop.core.progress import Progress
from c360_desktop.core.quality import monitor
from c360_desktop.core.quality.monitor import Failure, Result
from c360_desktop.core.quality.rules import Rule, load_rules
from c360_desktop.core.security import PII_FIELDS, Permission, User, can, mask_trn
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.timestamps import db_now
from c360_desktop.core.validation import InvalidValue

log = logging.getLogger(__name__)
ALERT_TYPE = "data_quality"
ALERT_NAMESPACE = uuid.UUID("0b7f3a52-6d1e-4f0c-8e2a-c360d9a11700")
TRIGGERS = ("sync", "import", "manual", "first_start")


class QualityError(Exception):
    """A stewardship action that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    ran_at: str
    trigger: str
    results: tuple[Result, ...]
    alerts: tuple[Any, ...] = ()  # core.alerts.pipeline.NewAlert raised by this run
    problems: tuple[str, ...] = ()  # mistakes in the company's rule file


@dataclass(frozen=True, slots=True)
class Issue:
    id: str
    rule_id: str
    entity: str
    entity_id: str
    name: str
    field: str
    found_value: str | None
    suggested_value: str | None
    status: str  # open | approved | rejected
    assignee: str | None
    created_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None
    pending_sync: bool = False


def _masked(field: str, value: str | None, user: User) -> str | None:
    if field in PII_FIELDS and not can(user, Permission.VIEW_PII):
        return mask_trn(value) if field == "trn" else (None if value is None else "hidden")
    return value


class QualityService:
    def __init__(self, cache: Cache, user: Callable[[], User], rules_path: Path | None = None) -> None:
        self._cache = cache
        self._user = user
        self._rules_path = rules_path

    # ---- rules and measuring --------------------------------------------------------------

    def rules(self) -> tuple[tuple[Rule, ...], list[str]]:
        """The rules in force (built-in and the company's file), and the file's mistakes."""
        return load_rules(self._rules_path)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules()[0]:
            if rule.id == rule_id:
                return rule
        raise QualityError(f"no quality rule {rule_id!r}")

    def measure(self, trigger: str = "manual", progress: Progress | None = None,
                now: datetime | None = None) -> Run:
        """Measure every rule now, keep the figures in the history, and raise an alert for each
        rule that turned red since the previous run."""
        if trigger not in TRIGGERS:
            raise QualityError(f"trigger {trigger!r} is not one of {', '.join(TRIGGERS)}")
        rules, problems = self.rules()
        now = now or datetime.now(UTC)
        conn = self._cache.connect(readonly=True)
        try:
            results = monitor.measure(conn, rules, now, progress)
        finally:
            conn.close()
        before = {r.rule_id: r.status for r in self.latest(rules)}
        run_id, ran_at = str(uuid.uuid4()), now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        alerts = []
        from c360_desktop.core.alerts.pipeline import NewAlert, store_alert

        with self._cache.writer() as w:
            w.execute("INSERT INTO quality_run (id, ran_at, trigger) VALUES (?, ?, ?)", (run_id, ran_at, trigger))
            w.executemany("INSERT INTO quality_result (run_id, rule_id, checked, failing, status, detail) "
                          "VALUES (?, ?, ?, ?, ?, ?)",
                          [(run_id, r.rule_id, r.checked, r.failing, r.status, r.detail) for r in results])
            by_id = {rule.id: rule for rule in rules}
            for r in results:
                if r.status != "red" or before.get(r.rule_id) == "red":
                    continue
                rule = by_id[r.rule_id]
                alert_id = str(uuid.uuid5(ALERT_NAMESPACE, f"{r.rule_id}:{run_id}"))
                title = f"Data quality: {r.title.lower()}, {r.share:.1%} failing"
                body = (f"{r.failing:,} of {r.checked:,} {r.table.replace('_', ' ')} rows fail "
                        f"'{r.title}' (red from {rule.red:.0%}). {r.detail}".strip())
                alert = NewAlert(alert_id, alert_id, None, ALERT_TYPE, "medium", title, body, ran_at, ran_at,
                                 ("data_quality",))
                if store_alert(w, alert, "local:quality"):
                    alerts.append(alert)
        if problems:
            log.warning("quality rules file: %s", "; ".join(problems))
        return Run(run_id, ran_at, trigger, tuple(results), tuple(alerts), tuple(problems))

    def latest(self, rules: tuple[Rule, ...] | None = None) -> list[Result]:
        """The last run's figures for the rules in force, or ``rules`` (nothing if quality was
        never measured on this cache)."""
        conn = self._cache.reader()
        row = conn.execute("SELECT id FROM quality_run ORDER BY ran_at DESC, rowid DESC LIMIT 1").fetchone()
        if row is None:
            return []
        by_id = {r.id: r for r in (rules if rules is not None else self.rules()[0])}
        out = []
        for rule_id, checked, failing, status, detail in conn.execute(
                "SELECT rule_id, checked, failing, status, detail FROM quality_result WHERE run_id = ? "
                "ORDER BY rowid", (row[0],)):
            rule = by_id.get(rule_id)
            if rule is not None:
                out.append(Result(rule_id, rule.title, rule.kind, rule.table, rule.field, checked, failing, status,
                                  detail or "", rule.red))
        return out

    def last_run_at(self) -> str | None:
        row = self._cache.reader().execute("SELECT max(ran_at) FROM quality_run").fetchone()
        return row[0] if row else None

    def history(self, rule_id: str, limit: int = 60) -> list[tuple[str, float, str]]:
        """(ran_at, failing share, status) of one rule, oldest first: the trend."""
        rows = self._cache.reader().execute(
            "SELECT q.ran_at, r.checked, r.failing, r.status FROM quality_result r JOIN quality_run q "
            "ON q.id = r.run_id WHERE r.rule_id = ? ORDER BY q.ran_at DESC, q.rowid DESC LIMIT ?",
            (rule_id, limit)).fetchall()
        return [(at, failing / checked if checked else 0.0, status) for at, checked, failing, status in reversed(rows)]

    def failures(self, rule_id: str, limit: int = 5000) -> list[Failure]:
        """The rows failing a rule now (drill-down), personal fields masked for the user's role."""
        user = self._user()
        conn = self._cache.connect(readonly=True)
        try:
            rows = monitor.failures(conn, self.rule(rule_id))[:limit]
        finally:
            conn.close()
        return [replace(f, value=_masked(f.field, f.value, user), suggestion=_masked(f.field, f.suggestion, user))
                for f in rows]

    # ---- stewardship ----------------------------------------------------------------------

    def can_steward(self) -> bool:
        """Whether the user may raise, assign, approve and reject issues."""
        return can(self._user(), Permission.STEWARD_DATA)

    def _steward(self) -> User:
        user = self._user()
        if not can(user, Permission.STEWARD_DATA):
            from c360_desktop.core.audit.log import record_now

            record_now(self._cache, user.name, "quality.refused", "permission", None,
                       {"permission": Permission.STEWARD_DATA.value, "role": user.role.value})
            raise QualityError(f"the {user.role.value.replace('_', ' ')} role may not steward data "
                               "(a data steward or an administrator can)")
        return user

    def raise_issues(self, rule_id: str, entity_ids: Sequence[str] | None = None,
                     assignee: str | None = None) -> int:
        """An open issue, with its suggested fix, for each row failing the rule (or the given
        rows among them) that has none yet; shared through sync. How many were raised."""
        user = self._steward()
        rule = self.rule(rule_id)
        if rule.kind == "freshness" or rule.check == "review_queue":
            raise QualityError(f"'{rule.title}' is fixed at its source (an import, the review queue), "
                               "not row by row")
        conn = self._cache.connect(readonly=True)
        try:
            found = monitor.failures(conn, rule)
        finally:
            conn.close()
        wanted = set(entity_ids) if entity_ids is not None else None
        now, made = db_now(), 0
        with self._cache.writer() as w:
            have = {(e, f) for e, f in w.execute(
                "SELECT entity_id, field FROM quality_issue WHERE rule_id = ? AND status = 'open' "
                "AND deleted_at IS NULL", (rule_id,))}
            for f in found:
                if (wanted is not None and f.entity_id not in wanted) or (f.entity_id, f.field) in have:
                    continue
                iid = str(uuid.uuid4())
                row = {"id": iid, "rule_id": rule_id, "entity": f.entity, "entity_id": f.entity_id, "field": f.field,
                       "found_value": f.value, "suggested_value": f.suggestion, "status": "open",
                       "assignee": assignee, "created_at": now, "updated_at": now, "updated_by": user.name}
                w.execute(f"INSERT INTO quality_issue ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                          list(row.values()))
                queue_change(w, "quality_issue", iid, "insert", row)
                made += 1
        return made

    def issues(self, status: str | None = "open", assignee: str | None = None) -> list[Issue]:
        """The stewardship queue: issues by status (None: all) and assignee, oldest first."""
        user = self._user()
        where, args = ["i.deleted_at IS NULL"], []
        if status:
            where.append("i.status = ?")
            args.append(status)
        if assignee:
            where.append("i.assignee = ?")
            args.append(assignee)
        rows = self._cache.reader().execute(
            "SELECT i.id, i.rule_id, i.entity, i.entity_id, COALESCE(c.display_name, cc.display_name, i.entity_id), "
            "i.field, i.found_value, i.suggested_value, i.status, i.assignee, i.created_at, i.decided_by, "
            "i.decided_at, i.decision_note, EXISTS (SELECT 1 FROM outbox o WHERE o.entity = 'quality_issue' "
            "AND o.entity_id = i.id AND o.pushed_at IS NULL) FROM quality_issue i "
            "LEFT JOIN customer c ON i.entity = 'customer' AND c.id = i.entity_id "
            "LEFT JOIN contact_point p ON i.entity = 'contact_point' AND p.id = i.entity_id "
            "LEFT JOIN customer cc ON cc.id = p.customer_id "
            f"WHERE {' AND '.join(where)} ORDER BY i.created_at, i.id", args).fetchall()
        out = []
        for r in rows:
            issue = Issue(*r[:14], pending_sync=bool(r[14]))  # type: ignore[misc]
            out.append(replace(issue, found_value=_masked(issue.field, issue.found_value, user),
                               suggested_value=_masked(issue.field, issue.suggested_value, user)))
        return out

    def _issue_update(self, w: Any, issue_id: str, changes: dict[str, Any], user: User) -> dict[str, Any]:
        row = w.execute("SELECT row_version, status, assignee, decided_by, decided_at, decision_note, entity, "
                        "entity_id, field, found_value, suggested_value FROM quality_issue WHERE id = ? "
                        "AND deleted_at IS NULL", (issue_id,)).fetchone()
        if row is None:
            raise QualityError(f"no quality issue {issue_id}")
        current = dict(zip(("status", "assignee", "decided_by", "decided_at", "decision_note"), row[1:6], strict=True))
        if "decided_by" in changes and current["status"] != "open":
            raise QualityError(f"that issue was {current['status']} already by {current['decided_by']}")
        changed = {k: v for k, v in changes.items() if current.get(k) != v}
        if changed:
            sets = ", ".join(f'"{k}" = ?' for k in changed)
            w.execute(f"UPDATE quality_issue SET {sets}, updated_by = ? WHERE id = ?",
                      (*changed.values(), user.name, issue_id))
            queue_change(w, "quality_issue", issue_id, "update",
                         {"changes": changed, "base": {k: current[k] for k in changed}, "updated_by": user.name},
                         base_row_version=row[0])
        return {"entity": row[6], "entity_id": row[7], "field": row[8], "found": row[9], "suggested": row[10]}

    def _audit(self, w: Any, user: User, action: str, issue_id: str, details: dict[str, Any]) -> None:
        audit_log.record(w, user.name, action, "quality_issue", issue_id, details)

    def assign(self, issue_ids: Sequence[str], assignee: str | None) -> int:
        """Give issues to a steward (None: to nobody); audited. How many changed hands."""
        user = self._steward()
        who = (assignee or "").strip() or None
        n = 0
        with self._cache.writer() as w:
            for iid in issue_ids:
                before = w.execute("SELECT assignee FROM quality_issue WHERE id = ?", (iid,)).fetchone()
                self._issue_update(w, iid, {"assignee": who}, user)
                if before is not None and before[0] != who:
                    self._audit(w, user, "quality.assign", iid, {"from": before[0], "to": who})
                    n += 1
        return n

    def approve(self, issue_id: str, value: str | None = None, note: str = "") -> dict[str, Any]:
        """Apply the suggested fix (or ``value``, the steward's own) to the row, through the
        outbox, and close the issue with an audit entry: one transaction, all or none."""
        user = self._steward()
        now = db_now()
        with self._cache.writer() as w:
            facts = self._issue_update(w, issue_id, {"status": "approved", "decided_by": user.name,
                                                      "decided_at": now, "decision_note": note or None}, user)
            fix = value if value is not None and value.strip() else facts["suggested"]
            if not fix:
                raise QualityError("this issue has no suggested fix: type the right value, or reject it")
            try:
                if facts["entity"] == "customer":
                    applied = update_customer_in(w, facts["entity_id"], {facts["field"]: fix}, user.name)
                elif facts["entity"] == "contact_point":
                    applied = self._fix_contact(w, facts["entity_id"], fix, user)
                else:
                    raise QualityError(f"a {facts['entity']} is fixed at its source, not here")
            except InvalidValue as exc:
                raise QualityError(f"{exc}: nothing was changed") from None
            self._audit(w, user, "quality.approve", issue_id,
                        {"entity": facts["entity"], "entity_id": facts["entity_id"], "field": facts["field"],
                         "from": facts["found"], "to": applied.get(facts["field"], fix), "note": note or None})
        return applied

    @staticmethod
    def _fix_contact(w: Any, contact_id: str, fix: str, user: User) -> dict[str, Any]:
        from c360_desktop.core import validation

        row = w.execute("SELECT row_version, kind, value FROM contact_point WHERE id = ? AND deleted_at IS NULL",
                        (contact_id,)).fetchone()
        if row is None:
            raise QualityError("that contact point no longer exists")
        clean = validation.normalize_phone(fix, "value") if row[1] == "phone" else validation.normalize_email(
            fix, "value")
        if clean == row[2]:
            return {}
        w.execute("UPDATE contact_point SET value = ?, updated_by = ? WHERE id = ?", (clean, user.name, contact_id))
        queue_change(w, "contact_point", contact_id, "update",
                     {"changes": {"value": clean}, "base": {"value": row[2]}, "updated_by": user.name},
                     base_row_version=row[0])
        return {"value": clean}

    def reject(self, issue_id: str, note: str = "") -> None:
        """Close an issue without changing the row (the value is right after all); audited."""
        user = self._steward()
        with self._cache.writer() as w:
            facts = self._issue_update(w, issue_id, {"status": "rejected", "decided_by": user.name,
                                                      "decided_at": db_now(), "decision_note": note or None}, user)
            self._audit(w, user, "quality.reject", issue_id,
                        {"entity": facts["entity"], "entity_id": facts["entity_id"], "field": facts["field"],
                         "note": note or None})
