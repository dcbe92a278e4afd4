"""Erasing a person: at the centre, then in every cache, leaving only the proof that it was done.

The request's desktop erases locally and queues the erasure; its push runs ``erase_at_centre``
in the same central transaction as the push's idempotency key (``c360-server erase`` runs it at
the centre directly):

- the person's rows (the golden record, customers merged into it, and everything that hangs off
  them: contacts, addresses, links, source records, sales, interactions, scores, alerts, notes,
  consent, quality issues) are deleted child-first, and the central ``audit_log`` history of every
  one of those rows (which holds their before and after values) goes with them;
- every other free-text value that names them (another customer's note, an audit entry's search
  text, a request's detail) has each mention replaced by ``[erased]``;
- a tombstone row in ``erasure`` holds only ids: which customers and source records went, and
  which audit events were redacted. It is synchronised like any row.

Each cache applies a tombstone when its pull brings it (``apply``): the same deletions by id, the
same redaction of mentions (of the values its own copy held) in every table, local-only ones
included (the outbox, conflicts, merge snapshots, dead letters); then ``finish`` vacuums the file
(with secure_delete on, so no free page keeps a value), truncates the write-ahead log, removes
the columnar reports copy (rebuilt on next use) and the upgrade backups that predate the erasure.
What stays: the request in the register, the tombstone, and audit entries (ids and actions).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from c360_desktop.core.storage.schema import SYNCED_TABLES, Base
from c360_desktop.core.sync.central import CUSTOMER_SCOPED

log = logging.getLogger(__name__)

ERASED = "[erased]"
# Kept after an erasure: the proof that it was honoured (ids and actions only) and the chain.
_KEPT = {"audit_chain", "erasure", "alembic_version", "cache_meta", "search_vocab", "sqlite_sequence"}
_KEEP_ROWS = {"audit_event", "subject_request"}  # their free text is redacted, the rows stay
# Where free text is written: each mention of the person there is replaced by [erased]. Only free
# text: a structured field that holds the same name belongs to a namesake, who keeps it.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "note": ("body",), "interaction": ("subject", "body"), "sales_activity": ("note",),
    "subject_request": ("detail", "outcome"), "audit_event": ("details",),
    "quality_issue": ("found_value", "suggested_value", "decision_note"), "report_annotation": ("body",),
}
# Local only: queued changes to those tables, mail waiting to go, alert reasons; and raw copies of
# messages (bytes), deleted when they mention the person.
LOCAL_FREE_TEXT: dict[str, tuple[str, ...]] = {
    **FREE_TEXT, "outbox": ("payload",), "report_mail": ("subject", "body"), "alert_local": ("reasons",),
}
LOCAL_RAW = {"dead_letter": "raw", "recent_event": "body"}
_NAME_KEYS = ("name", "first", "last", "surname", "given", "family", "business", "company")
_CONTACT_KEYS = ("phone", "mobile", "cell", "tel", "email", "e-mail", "mail", "trn", "tax", "street", "address")
_CHUNK = 500


@dataclass(frozen=True)
class Tombstone:
    id: str
    customer_ids: tuple[str, ...]
    source_record_ids: tuple[str, ...] = ()
    redacted_events: tuple[str, ...] = ()
    request_id: str | None = None
    erased_at: str = ""
    erased_by: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Tombstone:
        def ids(value: Any) -> tuple[str, ...]:
            value = json.loads(value) if isinstance(value, str) else (value or [])
            return tuple(str(v) for v in value)

        return cls(str(row["id"]), ids(row["customer_ids"]), ids(row.get("source_record_ids")),
                   ids(row.get("redacted_events")), row.get("request_id"), str(row.get("erased_at") or ""),
                   str(row.get("updated_by") or ""))

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "customer_ids": list(self.customer_ids),
                "source_record_ids": list(self.source_record_ids), "redacted_events": list(self.redacted_events),
                "request_id": self.request_id, "erased_at": self.erased_at, "updated_at": self.erased_at,
                "updated_by": self.erased_by}


@dataclass
class Applied:
    """What one cache's application of a tombstone did."""

    rows_removed: int = 0
    mentions_redacted: int = 0
    redacted_events: list[str] = field(default_factory=list)
    source_record_ids: list[str] = field(default_factory=list)


# ---- the person's values, and every way a text may write them -------------------------------


def _phone_forms(value: str) -> list[str]:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return [value] if len(digits) >= 7 else []
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return [f"+1{digits}", f"1{digits}", digits, f"{a}-{b}-{c}", f"({a}) {b}-{c}", f"({a}){b}-{c}",
            f"{a} {b} {c}", f"{a}.{b}.{c}", f"1-{a}-{b}-{c}", f"+1 {a} {b} {c}", f"+1 ({a}) {b}-{c}",
            f"+1-{a}-{b}-{c}"]


def _trn_forms(value: str) -> list[str]:
    d = re.sub(r"\D", "", value)
    if len(d) != 9:
        return [value] if len(d) >= 6 else []
    return [d, f"{d[:3]}-{d[3:6]}-{d[6:]}", f"{d[:3]} {d[3:6]} {d[6:]}"]


def mention_forms(names: Iterable[str | None], phones: Iterable[str | None], emails: Iterable[str | None],
                  trns: Iterable[str | None], streets: Iterable[str | None]) -> list[str]:
    """The strings whose mention in a free text identifies the person, longest first. Single
    words are left alone (a given name alone, a town) and so are streets without a number: they
    name many people."""
    out: set[str] = set()
    for name in names:
        name = " ".join((name or "").split())
        if len(name) >= 5 and " " in name:
            out.add(name)
    for phone in phones:
        out.update(_phone_forms(phone or ""))
    for email in emails:
        if email and "@" in email:
            out.add(email.strip())
    for trn in trns:
        out.update(_trn_forms(trn or ""))
    for street in streets:
        street = " ".join((street or "").split())
        if len(street) >= 6 and any(ch.isdigit() for ch in street) and " " in street:
            out.add(street)
    return sorted(out, key=lambda s: (-len(s), s))


class Redactor:
    """Finds and replaces the person's mentions: case-insensitive, whole words only (so "Ann
    Brown" is not found in "Joann Browne"), in text and in JSON values."""

    def __init__(self, forms: Sequence[str]) -> None:
        self.forms = list(forms)
        self._re = (re.compile("(?<![\\w@.+-])(?:" + "|".join(re.escape(f) for f in self.forms) + ")(?![\\w@])",
                               re.IGNORECASE) if self.forms else None)

    def __bool__(self) -> bool:
        return self._re is not None

    def found(self, value: Any) -> bool:
        if self._re is None or value is None:
            return False
        if isinstance(value, bytes | memoryview):
            value = bytes(value).decode("utf-8", "replace")
        return bool(self._re.search(str(value)))

    def text(self, value: str) -> tuple[str, int]:
        assert self._re is not None
        return self._re.subn(ERASED, value)

    def json_text(self, value: Any) -> tuple[Any, int]:
        """A JSON document with mentions redacted inside its strings (keys and structure kept)."""
        doc = json.loads(value) if isinstance(value, str) else value
        count = 0

        def walk(node: Any) -> Any:
            nonlocal count
            if isinstance(node, str):
                new, n = self.text(node)
                count += n
                return new
            if isinstance(node, list):
                return [walk(v) for v in node]
            if isinstance(node, dict):
                return {k: walk(v) for k, v in node.items()}
            return node

        return json.dumps(walk(doc), ensure_ascii=False), count


def person_forms(customers: Iterable[Mapping[str, Any]], contacts: Iterable[str | None],
                 source_fields: Iterable[Mapping[str, Any]], streets: Iterable[str | None] = ()) -> list[str]:
    """``mention_forms`` from a person's customer rows, contact values and source records' raw fields."""
    names: list[str | None] = []
    phones: list[str | None] = []
    emails: list[str | None] = []
    trns: list[str | None] = []
    places: list[str | None] = list(streets)
    for c in customers:
        names += [c.get("display_name"), c.get("business_name"),
                  f"{c.get('given_name') or ''} {c.get('family_name') or ''}".strip(),
                  f"{c.get('family_name') or ''}, {c.get('given_name') or ''}" if c.get("family_name") else None]
        phones.append(c.get("primary_phone"))
        emails.append(c.get("primary_email"))
        trns.append(c.get("trn"))
        places.append(c.get("street"))
    for value in contacts:
        (emails if value and "@" in value else phones).append(value)
    for raw in source_fields:
        given = family = None
        for key, value in (raw or {}).items():
            if not isinstance(value, str | int) or value == "":
                continue
            k, v = str(key).lower(), str(value)
            if "trn" in k or "tax" in k:
                trns.append(v)
            elif "mail" in k:
                emails.append(v)
            elif any(w in k for w in ("phone", "mobile", "cell", "tel")):
                phones.append(v)
            elif any(w in k for w in ("street", "address")):
                places.append(v)
            elif any(w in k for w in ("first", "given")):
                given = v
            elif any(w in k for w in ("last", "surname", "family")):
                family = v
            elif any(w in k for w in _NAME_KEYS):
                names.append(v)
        if given and family:
            names += [f"{given} {family}", f"{family}, {given}", f"{family} {given}"]
    return mention_forms(names, phones, emails, trns, places)


# ---- in a cache ------------------------------------------------------------------------------


def chunks(values: Sequence[str]) -> Iterator[list[str]]:
    """``values`` in lists short enough for one IN (...) (SQL Server takes at most 2,100 parameters)."""
    for i in range(0, len(values), _CHUNK):
        yield list(values[i : i + _CHUNK])


def _local_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every ordinary table of the cache with its columns (virtual tables and their shadow
    tables left out: the search index and the map index are kept by their own code)."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()
    virtual = [n for n, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    names = sorted(n for n, _ in rows if n not in virtual and not any(n.startswith(v + "_") for v in virtual))
    return {n: [r[1] for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}


def _is_json(table: str, column: str) -> bool:
    t = Base.metadata.tables.get(table)
    return t is not None and column in t.columns and type(t.columns[column].type).__name__ == "JSON"


def apply(conn: sqlite3.Connection, tomb: Tombstone, actor: str = "sync") -> Applied:
    """Apply a tombstone inside the caller's write transaction: delete the person's rows by id,
    redact their mentions everywhere, take them out of the search index, and mark the file for
    ``finish``. Idempotent: a second application finds nothing more to do."""
    from c360_desktop.core.audit import log as audit_log
    from c360_desktop.core.search import index as search_index

    conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed as they are freed
    done = Applied()
    ids = list(dict.fromkeys(tomb.customer_ids))
    srids = set(tomb.source_record_ids)
    customers: list[dict[str, Any]] = []
    contacts: list[str | None] = []
    streets: list[str | None] = []
    children: set[str] = set()
    alert_ids: list[str] = []
    for part in chunks(ids):
        m = ",".join("?" * len(part))
        cur = conn.execute(f"SELECT * FROM customer WHERE id IN ({m})", part)
        cols = [d[0] for d in cur.description]
        customers += [dict(zip(cols, r, strict=True)) for r in cur]
        contacts += [r[0] for r in conn.execute(f"SELECT value FROM contact_point WHERE customer_id IN ({m})", part)]
        streets += [r[0] for r in conn.execute(f"SELECT street FROM customer_address WHERE customer_id IN ({m})", part)]
        srids.update(r[0] for r in conn.execute(
            f"SELECT source_record_id FROM identity_link WHERE customer_id IN ({m})", part))
        for child in CUSTOMER_SCOPED:
            children.update(r[0] for r in conn.execute(f'SELECT id FROM "{child}" WHERE customer_id IN ({m})', part))
        alert_ids += [r[0] for r in conn.execute(f"SELECT id FROM alert WHERE customer_id IN ({m})", part)]
    source_list = sorted(srids)
    raws: list[dict[str, Any]] = []
    for part in chunks(source_list):
        m = ",".join("?" * len(part))
        for (fields,) in conn.execute(f"SELECT fields FROM source_record WHERE id IN ({m})", part):
            with contextlib.suppress(ValueError, TypeError):
                raws.append(json.loads(fields) if isinstance(fields, str) else dict(fields or {}))
    redactor = Redactor(person_forms(customers, contacts, raws, streets))
    done.source_record_ids = source_list

    # Out of the search index while the rows that key it still exist.
    search_index.forget_customers(conn, ids)
    for part in chunks(ids):
        m = ",".join("?" * len(part))
        done.rows_removed += conn.execute(
            f"DELETE FROM customer_geo WHERE key IN (SELECT search_key FROM customer WHERE id IN ({m}))",
            part).rowcount
    tables = _local_tables(conn)
    every_id = [*ids, *source_list, *sorted(children)]
    by_column = {"customer_id": ids, "customer_a": ids, "customer_b": ids, "target_customer_id": ids,
                 "source_record_id": source_list, "alert_id": alert_ids, "entity_id": every_id}
    order = [t for t in reversed(SYNCED_TABLES) if t in tables] + sorted(t for t in tables if t not in SYNCED_TABLES)
    for name in order:
        if name in _KEPT or name in _KEEP_ROWS:
            continue
        columns = set(tables[name])
        for column, values in by_column.items():
            if column in columns and values:
                for part in chunks(values):
                    done.rows_removed += conn.execute(
                        f'DELETE FROM "{name}" WHERE "{column}" IN ({",".join("?" * len(part))})', part).rowcount
    for part in chunks(ids):
        m = ",".join("?" * len(part))
        done.rows_removed += conn.execute(
            f"DELETE FROM merge_ledger WHERE EXISTS (SELECT 1 FROM json_each(merge_ledger.customer_ids) "
            f"WHERE value IN ({m}))", part).rowcount
    for part in chunks(source_list):
        done.rows_removed += conn.execute(
            f"DELETE FROM source_record WHERE id IN ({','.join('?' * len(part))})", part).rowcount
    for part in chunks(ids):
        done.rows_removed += conn.execute(
            f"DELETE FROM customer WHERE id IN ({','.join('?' * len(part))})", part).rowcount

    if redactor:
        done.mentions_redacted, redacted = _redact_local(conn, tables, redactor)
        done.redacted_events = redacted
    chained = set(done.redacted_events)
    central_listed = [e for e in tomb.redacted_events if e not in chained]
    if central_listed:
        for part in chunks(central_listed):
            chained.update(r[0] for r in conn.execute(
                f"SELECT event_id FROM audit_chain WHERE event_id IN ({','.join('?' * len(part))})", part))
    if done.rows_removed or done.mentions_redacted or chained:
        # Something of theirs was here (or in pages the centre's redacted versions replaced): the
        # file is cleaned by ``finish``. A cache that held nothing of them (a new one's first
        # pull, another territory) is left as it is: no vacuum, no rebuilt reports copy.
        conn.execute("INSERT INTO customer_fts (customer_fts) VALUES ('optimize')")
        conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('erasure_vacuum_due', '1')")
        conn.execute("DELETE FROM cache_meta WHERE key = 'reports_copy'")  # the columnar copy is built again
        audit_log.record(conn, actor, "privacy.erasure", "erasure", tomb.id,
                         {"request_id": tomb.request_id, "customers": len(ids), "rows_removed": done.rows_removed,
                          "mentions_redacted": done.mentions_redacted, "redacted_events": sorted(chained)})
    conn.execute("PRAGMA secure_delete = OFF")
    log.info("erasure %s applied: %d rows removed, %d mentions redacted", tomb.id, done.rows_removed,
             done.mentions_redacted)
    return done


def _redact_local(conn: sqlite3.Connection, tables: Mapping[str, list[str]],
                  redactor: Redactor) -> tuple[int, list[str]]:
    """Replace the person's mentions in the free-text columns (``LOCAL_FREE_TEXT``); raw message
    copies that mention them are deleted. Returns the count and the audit events redacted."""
    conn.create_function("c360_mentions", 1, redactor.found, deterministic=True)
    total, events = 0, []
    for name, raw in LOCAL_RAW.items():
        if name in tables:
            total += conn.execute(f'DELETE FROM "{name}" WHERE c360_mentions("{raw}")').rowcount
    for name, texts in LOCAL_FREE_TEXT.items():
        if name not in tables:
            continue
        key = "id" if "id" in tables[name] else "rowid"
        where = " OR ".join(f'c360_mentions("{c}")' for c in texts)
        if name == "outbox":  # only changes to free-text tables: another customer's fields are theirs
            where = f"({where}) AND entity IN ({', '.join(repr(t) for t in FREE_TEXT)})"
        rows = conn.execute(f'SELECT {key}, {", ".join(chr(34) + c + chr(34) for c in texts)} '
                            f'FROM "{name}" WHERE {where}').fetchall()
        for row_key, *values in rows:
            sets: dict[str, Any] = {}
            for column, value in zip(texts, values, strict=True):
                if not isinstance(value, str) or not redactor.found(value):
                    continue
                try:
                    new, n = redactor.json_text(value) if _is_json(name, column) else redactor.text(value)
                except ValueError:
                    new, n = redactor.text(value)
                sets[column], total = new, total + n
            if sets:
                assignments = ", ".join(f'"{c}" = ?' for c in sets)
                conn.execute(f'UPDATE "{name}" SET {assignments} WHERE {key} = ?', (*sets.values(), row_key))
                if name == "audit_event":
                    events.append(str(row_key))
    conn.create_function("c360_mentions", 1, None)
    return total, sorted(events)


def finish(cache: Any) -> None:
    """After an erasure's transaction: vacuum the cache (no free page keeps a value), truncate
    its write-ahead log, discard the columnar reports copy and the upgrade backups, which hold
    the person as they were. Safe to run again; a failure leaves the mark for the next start."""
    from c360_desktop.core.reports import columnar

    if cache.meta("erasure_vacuum_due") != "1":
        return
    columnar.discard(Path(cache.path))
    path = Path(cache.path)
    for backup in path.parent.glob(f"{path.name}.pre-*.bak"):
        with contextlib.suppress(OSError):
            backup.unlink()
            log.info("removed %s: it held records erased since", backup.name)
    cache.vacuum()
    with cache.writer() as w:
        w.execute("DELETE FROM cache_meta WHERE key = 'erasure_vacuum_due'")
    cache.checkpoint_truncate()


# ---- at the centre ---------------------------------------------------------------------------


def _central_text_columns() -> dict[str, list[tuple[str, bool]]]:
    """The centre's free-text columns: (name, is JSON) per table; the audit history of the
    free-text tables too (a note that mentioned the person, as it was before)."""
    out = {name: [(c, _is_json(name, c)) for c in cols] for name, cols in FREE_TEXT.items()}
    out["audit_log"] = [("before", True), ("after", True)]
    return out


def erase_at_centre(central: Any, tomb: Tombstone) -> Tombstone:
    """Erase the person at the centre inside the caller's central transaction and write the
    tombstone (completed with every source record and redacted audit event found there).
    ``central`` is a core.sync.central.Central. Returns the tombstone as written."""
    from sqlalchemy import (
        Text,
        cast,
        column,
        delete,
        insert,
        or_,
        select,
        table,
        text,
    )

    c = central
    ids = list(dict.fromkeys(tomb.customer_ids))
    if c.dialect.name == "mssql":
        c.write(text("EXEC sp_set_session_context N'c360.bulk_load', N'on'"))
    else:  # the audit trigger stays quiet: no before-image of what is being erased
        c.run(text("SELECT set_config('c360.bulk_load', 'on', true)"))
    srids = set(tomb.source_record_ids)
    customers: list[dict[str, Any]] = []
    contacts: list[str | None] = []
    streets: list[str | None] = []
    deleted: dict[str, list[str]] = {}
    cust_cols = ["id", "display_name", "given_name", "family_name", "business_name", "trn", "primary_phone",
                 "primary_email", "street"]
    ct = table("customer", *(column(n) for n in cust_cols))
    for part in chunks(ids):
        customers += [dict(zip(cust_cols, r, strict=True)) for r in c.run(select(*ct.c).where(ct.c.id.in_(part)))]
        cp = table("contact_point", column("value"), column("customer_id"))
        contacts += [r[0] for r in c.run(select(cp.c.value).where(cp.c.customer_id.in_(part)))]
        ca = table("customer_address", column("street"), column("customer_id"))
        streets += [r[0] for r in c.run(select(ca.c.street).where(ca.c.customer_id.in_(part)))]
        il = table("identity_link", column("source_record_id"), column("customer_id"))
        srids.update(r[0] for r in c.run(select(il.c.source_record_id).where(il.c.customer_id.in_(part))))
    source_list = sorted(srids)
    raws: list[dict[str, Any]] = []
    sr = table("source_record", column("id"), column("fields"))
    for part in chunks(source_list):
        for (fields,) in c.run(select(cast(sr.c.fields, Text)).where(sr.c.id.in_(part))):
            with contextlib.suppress(ValueError, TypeError):
                raws.append(json.loads(fields) if isinstance(fields, str) else dict(fields or {}))
    redactor = Redactor(person_forms(customers, contacts, raws, streets))

    for name in [t for t in reversed(SYNCED_TABLES) if t in CUSTOMER_SCOPED]:
        t = table(name, column("id"), column("customer_id"))
        for part in chunks(ids):
            gone = [r[0] for r in c.run(select(t.c.id).where(t.c.customer_id.in_(part)))]
            if gone:
                deleted.setdefault(name, []).extend(gone)
                c.write(delete(t).where(t.c.customer_id.in_(part)))
    for name, key_list in (("source_record", source_list), ("customer", ids)):
        t = table(name, column("id"))
        for part in chunks(key_list):
            gone = [r[0] for r in c.run(select(t.c.id).where(t.c.id.in_(part)))]
            if gone:
                deleted.setdefault(name, []).extend(gone)
                c.write(delete(t).where(t.c.id.in_(part)))
    every = [i for rows in deleted.values() for i in rows]
    qi = table("quality_issue", column("entity_id"))
    al = table("audit_log", column("row_id"))
    for part in chunks(every):
        c.write(delete(qi).where(qi.c.entity_id.in_(part)))
        c.write(delete(al).where(al.c.row_id.in_(part)))

    redacted: set[str] = set(tomb.redacted_events)
    if redactor:
        for name, cols in _central_text_columns().items():
            key = "id"
            extra: list[Any] = [column("table_name")] if name == "audit_log" else []
            t = table(name, column(key), *extra, *(column(n) for n, _ in cols))
            texts = [cast(t.c[n], Text) if is_json else t.c[n] for n, is_json in cols]
            conds = [expr.ilike(f"%{_like(form)}%", escape="\\") for expr in texts for form in redactor.forms]
            scope = [t.c.table_name.in_(list(FREE_TEXT))] if name == "audit_log" else []
            for start in range(0, len(conds), 200):  # long OR lists in slices: statements stay small
                found = c.run(select(t.c[key], *texts).where(or_(*conds[start : start + 200]), *scope))
                for row_key, *values in found:
                    sets: dict[str, Any] = {}
                    for (n, is_json), value in zip(cols, values, strict=True):
                        if isinstance(value, str) and redactor.found(value):
                            try:
                                sets[n] = redactor.json_text(value)[0] if is_json else redactor.text(value)[0]
                            except ValueError:
                                sets[n] = redactor.text(value)[0]
                    if sets:
                        upd = table(name, column(key), *(column(n) for n in sets))  # JSON goes as its text
                        c.write(upd.update().where(upd.c[key] == row_key).values(sets))
                        if name == "audit_event":
                            redacted.add(str(row_key))
    final = Tombstone(tomb.id, tuple(ids), tuple(source_list), tuple(sorted(redacted)), tomb.request_id,
                      tomb.erased_at, tomb.erased_by)
    et = table("erasure", *(column(n) for n in ("id", "customer_ids", "source_record_ids", "redacted_events",
                                                "request_id", "erased_at", "updated_at", "updated_by")))
    row = final.row()
    c.write(insert(et).values({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()}))
    if c.dialect.name == "mssql":
        c.write(text("EXEC sp_set_session_context N'c360.bulk_load', NULL"))
    log.info("erasure %s at the centre: %d rows deleted, %d audit events redacted", tomb.id, len(every),
             len(redacted))
    return final


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def erased_customers(central: Any) -> set[str]:
    """Every customer id the centre's tombstones name (a push drops changes to them)."""
    from sqlalchemy import Text, cast, column, select, table

    t = table("erasure", column("customer_ids"))
    out: set[str] = set()
    for (value,) in central.run(select(cast(t.c.customer_ids, Text))):
        with contextlib.suppress(ValueError, TypeError):
            out.update(str(v) for v in json.loads(value))
    central.rollback()
    return out
