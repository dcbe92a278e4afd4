"""The register of data-subject requests, and what answering one produces.

A request (access, rectification, objection to direct marketing, erasure) is recorded with the
day it was received and is due ``RESPONSE_DAYS`` later; it is synchronised, so every data
steward sees the same register, and each step is audited. ``gather`` collects everything held
about a person across every source for an access (portability) request; ``write_json`` and
``write_pdf`` put it in a file the person can read and a machine can load.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.ids import new_id
from c360_desktop.core.printable import printable
from c360_desktop.core.private import create_private
from c360_desktop.core.timestamps import db_now

KINDS = ("access", "rectification", "objection", "erasure")
STATUSES = ("open", "done", "refused")
CHANNELS = ("email", "letter", "phone", "in person", "web form")
# The Data Protection Act 2020 gives a controller 30 days to answer a subject's request.
RESPONSE_DAYS = 30
_HIDDEN = ("row_version", "updated_at", "updated_by", "search_key")
SECTIONS = (  # what an access export holds, in the order a reader meets it
    ("contact_point", "Phone numbers and e-mail addresses"), ("customer_address", "Addresses"),
    ("consent", "Consent given or withdrawn"), ("transaction", "Purchases"),
    ("interaction", "Calls, e-mails, visits, messages and tickets"), ("note", "Notes"),
    ("sales_activity", "Sales activities"), ("lead", "Leads"), ("score", "Scores and why"),
    ("alert", "Alerts"), ("social_profile", "Social profiles"),
    ("business_customer_relationship", "Businesses"), ("identity_link", "How the records were linked"),
)


class RequestError(ValueError):
    """A request that cannot be recorded or acted on; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class SubjectRequest:
    id: str
    customer_id: str
    subject: str  # the customer's name now; "erased customer" once they are gone
    kind: str
    received_on: date
    due_on: date
    channel: str
    detail: str
    status: str
    recorded_by: str
    closed_at: str | None
    closed_by: str | None
    outcome: str | None
    pending_sync: bool

    def days_left(self, today: date | None = None) -> int:
        return (self.due_on - (today or date.today())).days

    @property
    def overdue(self) -> bool:
        return self.status == "open" and self.days_left() < 0


def _row(r: sqlite3.Row | tuple) -> SubjectRequest:
    (rid, cid, name, kind, received, due, channel, detail, status, by, closed_at, closed_by, outcome, rv) = r
    return SubjectRequest(rid, cid, name or "erased customer", kind, date.fromisoformat(str(received)[:10]),
                          date.fromisoformat(str(due)[:10]), channel, detail or "", status, by, closed_at, closed_by,
                          outcome, not rv)


_SELECT = ("SELECT r.id, r.customer_id, c.display_name, r.kind, r.received_on, r.due_on, r.channel, r.detail, "
           "r.status, r.recorded_by, r.closed_at, r.closed_by, r.outcome, r.row_version FROM subject_request r "
           "LEFT JOIN customer c ON c.id = r.customer_id")


def listing(conn: sqlite3.Connection, status: str | None = None, customer_id: str | None = None) -> list[SubjectRequest]:
    """The register, open requests first by due date, then the closed ones newest first."""
    where, params = ["r.deleted_at IS NULL"], []
    if status:
        where.append("r.status = ?")
        params.append(status)
    if customer_id:
        where.append("r.customer_id = ?")
        params.append(customer_id)
    rows = conn.execute(f"{_SELECT} WHERE {' AND '.join(where)} "
                        "ORDER BY r.status != 'open', CASE WHEN r.status = 'open' THEN r.due_on END, "
                        "r.closed_at DESC, r.received_on DESC", params)
    return [_row(r) for r in rows]


def get(conn: sqlite3.Connection, request_id: str) -> SubjectRequest:
    row = conn.execute(f"{_SELECT} WHERE r.id = ?", (request_id,)).fetchone()
    if row is None:
        raise RequestError(f"no request {request_id}")
    return _row(row)


def open_request(conn: sqlite3.Connection, actor: str, customer_id: str, kind: str, received_on: date,
                 channel: str, detail: str = "") -> str:
    """Record a request inside the caller's write transaction; returns its id."""
    from c360_desktop.core.profile.service import queue_change

    if kind not in KINDS:
        raise RequestError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if channel not in CHANNELS:
        raise RequestError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    if received_on > date.today():
        raise RequestError(f"received on {received_on.isoformat()} is in the future")
    detail = printable(" ".join((detail or "").split()))
    if len(detail) > 2000:
        raise RequestError("the detail is longer than 2,000 characters")
    if conn.execute("SELECT 1 FROM customer WHERE id = ? AND deleted_at IS NULL", (customer_id,)).fetchone() is None:
        raise RequestError(f"no customer {customer_id} in this cache")
    rid, now = new_id(), db_now()
    due = received_on + timedelta(days=RESPONSE_DAYS)
    row = {"id": rid, "customer_id": customer_id, "kind": kind, "received_on": received_on.isoformat(),
           "due_on": due.isoformat(), "channel": channel, "detail": detail or None, "status": "open",
           "recorded_by": actor, "updated_at": now, "updated_by": actor}
    conn.execute("INSERT INTO subject_request (id, row_version, updated_at, updated_by, customer_id, kind, "
                 "received_on, due_on, channel, detail, status, recorded_by) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, "
                 "'open', ?)", (rid, now, actor, customer_id, kind, row["received_on"], row["due_on"], channel,
                                row["detail"], actor))
    queue_change(conn, "subject_request", rid, "insert", row)
    audit_log.record(conn, actor, "privacy.request.open", "customer", customer_id, {"request_id": rid, "kind": kind})
    return rid


def close_request(conn: sqlite3.Connection, actor: str, request_id: str, status: str, outcome: str) -> None:
    """Mark a request done or refused, with what was done (or why not), inside the caller's transaction."""
    from c360_desktop.core.profile.service import queue_change

    if status not in ("done", "refused"):
        raise RequestError("a request is closed as done or refused")
    outcome = printable(" ".join((outcome or "").split()))
    if not outcome:
        raise RequestError("say what was done, or why the request was refused")
    row = conn.execute("SELECT status, row_version, closed_at, closed_by, outcome, customer_id FROM subject_request "
                       "WHERE id = ?", (request_id,)).fetchone()
    if row is None:
        raise RequestError(f"no request {request_id}")
    if row[0] != "open":
        raise RequestError(f"the request is {row[0]} already")
    now = db_now()
    changes = {"status": status, "closed_at": now, "closed_by": actor, "outcome": outcome}
    conn.execute("UPDATE subject_request SET status = ?, closed_at = ?, closed_by = ?, outcome = ?, updated_by = ? "
                 "WHERE id = ?", (status, now, actor, outcome, actor, request_id))
    queue_change(conn, "subject_request", request_id, "update",
                 {"changes": changes, "base": {"status": row[0], "closed_at": row[2], "closed_by": row[3],
                                               "outcome": row[4]}, "updated_by": actor},
                 base_row_version=row[1])
    audit_log.record(conn, actor, f"privacy.request.{status}", "customer", row[5], {"request_id": request_id})


# ---- access: everything held about the person -----------------------------------------------


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    out = []
    for r in cur:
        row = {c: v for c, v in zip(cols, r, strict=True) if c not in _HIDDEN}
        for key, value in row.items():
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    row[key] = json.loads(value)
        out.append(row)
    return out


def gather(conn: sqlite3.Connection, customer_id: str) -> dict[str, Any]:
    """Everything this cache holds about a customer: the golden record, each source system's
    record of them as it came in, and every row about them, soft-deleted ones included (they
    are still held). Who viewed or changed their record is listed from the audit trail."""
    customer = _rows(conn, "SELECT * FROM customer WHERE id = ?", [customer_id])
    if not customer:
        raise RequestError(f"no customer {customer_id} in this cache")
    out: dict[str, Any] = {"customer": customer[0]}
    out["source_records"] = _rows(
        conn, "SELECT s.system, s.external_id, s.fields, s.imported_at, s.lineage FROM source_record s "
              "JOIN identity_link l ON l.source_record_id = s.id WHERE l.customer_id = ? ORDER BY s.system, "
              "s.external_id", [customer_id])
    for table, _title in SECTIONS:
        order = "occurred_at" if table in ("transaction", "interaction", "sales_activity") else "rowid"
        out[table] = _rows(conn, f'SELECT * FROM "{table}" WHERE customer_id = ? ORDER BY {order}', [customer_id])
    out["segment"] = _rows(conn, "SELECT rfm_segment, cluster_name, r, f, m FROM customer_segment "
                                 "WHERE customer_id = ?", [customer_id])
    out["requests"] = _rows(conn, "SELECT kind, received_on, due_on, channel, status, closed_at, outcome "
                                  "FROM subject_request WHERE customer_id = ? ORDER BY received_on", [customer_id])
    out["access_log"] = _rows(conn, "SELECT occurred_at, actor, action FROM audit_event WHERE entity = 'customer' "
                                    "AND entity_id = ? ORDER BY occurred_at", [customer_id])
    return out


def write_json(data: dict[str, Any], path: Path, manifest: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".part")
    create_private(tmp)
    tmp.write_text(json.dumps({"manifest": manifest, **data}, indent=2, ensure_ascii=False, default=str),
                   encoding="utf-8")
    tmp.replace(path)


def write_pdf(data: dict[str, Any], path: Path, manifest: dict[str, Any]) -> None:
    """A readable PDF: who the record is about, then each section as a table (ReportLab)."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    story: list[Any] = [Paragraph("Personal data held about you", styles["Title"]),
                        Paragraph(escape(f"{data['customer'].get('display_name')} - prepared {manifest['prepared_at']} "
                                         f"by {manifest['prepared_by']} for request {manifest['request_id']}"),
                                  styles["BodyText"]), Spacer(1, 4 * mm)]

    def cell(v: Any) -> Any:
        text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str) if v is not None else ""
        return Paragraph(escape(printable(text))[:3000], small)

    def section(title: str, rows: list[dict[str, Any]]) -> None:
        story.append(Paragraph(escape(title), styles["Heading2"]))
        if not rows:
            story.append(Paragraph("None held.", styles["BodyText"]))
            return
        cols = [c for c in rows[0] if c not in ("id", "customer_id") and any(r.get(c) not in (None, "") for r in rows)]
        if not cols:
            return
        width = (landscape(A4)[0] - 30 * mm) / len(cols)
        table = LongTable([[cell(c.replace("_", " ")) for c in cols], *[[cell(r.get(c)) for c in cols] for r in rows]],
                          colWidths=[width] * len(cols), repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)

    section("Your record", [{"field": k.replace("_", " "), "value": v} for k, v in data["customer"].items()
                            if k not in ("id",) and v not in (None, "")])
    section("As each source system holds it", data["source_records"])
    for table, title in SECTIONS:
        section(title, data.get(table, []))
    section("Segment", data.get("segment", []))
    section("Your requests", data.get("requests", []))
    section("Who viewed or changed your record", data.get("access_log", []))
    tmp = path.with_name(path.name + ".part")
    create_private(tmp)
    SimpleDocTemplate(str(tmp), pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                      topMargin=12 * mm, bottomMargin=12 * mm, title="Personal data held",
                      author="C360 Desktop").build(story)
    tmp.replace(path)


def merged_into(conn: sqlite3.Connection, customer_id: str) -> list[str]:
    """The customer and every customer merged into it (and into those), from the merge ledger."""
    found, todo = [customer_id], [customer_id]
    while todo:
        target = todo.pop()
        for (ids,) in conn.execute("SELECT customer_ids FROM merge_ledger WHERE action = 'merge' AND "
                                   "target_customer_id = ? AND undone_at IS NULL", (target,)):
            for other in json.loads(ids) if isinstance(ids, str) else ids:
                if other not in found:
                    found.append(other)
                    todo.append(other)
    return found


def now_text() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")
