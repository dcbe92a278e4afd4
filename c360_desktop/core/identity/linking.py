"""Linking imported source records into golden records (customers).

Each source record without a customer is resolved against the live customers (engine.resolve,
linking mode; each record's single best candidate):

- probability >= ``high``: linked to that customer (``identity_link``, rule "auto", with its
  probability), whose golden values are chosen again (with provenance);
- otherwise it becomes a new customer, made from the record (rule "new"); when its best
  candidate was at least ``low``, the pair (new customer, candidate) goes to the review queue,
  where a "match" merges them (and can be undone).

Everything is written in one transaction and queued for sync. Records already linked are left
alone, so linking again changes nothing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from c360_desktop.core.timestamps import db_now

COLUMNS = (("display_name", "full_name"), ("primary_phone", "phone"), ("primary_email", "email"),
           ("street", "street"), ("town", "locality"), ("parish", "region"), ("trn", "id_number"))
BUSINESS_WORDS = ("ltd", "limited", "co.", "company", "enterprises", "store", "shop", "supermarket", "hardware",
                  "furniture", "bakery", "restaurant", "services", "supplies", "wholesale", "centre", "center")


@dataclass
class LinkResult:
    linked: list[tuple[str, str, float]] = field(default_factory=list)  # (source record, customer, p)
    created: list[str] = field(default_factory=list)  # new customers
    queued: int = 0  # pairs sent to the review queue


def _kind(system: str, fields: dict[str, str], name: str) -> str:
    from c360_desktop.core.identity.golden import system_kind

    if system_kind(system) == "directory" or fields.get("Company") or fields.get("Business Name"):
        return "business"
    return "business" if any(w in name.casefold().split() or w in name.casefold() for w in BUSINESS_WORDS) \
        else "individual"


def link_sources(cache: Any, user: str, source_ids: list[str] | None = None, low: float = 0.2,
                 high: float = 0.9) -> LinkResult:
    """Link (or make customers of) the source records that have no customer yet."""
    import pandas as pd

    from c360_desktop.core.identity.engine import Field, best_match, resolve
    from c360_desktop.core.identity.golden import (
        canonical,
        observations,
        refresh_derived,
        survive,
        write_golden,
    )
    from c360_desktop.core.identity.review import decision_value
    from c360_desktop.core.profile.service import queue_change

    conn = cache.reader()
    sql = ("SELECT s.id, s.system, s.fields FROM source_record s WHERE s.deleted_at IS NULL AND NOT EXISTS "
           "(SELECT 1 FROM identity_link l WHERE l.source_record_id = s.id AND l.deleted_at IS NULL)")
    params: list[Any] = []
    if source_ids is not None:
        if not source_ids:
            return LinkResult()
        sql += f" AND s.id IN ({','.join('?' * len(source_ids))})"
        params = list(source_ids)
    records = [(rid, system, json.loads(f) if isinstance(f, str) else f) for rid, system, f in
               conn.execute(sql + " ORDER BY s.id", params)]
    result = LinkResult()
    if not records:
        return result
    fields = [Field(name, kind) for name, kind in COLUMNS]
    cols = [name for name, _k in COLUMNS]
    customers = pd.DataFrame(conn.execute(f"SELECT id, {', '.join(cols)} FROM customer WHERE deleted_at IS NULL "
                                          "ORDER BY id").fetchall(), columns=["id", *cols]).fillna("")
    canon = [canonical(system, f) for _rid, system, f in records]
    incoming = pd.DataFrame([{c: v.get(c, "") for c in cols} for v in canon], columns=cols)
    best: dict[int, tuple[int, float, list[dict[str, Any]]]] = {}
    if len(customers):
        r = resolve(customers[cols], incoming, fields, threshold=high, with_clusters=False)
        for k in best_match(r.i, r.j, r.probability).tolist():
            best[int(r.j[k])] = (int(r.i[k]), float(r.probability[k]), r.contributions(k))
    ids = customers["id"].tolist()
    stamp = db_now()
    touched: set[str] = set()
    with cache.writer() as w:
        for n, (rid, system, raw) in enumerate(records):
            candidate, p, contributions = best.get(n, (-1, 0.0, []))
            if p >= high:
                customer_id, rule = ids[candidate], "auto"
                result.linked.append((rid, customer_id, p))
            else:
                customer_id, rule = str(uuid.uuid4()), "new"
                values = {c: canon[n].get(c) or None for c in cols}
                name = values["display_name"] or raw.get("Customer") or rid
                row = {"id": customer_id, "kind": _kind(system, raw, name), "display_name": name,
                       "primary_phone": values["primary_phone"], "primary_email": values["primary_email"],
                       "street": values["street"], "town": values["town"], "parish": values["parish"],
                       "trn": (values["trn"] or None) if values["trn"] and len(values["trn"]) == 9 else None,
                       "status": "active", "created_at": stamp, "updated_at": stamp, "updated_by": user}
                names = ", ".join(row)
                w.execute(f"INSERT INTO customer (row_version, {names}) VALUES (0, {', '.join('?' * len(row))})",
                          list(row.values()))
                queue_change(w, "customer", customer_id, "insert", row)
                result.created.append(customer_id)
                if p >= low and candidate >= 0:
                    w.execute("INSERT INTO review_pair (customer_a, customer_b, probability, contributions, value, "
                              "status) VALUES (?, ?, ?, ?, ?, 'pending')",
                              (ids[candidate], customer_id, p, json.dumps(contributions), decision_value(p)))
                    result.queued += 1
            link_id = str(uuid.uuid4())
            link = {"id": link_id, "source_record_id": rid, "customer_id": customer_id, "probability": round(p, 6)
                    if rule == "auto" else 1.0, "rule": rule, "reviewer": None, "decided_at": stamp,
                    "updated_at": stamp, "updated_by": user}
            w.execute("INSERT INTO identity_link (row_version, id, source_record_id, customer_id, probability, rule, "
                      "reviewer, decided_at, updated_at, updated_by) VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (link_id, rid, customer_id, link["probability"], rule, None, stamp, stamp, user))
            queue_change(w, "identity_link", link_id, "insert", link)
            touched.add(customer_id)
        for customer_id in touched:
            write_golden(w, customer_id, survive(observations(w, customer_id)))
        refresh_derived(w, sorted(touched))
    return result
