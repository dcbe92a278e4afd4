"""Retention: how long each kind of record is kept, as data, and the job that applies it.

At the centre (``run_central``, ``c360-server retention run``, scheduled like any job: cron, a
Kubernetes CronJob), each policy either

- **deletes** rows older than its age: they are soft-deleted and their free text emptied, so the
  deletion reaches every cache through the ordinary pull (row versions move on), or
- **anonymises** customers with no purchase, interaction or activity for that long: names, TRN,
  date of birth, phones, e-mails and street become empty, their contacts, addresses, social
  profiles and source records are soft-deleted with their values emptied, and the figures
  (purchases, scores) stay, under "Anonymised customer".

Either way the central ``audit_log`` history of those rows (which holds the old values) goes too,
and the audit trigger writes no before-image. Each run is recorded as an ``audit_event``, synced,
with what it removed per policy; a dry run counts without changing anything.

In a cache (``run_local``, ``c360 retention run``), local-only records are removed past their age:
dead letters, recent raw events, report runs and sent mail, quality history.

Policies come from ``DEFAULT_POLICIES`` or a JSON file (a list of objects with ``id``, ``table``,
``action``, ``older_than_days`` and an optional ``description``), checked field by field.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from c360_desktop.core.privacy.erasure import FREE_TEXT, chunks

log = logging.getLogger(__name__)

# The date that makes a row old, per table a policy may name.
AGE_COLUMN = {"interaction": "occurred_at", "note": "created_at", "sales_activity": "occurred_at",
              "alert": "created_at", "consent": "recorded_at", "lead": "created_at", "score": "scored_at",
              "audit_event": "occurred_at", "transaction": "occurred_at", "customer": None}
ANONYMISED = "Anonymised customer"
_CUSTOMER_PII = {"display_name": ANONYMISED, "given_name": None, "family_name": None, "business_name": None,
                 "trn": None, "date_of_birth": None, "street": None, "postal_zone": None, "lat": None, "lon": None,
                 "primary_phone": None, "primary_email": None, "status": "anonymised"}
# Values a child row of an anonymised customer keeps: NOT NULL text columns become "".
_CHILD_EMPTIED: dict[str, dict[str, Any]] = {"contact_point": {"value": ""}, "customer_address": {"street": "", "town": "", "postal_zone": None,
                                                                      "lat": None, "lon": None},
                  "social_profile": {"handle": "", "url": None}}
# Local-only records and how long a cache keeps them (days).
LOCAL_POLICIES = (("dead_letter", "received_at", 90), ("recent_event", "occurred_at", 30),
                  ("report_run", "ran_at", 365), ("report_mail", "sent_at", 90), ("quality_run", "ran_at", 730))


class RetentionError(ValueError):
    """A policy file or a run that cannot go ahead; the message names what is wrong and where."""


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=80)
    table: str
    action: Literal["delete", "anonymise"]
    older_than_days: int = Field(ge=30, le=36_500)
    description: str = ""

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        if value not in AGE_COLUMN:
            raise ValueError(f"is not a table a policy may name ({', '.join(sorted(AGE_COLUMN))})")
        return value

    def model_post_init(self, _context: Any) -> None:
        if (self.action == "anonymise") != (self.table == "customer"):
            raise ValueError("anonymise is for the customer table, and the customer table is only anonymised")


DEFAULT_POLICIES: tuple[Policy, ...] = (
    Policy(id="interactions-7y", table="interaction", action="delete", older_than_days=7 * 365,
           description="calls, e-mails, visits and tickets older than 7 years"),
    Policy(id="notes-7y", table="note", action="delete", older_than_days=7 * 365,
           description="notes older than 7 years"),
    Policy(id="activities-7y", table="sales_activity", action="delete", older_than_days=7 * 365,
           description="sales activities older than 7 years"),
    Policy(id="alerts-2y", table="alert", action="delete", older_than_days=2 * 365,
           description="alerts older than 2 years"),
    Policy(id="inactive-customers-6y", table="customer", action="anonymise", older_than_days=6 * 365,
           description="customers with no purchase, interaction or activity for 6 years"),
)


def load_policies(path: Path) -> tuple[Policy, ...]:
    """Policies from a JSON file; RetentionError naming the file, the entry and the field."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise RetentionError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RetentionError(f"{path} is not JSON: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise RetentionError(f"{path} must hold a list of policies")
    out: list[Policy] = []
    for i, entry in enumerate(raw):
        try:
            out.append(Policy.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            raise RetentionError(f"{path}: policy {i + 1}, {where}: {first['msg']}") from None
    ids = [p.id for p in out]
    if len(set(ids)) != len(ids):
        raise RetentionError(f"{path}: two policies share the id {next(i for i in ids if ids.count(i) > 1)!r}")
    return tuple(out)


@dataclass
class Outcome:
    policy: str
    table: str
    action: str
    cutoff: str
    rows: int
    children: int = 0  # child rows emptied with an anonymised customer


@dataclass
class Report:
    dry_run: bool
    as_of: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.outcomes)

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        return [f"{o.policy:24} {o.table:15} {o.action:9} before {o.cutoff[:10]}: {verb} {o.rows:,} rows"
                + (f" (+{o.children:,} contacts, addresses and records)" if o.children else "") for o in self.outcomes]


def _cutoff(as_of: datetime, days: int) -> str:
    return (as_of - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def run_central(conn: Any, policies: Sequence[Policy] = DEFAULT_POLICIES, as_of: datetime | None = None,
                dry_run: bool = False, actor: str = "retention") -> Report:
    """Apply the policies at the centre in one transaction of ``conn`` (a SQLAlchemy Connection,
    committed by the caller). Returns what was (or, dry, would be) removed."""
    from sqlalchemy import (
        and_,
        column,
        delete,
        exists,
        func,
        insert,
        or_,
        select,
        table,
        text,
        union_all,
    )

    as_of = as_of or datetime.now(UTC).replace(tzinfo=None)
    report = Report(dry_run, as_of.strftime("%Y-%m-%d %H:%M:%S"))
    dialect = conn.dialect.name
    if not dry_run:
        if dialect == "mssql":
            conn.execute(text("EXEC sp_set_session_context N'c360.bulk_load', N'on'"))
        else:
            conn.execute(text("SELECT set_config('c360.bulk_load', 'on', true)"))
    audit = table("audit_log", column("row_id"))
    for policy in policies:
        cutoff = _cutoff(as_of, policy.older_than_days)
        if policy.action == "delete":
            age = AGE_COLUMN[policy.table] or "created_at"
            texts = FREE_TEXT.get(policy.table, ())
            t = table(policy.table, column("id"), column("deleted_at"), column("updated_by"), column(age),
                      *(column(c) for c in texts))
            where = and_(t.c[age] < cutoff, t.c.deleted_at.is_(None))
            ids = [r[0] for r in conn.execute(select(t.c.id).where(where))]
            if ids and not dry_run:
                for part in chunks(ids):
                    conn.execute(t.update().where(t.c.id.in_(part)).values(
                        deleted_at=func.now(), updated_by=actor, **dict.fromkeys(texts)))
                    conn.execute(delete(audit).where(audit.c.row_id.in_(part)))
            report.outcomes.append(Outcome(policy.id, policy.table, "delete", cutoff, len(ids)))
            continue
        c = table("customer", column("id"), column("status"), column("created_at"), column("updated_by"),
                  *(column(k) for k in _CUSTOMER_PII))
        last = []
        for name, col in (("transaction", "occurred_at"), ("interaction", "occurred_at"),
                          ("sales_activity", "occurred_at")):
            child = table(name, column("customer_id"), column(col))
            last.append(select(child.c.customer_id).where(child.c[col] >= cutoff))
        recent = union_all(*last).subquery()
        ids = [r[0] for r in conn.execute(
            select(c.c.id).where(c.c.status != "anonymised", or_(c.c.created_at.is_(None), c.c.created_at < cutoff),
                                 ~exists(select(recent.c.customer_id).where(recent.c.customer_id == c.c.id))))]
        children = 0
        if ids and not dry_run:
            for part in chunks(ids):
                conn.execute(c.update().where(c.c.id.in_(part)).values(updated_by=actor, **_CUSTOMER_PII))
                conn.execute(delete(audit).where(audit.c.row_id.in_(part)))
                for name, values in _CHILD_EMPTIED.items():
                    t = table(name, column("id"), column("customer_id"), column("deleted_at"), column("updated_by"),
                              *(column(k) for k in values))
                    gone = [r[0] for r in conn.execute(select(t.c.id).where(t.c.customer_id.in_(part)))]
                    children += len(gone)
                    for sub in chunks(gone):
                        conn.execute(t.update().where(t.c.id.in_(sub)).values(
                            deleted_at=func.now(), updated_by=actor, **values))
                        conn.execute(delete(audit).where(audit.c.row_id.in_(sub)))
                link = table("identity_link", column("source_record_id"), column("customer_id"))
                sr = table("source_record", column("id"), column("fields"), column("deleted_at"), column("updated_by"))
                srids = [r[0] for r in conn.execute(select(link.c.source_record_id).where(link.c.customer_id.in_(part)))]
                children += len(srids)
                for sub in chunks(srids):
                    conn.execute(sr.update().where(sr.c.id.in_(sub)).values(
                        fields="{}", deleted_at=func.now(), updated_by=actor))
                    conn.execute(delete(audit).where(audit.c.row_id.in_(sub)))
        report.outcomes.append(Outcome(policy.id, "customer", "anonymise", cutoff, len(ids), children))
    if not dry_run:
        ev = table("audit_event", *(column(n) for n in ("id", "actor", "action", "entity", "entity_id",
                                                        "occurred_at", "details", "updated_by")))
        conn.execute(insert(ev).values(
            id=str(uuid.uuid4()), actor=actor, action="retention.run", entity="retention", entity_id=None,
            occurred_at=func.now(), updated_by=actor,
            details=json.dumps({o.policy: o.rows for o in report.outcomes})))
        if dialect == "mssql":
            conn.execute(text("EXEC sp_set_session_context N'c360.bulk_load', NULL"))
    for line in report.lines():
        log.info("retention: %s", line)
    return report


def run_local(conn: sqlite3.Connection, as_of: datetime | None = None, dry_run: bool = False) -> Report:
    """Remove local-only records past their age, inside the caller's write transaction."""
    as_of = as_of or datetime.now(UTC).replace(tzinfo=None)
    report = Report(dry_run, as_of.strftime("%Y-%m-%d %H:%M:%S"))
    for name, col, days in LOCAL_POLICIES:
        cutoff = _cutoff(as_of, days)
        where = f'"{col}" IS NOT NULL AND "{col}" < ?'
        if dry_run:
            (n,) = conn.execute(f'SELECT count(*) FROM "{name}" WHERE {where}', (cutoff,)).fetchone()
        else:
            if name == "quality_run":
                conn.execute(f'DELETE FROM quality_result WHERE run_id IN (SELECT id FROM quality_run WHERE {where})',
                             (cutoff,))
            n = conn.execute(f'DELETE FROM "{name}" WHERE {where}', (cutoff,)).rowcount
        report.outcomes.append(Outcome(f"local-{name}", name, "delete", cutoff, int(n)))
    return report
