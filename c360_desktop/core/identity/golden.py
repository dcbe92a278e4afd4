"""Golden records: survivorship with provenance, and merges that can always be undone.

A customer (the golden record) is made of source records (``identity_link``). Each golden field
is chosen from those records by a list of rules tried in order (``source_priority``,
``most_recent``, ``most_frequent``, ``most_complete``), the next rule breaking the previous one's
ties, and keeps where it came from: the source system, the record, when it was seen and the rule
that chose it (``golden_value``, migration 0009).

A merge moves the source records of some customers to one, retires the others (soft delete),
chooses the golden fields again and writes it all, with a snapshot of every row it touches, to
the merge ledger, in one transaction; the changes go to the outbox like any edit. Unmerge writes
the snapshot back (every data column of every touched row) and queues that too: nothing is ever
destroyed, and a wrong merge costs one click.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.identity.standardise import email as std_email
from c360_desktop.core.identity.standardise import phone as std_phone
from c360_desktop.core.timestamps import db_now

RULES = ("source_priority", "most_recent", "most_frequent", "most_complete")
GOLDEN_FIELDS = ("display_name", "primary_phone", "primary_email", "street", "town", "parish", "trn")
DEFAULT_SURVIVORSHIP: dict[str, tuple[str, ...]] = {
    # names as the books of record write them; contact details as most systems hold them, the
    # newest breaking ties; addresses change, so the newest wins
    "display_name": ("source_priority", "most_complete"),
    "primary_phone": ("most_frequent", "most_recent"),
    "primary_email": ("most_recent", "most_frequent"),
    "street": ("most_recent", "most_complete"),
    "town": ("most_recent", "most_frequent"),
    "parish": ("most_recent", "most_frequent"),
    "trn": ("source_priority", "most_frequent"),
}
DEFAULT_PRIORITY = ("quickbooks", "directory", "spreadsheet", "social")

# How each demo source system's columns map onto golden fields (connectors write the same keys).
SYSTEM_FIELDS: dict[str, dict[str, str]] = {
    "quickbooks": {"Customer": "display_name", "Phone": "primary_phone", "Email": "primary_email",
                   "Bill to": "_address", "Tax ID": "trn"},
    "spreadsheet": {"Name": "display_name", "Phone": "primary_phone", "Town": "town", "Parish": "parish"},
    "directory": {"Business Name": "display_name", "Telephone": "primary_phone", "Address": "_address",
                  "Parish": "parish"},
    "social": {"Display name": "display_name", "Location": "town"},
}
# Any other source (a spreadsheet, a CSV with a column mapping): its field names, compared
# without case, as the import dialog and `c360 import --map` write them.
FIELD_ALIASES: dict[str, str] = {
    **{k: "display_name" for k in ("name", "full name", "customer", "customer name", "business name",
                                   "company", "company name")},
    **{k: "primary_phone" for k in ("phone", "telephone", "mobile", "cell", "phone number")},
    **{k: "primary_email" for k in ("email", "e-mail", "email address")},
    **{k: "_address" for k in ("address", "bill to")},
    "street": "street", "town": "town", "city": "town", "parish": "parish",
    **{k: "trn" for k in ("trn", "tax id")},
}


def system_kind(system: str) -> str:
    """What kind of source a system is: ``quickbooks:head-office`` is a QuickBooks file."""
    return system.partition(":")[0]


def _field_map(system: str, fields: Mapping[str, Any]) -> dict[str, str]:
    known = SYSTEM_FIELDS.get(system_kind(system))
    if known is not None and system_kind(system) != "spreadsheet":
        return known
    return {key: FIELD_ALIASES[key.casefold().strip()] for key in fields if key.casefold().strip() in FIELD_ALIASES}


@dataclass(frozen=True)
class Observation:
    """One source record's say on a customer, in golden-field terms."""

    source_record_id: str
    system: str
    seen_at: str  # when the source record was imported (ISO text)
    values: Mapping[str, str]


@dataclass(frozen=True)
class GoldenValue:
    value: str
    source_record_id: str
    system: str
    seen_at: str
    rule: str


def canonical(system: str, fields: Mapping[str, Any]) -> dict[str, str]:
    """A source record's fields as golden fields (standard phone and e-mail forms)."""
    from c360_desktop.core.jamaica import parish_code

    out: dict[str, str] = {}
    mapping = _field_map(system, fields)
    if "display_name" not in mapping.values():  # a name in two columns
        given = str(fields.get("Given name") or "").strip()
        family = str(fields.get("Family name") or "").strip()
        if given or family:
            out["display_name"] = f"{given} {family}".strip()
    for key, target in mapping.items():
        raw = fields.get(key)
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        if target == "_address":
            parts = [p.strip() for p in text.split(",") if p.strip()]
            if parts:
                out["street"] = parts[0]
            if len(parts) >= 2:
                out["town"] = parts[1]
            if len(parts) >= 3 and parish_code(parts[-1]):
                out["parish"] = parish_code(parts[-1]) or ""
        elif target == "display_name" and system_kind(system) == "quickbooks" and text.count(",") == 1:
            family, given = text.split(",")
            out[target] = f"{given.strip()} {family.strip()}"
        elif target == "primary_phone":
            out[target] = std_phone(text) or text
        elif target == "primary_email":
            out[target] = std_email(text) or text.lower()
        elif target == "parish":
            out[target] = parish_code(text) or text
        elif target == "trn":
            out[target] = re.sub(r"\D", "", text)
        else:
            out[target] = text
    return {k: v for k, v in out.items() if v}


def survive(observations: Sequence[Observation], rules: Mapping[str, Sequence[str]] | None = None,
            priority: Sequence[str] = DEFAULT_PRIORITY) -> dict[str, GoldenValue]:
    """The golden value of each field, by its rules tried in order, with its provenance."""
    rules = rules or DEFAULT_SURVIVORSHIP
    # A named source (quickbooks:branch) ranks as itself if listed, else as its kind (quickbooks).
    listed = {system: k for k, system in enumerate(priority)}

    def rank(system: str) -> int:
        return listed.get(system, listed.get(system_kind(system), len(listed)))

    out: dict[str, GoldenValue] = {}
    for field_name, field_rules in rules.items():
        bad = [r for r in field_rules if r not in RULES]
        if bad:
            raise ValueError(f"survivorship for {field_name}: unknown rule {bad[0]!r}; choose from {', '.join(RULES)}")
        candidates = [o for o in observations if o.values.get(field_name)]
        if not candidates:
            continue
        counts = Counter(o.values[field_name].casefold() for o in candidates)
        decided_by = field_rules[-1] if field_rules else "most_recent"
        for rule in field_rules:
            if rule == "source_priority":
                best = min(rank(o.system) for o in candidates)
                keep = [o for o in candidates if rank(o.system) == best]
            elif rule == "most_recent":
                newest = max(o.seen_at for o in candidates)
                keep = [o for o in candidates if o.seen_at == newest]
            elif rule == "most_frequent":
                top = max(counts[o.values[field_name].casefold()] for o in candidates)
                keep = [o for o in candidates if counts[o.values[field_name].casefold()] == top]
            else:  # most_complete
                longest = max(len(o.values[field_name]) for o in candidates)
                keep = [o for o in candidates if len(o.values[field_name]) == longest]
            if len(keep) < len(candidates):
                decided_by = rule
            candidates = keep
            if len({o.values[field_name] for o in candidates}) == 1:
                decided_by = rule if len(keep) else decided_by
                break
        chosen = sorted(candidates, key=lambda o: (o.seen_at, o.source_record_id), reverse=True)[0]
        out[field_name] = GoldenValue(chosen.values[field_name], chosen.source_record_id, chosen.system,
                                      chosen.seen_at, decided_by)
    return out


def observations(conn: sqlite3.Connection, customer_id: str) -> list[Observation]:
    rows = conn.execute(
        "SELECT s.id, s.system, coalesce(s.imported_at, s.updated_at, ''), s.fields FROM identity_link l "
        "JOIN source_record s ON s.id = l.source_record_id WHERE l.customer_id = ? AND l.deleted_at IS NULL "
        "AND s.deleted_at IS NULL ORDER BY s.id", (customer_id,)).fetchall()
    return [Observation(rid, system, str(seen), canonical(system, json.loads(fields) if isinstance(fields, str)
                                                           else fields))
            for rid, system, seen, fields in rows]


# ---- merge and unmerge ----------------------------------------------------------------------------

_SNAPSHOT_TABLES = ("customer", "identity_link", "golden_value")
_BOOKKEEPING = ("row_version", "updated_at", "updated_by")


def _rows(conn: sqlite3.Connection, table: str, column: str, ids: Sequence[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(ids))
    cur = conn.execute(f"SELECT * FROM {table} WHERE {column} IN ({marks}) ORDER BY rowid", list(ids))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def snapshot(conn: sqlite3.Connection, customer_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row a merge of these customers may change, as it is now."""
    return {"customer": _rows(conn, "customer", "id", customer_ids),
            "identity_link": _rows(conn, "identity_link", "customer_id", customer_ids),
            "golden_value": _rows(conn, "golden_value", "customer_id", customer_ids)}


def write_golden(conn: sqlite3.Connection, customer_id: str, golden: Mapping[str, GoldenValue]) -> None:
    conn.execute("DELETE FROM golden_value WHERE customer_id = ?", (customer_id,))
    conn.executemany(
        "INSERT INTO golden_value (customer_id, field, value, source_record_id, system, seen_at, rule) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(customer_id, f, g.value, g.source_record_id, g.system, g.seen_at, g.rule) for f, g in golden.items()])


def refresh_derived(conn: sqlite3.Connection, customer_ids: Sequence[str]) -> None:
    """Search index, summaries, places and lead ranks of these customers, after their rows changed."""
    from c360_desktop.core.geo.places import refresh_geo
    from c360_desktop.core.leads.queue import refresh_lead_ranks_for_customers
    from c360_desktop.core.search import index as search_index
    from c360_desktop.core.sync.pull import refresh_summaries

    ids = list(customer_ids)
    search_index.index_customers(conn, ids)
    refresh_summaries(conn, ids)
    refresh_geo(conn, ids)
    refresh_lead_ranks_for_customers(conn, ids)


def merge(cache: Any, target_id: str, other_ids: Sequence[str], user: str,
          rules: Mapping[str, Sequence[str]] | None = None, reason: str = "",
          priority: Sequence[str] = DEFAULT_PRIORITY) -> str:
    """Merge ``other_ids`` into ``target_id``; returns the ledger entry's id (for unmerge)."""
    from c360_desktop.core.profile.service import queue_change

    others = [o for o in dict.fromkeys(other_ids) if o != target_id]
    if not others:
        raise ValueError("choose at least one other customer to merge into this one")
    everyone = [target_id, *others]
    stamp = db_now()
    ledger_id = str(uuid.uuid4())
    with cache.writer() as conn:
        found = {r[0] for r in conn.execute(
            f"SELECT id FROM customer WHERE deleted_at IS NULL AND id IN ({','.join('?' * len(everyone))})", everyone)}
        missing = [c for c in everyone if c not in found]
        if missing:
            raise KeyError(f"no live customer {missing[0]} (merged or deleted already?)")
        before = snapshot(conn, everyone)
        versions = {r["id"]: r["row_version"] for r in before["customer"]}
        for link in before["identity_link"]:
            if link["customer_id"] in others:
                conn.execute("UPDATE identity_link SET customer_id = ?, rule = 'merge', reviewer = ?, decided_at = ?, "
                             "updated_by = ? WHERE id = ?", (target_id, user, stamp, user, link["id"]))
                queue_change(conn, "identity_link", link["id"], "update",
                             {"changes": {"customer_id": target_id, "rule": "merge", "reviewer": user,
                                          "decided_at": stamp},
                              "base": {"customer_id": link["customer_id"], "rule": link["rule"],
                                       "reviewer": link["reviewer"], "decided_at": link["decided_at"]},
                              "updated_by": user}, base_row_version=link["row_version"])
        for other in others:
            conn.execute("UPDATE customer SET deleted_at = ?, status = 'merged', updated_by = ? WHERE id = ?",
                         (stamp, user, other))
            queue_change(conn, "customer", other, "update",
                         {"changes": {"deleted_at": stamp, "status": "merged"},
                          "base": {"deleted_at": None, "status": next(r["status"] for r in before["customer"]
                                                                      if r["id"] == other)},
                          "updated_by": user}, base_row_version=versions[other])
        golden = survive(observations(conn, target_id), rules, priority or DEFAULT_PRIORITY)
        write_golden(conn, target_id, golden)
        current = next(r for r in before["customer"] if r["id"] == target_id)
        changes = {f: g.value for f, g in golden.items() if f in current and current[f] != g.value}
        if changes:
            sets = ", ".join(f"{f} = ?" for f in changes)
            conn.execute(f"UPDATE customer SET {sets}, updated_by = ? WHERE id = ?", (*changes.values(), user, target_id))
            queue_change(conn, "customer", target_id, "update",
                         {"changes": changes, "base": {f: current[f] for f in changes}, "updated_by": user},
                         base_row_version=versions[target_id])
        conn.execute("INSERT INTO merge_ledger (id, action, target_customer_id, customer_ids, snapshot, reason, "
                     "user, at) VALUES (?, 'merge', ?, ?, ?, ?, ?, ?)",
                     (ledger_id, target_id, json.dumps(everyone), json.dumps(before, default=str), reason, user, stamp))
        audit_log.record(conn, user, "merge", "customer", target_id, {"merged": list(other_ids), "ledger_id": ledger_id})
        refresh_derived(conn, everyone)
    return ledger_id


def unmerge(cache: Any, ledger_id: str, user: str) -> list[str]:
    """Write back every row a merge changed, as it was; returns the customers restored."""
    from c360_desktop.core.profile.service import queue_change

    stamp = db_now()
    with cache.writer() as conn:
        row = conn.execute("SELECT action, customer_ids, snapshot, undone_at FROM merge_ledger WHERE id = ?",
                           (ledger_id,)).fetchone()
        if row is None:
            raise KeyError(f"no merge {ledger_id} in the ledger")
        action, ids_json, snap_json, undone = row
        if undone:
            raise ValueError(f"merge {ledger_id} was undone already ({undone})")
        everyone = json.loads(ids_json)
        before = json.loads(snap_json)
        now = snapshot(conn, everyone)
        for table in ("customer", "identity_link"):
            current = {r["id"]: r for r in now[table]}
            for old in before[table]:
                live = current.get(old["id"])
                if live is None:
                    continue
                changes = {k: v for k, v in old.items() if k not in ("id", *_BOOKKEEPING) and live.get(k) != v}
                if not changes:
                    continue
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(f"UPDATE {table} SET {sets}, updated_by = ? WHERE id = ?", (*changes.values(), user,
                                                                                        old["id"]))
                queue_change(conn, table, old["id"], "update",
                             {"changes": changes, "base": {k: live.get(k) for k in changes}, "updated_by": user},
                             base_row_version=live["row_version"])
        marks = ",".join("?" * len(everyone))
        conn.execute(f"DELETE FROM golden_value WHERE customer_id IN ({marks})", everyone)
        if before["golden_value"]:
            cols = list(before["golden_value"][0])
            conn.executemany(f"INSERT INTO golden_value ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             [tuple(r[c] for c in cols) for r in before["golden_value"]])
        conn.execute("UPDATE merge_ledger SET undone_at = ?, undone_by = ? WHERE id = ?", (stamp, user, ledger_id))
        audit_log.record(conn, user, "unmerge", "customer", everyone[0] if everyone else None,
                         {"restored": everyone, "ledger_id": ledger_id})
        refresh_derived(conn, everyone)
    return everyone


def ledger(conn: sqlite3.Connection, customer_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Recent merges (for one customer, or all), newest first, without their snapshots."""
    sql = ("SELECT id, action, target_customer_id, customer_ids, reason, user, at, undone_at, undone_by "
           "FROM merge_ledger")
    params: list[Any] = []
    if customer_id:
        sql += " WHERE customer_ids LIKE ?"
        params.append(f'%"{customer_id}"%')
    cur = conn.execute(sql + " ORDER BY at DESC, rowid DESC LIMIT ?", (*params, limit))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
