"""Lead queue: who to call next, with a score that says why and a next best action.

Until the lead model (issue 5) has scored a customer, a lead gets a transparent rule-based score,
labelled as such (``scored_by = "rules"``): points for status, estimated value, source, freshness
and the customer's value, each listed as a contribution. A model score, when present, replaces it
(``scored_by`` = the model version) and its contributions are shown instead.

Next best action: the first rule that applies, in this order (documented in the user guide):

1. the customer's churn risk is 0.6 or more, or their segment is "At risk": **Retention call**;
2. the lead is hot and nobody has touched it for 24 hours: **Call now**;
3. the customer's segment is price-sensitive ("Occasional", "Dormant"): **Send an offer**;
4. the lead is qualified: **Book a meeting**;
5. nobody has contacted it yet: **Introduce yourself** (e-mail);
6. the last contact is over 14 days old: **Follow-up call**;
7. otherwise: **Keep warm** (e-mail).

``refresh_lead_ranks`` keeps the ``lead_rank`` table in step (after a sync, after an activity),
so the queue filters and sorts in SQL.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from c360_desktop.core.models import CHANNEL_WORDS, LATEST_CONSENT, OPEN_LEAD_STATUSES

HOT, WARM = 70.0, 45.0
PRICE_SENSITIVE = ("Occasional", "Dormant")
_SOURCE_POINTS = {"referral": 10, "walk-in": 8, "website": 5, "campaign": 4, "social": 3}
_STATUS_POINTS = {"qualified": 25, "contacted": 10, "new": 5}


def band(score: float) -> str:
    return "hot" if score >= HOT else "warm" if score >= WARM else "cold"


@dataclass(frozen=True)
class LeadFacts:
    status: str
    source: str | None
    created_at: datetime
    last_contact_at: datetime | None
    estimated_value_jmd: float | None
    lifetime_spend_jmd: float
    segment: str | None
    churn_risk: float | None
    withdrawn: frozenset[str] = frozenset()  # channels whose marketing consent is withdrawn now


# The channels of direct marketing, as consent records name them, in the order offers prefer them.
MARKETING_CHANNELS = ("email", "sms", "whatsapp")


def rule_score(f: LeadFacts, now: datetime) -> tuple[float, list[dict[str, Any]]]:
    """Score 0-100 and its contributions (feature, points, why), largest first."""
    parts: list[tuple[str, float, str]] = [("base", 20, "every open lead starts at 20")]
    if f.status in _STATUS_POINTS:
        parts.append(("status", _STATUS_POINTS[f.status], f"status {f.status}"))
    v = f.estimated_value_jmd
    if v:
        points = max(0.0, min(25.0, 8 * math.log10(max(v, 1) / 10_000) + 5))
        parts.append(("estimated value", round(points, 1), f"estimated JMD {v:,.0f}"))
    if f.source in _SOURCE_POINTS:
        parts.append(("source", _SOURCE_POINTS[f.source], f"came by {f.source}"))
    age = (now - f.created_at).days
    if age <= 7:
        parts.append(("freshness", 10, f"created {age} days ago"))
    elif age > 90:
        parts.append(("freshness", -10, f"open for {age} days"))
    if f.lifetime_spend_jmd >= 500_000:
        parts.append(("customer value", 10, f"customer has spent JMD {f.lifetime_spend_jmd:,.0f}"))
    elif f.lifetime_spend_jmd >= 100_000:
        parts.append(("customer value", 5, f"customer has spent JMD {f.lifetime_spend_jmd:,.0f}"))
    score = max(0.0, min(100.0, sum(p for _n, p, _w in parts)))
    contributions = [{"feature": n, "points": p, "why": w} for n, p, w in
                     sorted(parts, key=lambda x: -abs(x[1]))]
    return round(score, 1), contributions


def next_best_action(f: LeadFacts, score: float, now: datetime) -> tuple[str, str]:
    """(action, reason) by the documented rules, first match wins. A customer who withdrew
    consent to marketing calls gets a visit where the rules say call."""
    action, reason = _rules_action(f, score, now)
    if "phone" in f.withdrawn and action.endswith(("call", "Call now")):
        visit = {"Call now": "Visit now", "Retention call": "Retention visit", "Follow-up call": "Follow-up visit"}
        return visit.get(action, action), f"{reason} (no marketing calls: consent withdrawn)"
    return action, reason


def _rules_action(f: LeadFacts, score: float, now: datetime) -> tuple[str, str]:
    if (f.churn_risk is not None and f.churn_risk >= 0.6) or f.segment == "At risk":
        why = f"churn risk {f.churn_risk:.2f}" if f.churn_risk is not None and f.churn_risk >= 0.6 \
            else "customer is in the At risk segment"
        return "Retention call", f"{why}: keep the customer before selling more"
    touched = f.last_contact_at or f.created_at
    idle_h = (now - touched).total_seconds() / 3600
    if band(score) == "hot" and idle_h >= 24:
        idle = f"{idle_h:.0f} hours" if idle_h < 48 else f"{idle_h / 24:.0f} days"
        return "Call now", f"hot lead (score {score:.0f}) untouched for {idle}"
    allowed = [c for c in MARKETING_CHANNELS if c not in f.withdrawn]
    if f.segment in PRICE_SENSITIVE and allowed:  # never an offer on a channel the customer refused
        note = f" (no {', '.join(CHANNEL_WORDS[c] for c in MARKETING_CHANNELS if c in f.withdrawn)}: consent withdrawn)" \
            if f.withdrawn & set(MARKETING_CHANNELS) else ""
        return "Send an offer", f"{f.segment} customers respond to offers; by {CHANNEL_WORDS[allowed[0]]}{note}"
    if f.status == "qualified":
        return "Book a meeting", "qualified: time to meet and close"
    if f.last_contact_at is None:
        return "Introduce yourself", "nobody has contacted this lead yet"
    days = (now - f.last_contact_at).days
    if days > 14:
        return "Follow-up call", f"last contact {days} days ago"
    if not allowed:
        return "Keep warm", f"contacted {days} days ago; marketing consent withdrawn on every channel: service contact only"
    return "Keep warm", f"contacted {days} days ago; stay in touch by {CHANNEL_WORDS[allowed[0]]}"


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def latest_score_sql(model: str, customer: str, what: str = "value") -> str:
    """A correlated subquery: ``what`` of the newest live score of ``model`` for ``customer``."""
    return (f"(SELECT {what} FROM score WHERE customer_id = {customer} AND model = '{model}' "
            "AND deleted_at IS NULL ORDER BY scored_at DESC LIMIT 1)")


_SOURCE_SQL = f"""
SELECT l.id, l.customer_id, c.display_name, l.rep_id, c.parish, l.status, l.source, l.created_at, l.last_contact_at,
       l.estimated_value_cents, coalesce(cs.lifetime_spend_cents, 0), s.name,
       {latest_score_sql("churn", "l.customer_id")},
       {latest_score_sql("lead", "l.customer_id", "value || '|' || model_version || '|' || coalesce(contributions, '[]')")},
       (SELECT group_concat(k.channel) FROM consent k
         WHERE k.customer_id = l.customer_id AND k.purpose = 'marketing' AND k.status = 'withdrawn'
           AND k.deleted_at IS NULL AND {LATEST_CONSENT})
FROM lead l
JOIN customer c ON c.id = l.customer_id
LEFT JOIN customer_summary cs ON cs.customer_id = l.customer_id
LEFT JOIN segment s ON s.id = c.segment_id
WHERE l.deleted_at IS NULL AND l.status IN ({{statuses}}) {{where}}
"""


def refresh_lead_ranks(conn: sqlite3.Connection, now: datetime | None = None,
                       lead_ids: Sequence[str] | None = None) -> int:
    """Recompute ranks of open leads (all, or some) inside the caller's transaction."""
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    statuses = ",".join(f"'{s}'" for s in OPEN_LEAD_STATUSES)
    where, params = "", []
    indexes: list[tuple[str, str]] = []  # the sort indexes set aside while every row is new
    if lead_ids is not None:
        if not lead_ids:
            return 0
        where = f"AND l.id IN ({','.join('?' * len(lead_ids))})"
        params = list(lead_ids)
        conn.execute(f"DELETE FROM lead_rank WHERE lead_id IN ({','.join('?' * len(lead_ids))})", params)
    else:
        conn.execute("DELETE FROM lead_rank")
        conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('lead_ranks_at', ?)",
                     (now.strftime("%Y-%m-%d %H:%M:%S"),))
        # Every row is new: the queue's eight sort indexes are built once after the rows are in
        # rather than kept in step row by row (2.6 s instead of 3.2 s for 95,000 leads). Inside
        # the caller's transaction, so a failure rolls the indexes back with the rows.
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lead_rank' "
                               "AND sql IS NOT NULL").fetchall()
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    rows = []
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    for (lead_id, customer_id, name, rep_id, parish, status, source, created, contacted, value_cents, spend_cents,
         segment, churn, model, withdrawn) in conn.execute(_SOURCE_SQL.format(statuses=statuses, where=where), params):
        facts = LeadFacts(status, source, _parse(created) or now, _parse(contacted),
                          value_cents / 100 if value_cents else None, spend_cents / 100, segment, churn,
                          frozenset(withdrawn.split(",")) if withdrawn else frozenset())
        if model:  # the model's reasons are kept as the score has them: worded for the queue when read
            value, scored_by, reasons = model.split("|", 2)
            score = round(float(value), 1)
        else:
            score, contributions = rule_score(facts, now)
            scored_by, reasons = "rules", json.dumps(contributions)
        action, reason = next_best_action(facts, score, now)
        rows.append((lead_id, customer_id, name, rep_id, parish, status, source, created, contacted, value_cents, score,
                     band(score), scored_by, reasons, action, reason, stamp))
    conn.executemany(
        "INSERT INTO lead_rank (lead_id, customer_id, customer_name, rep_id, parish, status, source, created_at, "
        "last_contact_at, estimated_value_cents, score, band, scored_by, contributions, next_action, "
        "next_action_reason, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    for _name, sql in indexes:
        conn.execute(sql)
    return len(rows)


def refresh_lead_ranks_for_customers(conn: sqlite3.Connection, customer_ids: Sequence[str],
                                     now: datetime | None = None) -> int:
    """Re-rank the leads of some customers (their value, segment or scores changed)."""
    lead_ids: list[str] = []
    for i in range(0, len(customer_ids), 500):
        chunk = list(customer_ids[i:i + 500])
        marks = ",".join("?" * len(chunk))
        lead_ids += [r[0] for r in conn.execute(f"SELECT id FROM lead WHERE customer_id IN ({marks})", chunk)]
        conn.execute(f"DELETE FROM lead_rank WHERE customer_id IN ({marks})", chunk)
    total = 0
    for i in range(0, len(lead_ids), 500):
        total += refresh_lead_ranks(conn, now, lead_ids[i:i + 500])
    return total


@dataclass(frozen=True)
class QueuedLead:
    lead_id: str
    customer_id: str
    customer_name: str
    parish: str | None
    rep_id: str | None
    status: str
    source: str | None
    score: float
    band: str
    scored_by: str
    next_action: str
    next_action_reason: str
    created_at: str
    last_contact_at: str | None
    estimated_value_cents: int | None


UNASSIGNED = "-"  # rep_id for "leads nobody has"
SORTS = {"score": "r.score DESC", "value": "r.estimated_value_cents DESC", "age": "r.created_at",
         "last_contact": "r.last_contact_at", "name": "r.customer_name"}


class LeadQueue:
    def __init__(self, conn_factory: Any) -> None:
        self._conn = conn_factory  # a callable giving a read connection (Cache.reader)

    def query(self, parishes: Sequence[str] | None = None, rep_id: str | None = None,
              statuses: Sequence[str] | None = None, sources: Sequence[str] | None = None,
              bands: Sequence[str] | None = None, max_age_days: int | None = None, sort: str = "score",
              limit: int = 500, now: datetime | None = None) -> list[QueuedLead]:
        """Open leads, filtered and sorted in SQL (``sort`` one of SORTS)."""
        if sort not in SORTS:
            raise ValueError(f"cannot sort by {sort!r}; choose {', '.join(SORTS)}")
        where, params = [], []  # type: tuple[list[str], list[Any]]
        for column, values in (("r.parish", parishes), ("r.status", statuses), ("r.source", sources),
                               ("r.band", bands)):
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params += list(values)
        if rep_id == UNASSIGNED:
            where.append("r.rep_id IS NULL")
        elif rep_id:
            where.append("r.rep_id = ?")
            params.append(rep_id)
        if max_age_days is not None:
            since = (now or datetime.now(UTC)).replace(tzinfo=None) - timedelta(days=max_age_days)
            where.append("r.created_at >= ?")
            params.append(since.strftime("%Y-%m-%d %H:%M:%S"))
        sql = ("SELECT r.lead_id, r.customer_id, r.customer_name, r.parish, r.rep_id, r.status, r.source, r.score, "
               "r.band, r.scored_by, r.next_action, r.next_action_reason, r.created_at, r.last_contact_at, "
               "r.estimated_value_cents FROM lead_rank r"
               + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY {SORTS[sort]} LIMIT ?")  # one key: SQLite can walk that sort's index
        return [QueuedLead(*row) for row in self._conn().execute(sql, (*params, limit))]

    def explain(self, lead_id: str) -> list[dict[str, Any]]:
        row = self._conn().execute("SELECT contributions FROM lead_rank WHERE lead_id = ?", (lead_id,)).fetchone()
        if row is None:
            raise KeyError(f"no open lead {lead_id}")
        return [_in_points(c) for c in json.loads(row[0])]


def _in_points(reason: dict[str, Any]) -> dict[str, Any]:
    """A model score's reason ({feature, value, contribution}) as the queue shows a rule's
    ({feature, points, why})."""
    if "contribution" in reason:
        return {"feature": reason["feature"], "points": reason["contribution"], "why": reason["feature"]}
    return reason


ACTIVITY_KINDS = ("call", "email", "meeting", "visit")


def log_activity(cache: Any, lead_id: str, kind: str, outcome: str, note: str, user: str,
                 action_id: str, now: datetime | None = None) -> bool:
    """Record a sales activity on a lead, locally and in the outbox, in one transaction.

    ``action_id`` is made when the user starts the action (one per click of Call, Email...), and
    becomes the activity's id: the same action submitted twice (a double click, a retry) records
    one activity. Returns False when this action was recorded already. The lead's last contact
    (and a new lead's status, to contacted) are updated and queued as an edit, and it is re-ranked.
    """
    from c360_desktop.core.profile.service import queue_change

    if kind not in ACTIVITY_KINDS:
        raise ValueError(f"activity kind {kind!r}: choose {', '.join(ACTIVITY_KINDS)}")
    outcome, note = outcome.strip()[:50], note.strip()[:5000]
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
    with cache.writer() as conn:
        lead = conn.execute("SELECT customer_id, rep_id, status, last_contact_at, row_version FROM lead "
                            "WHERE id = ? AND deleted_at IS NULL", (lead_id,)).fetchone()
        if lead is None:
            raise KeyError(f"no lead {lead_id}")
        customer_id, rep_id, status, last_contact, row_version = lead
        before = conn.total_changes
        conn.execute("INSERT OR IGNORE INTO sales_activity (id, row_version, updated_at, updated_by, customer_id, "
                     "lead_id, rep_id, kind, occurred_at, outcome, note) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (action_id, stamp, user, customer_id, lead_id, rep_id, kind, stamp, outcome or None, note or None))
        if conn.total_changes == before:
            return False
        queue_change(conn, "sales_activity", action_id, "insert", {
            "id": action_id, "customer_id": customer_id, "lead_id": lead_id, "rep_id": rep_id, "kind": kind,
            "occurred_at": stamp, "outcome": outcome or None, "note": note or None, "updated_at": stamp,
            "updated_by": user})
        changes: dict[str, Any] = {"last_contact_at": stamp}
        if status == "new":
            changes["status"] = "contacted"
        base = {"last_contact_at": last_contact, "status": status}
        sets = ", ".join(f"{k} = ?" for k in changes)
        conn.execute(f"UPDATE lead SET {sets}, updated_by = ? WHERE id = ?", (*changes.values(), user, lead_id))
        queue_change(conn, "lead", lead_id, "update",
                     {"changes": changes, "base": {k: base[k] for k in changes}, "updated_by": user},
                     base_row_version=row_version)
        refresh_lead_ranks(conn, now, [lead_id])
    return True


# ---- assignment and rebalancing ----------------------------------------------------------------

def expected_value_jmd(score: float, estimated_value_cents: int | None) -> float:
    """What a lead is worth to its rep's workload: its value weighted by its score (0-100)."""
    return (estimated_value_cents or 0) / 100 * score / 100


@dataclass(frozen=True)
class Move:
    lead_id: str
    customer_name: str
    from_rep: str | None
    to_rep: str
    expected_value_jmd: float


@dataclass(frozen=True)
class Rebalance:
    moves: list[Move]
    before: dict[str, float]  # rep id -> expected value of their open leads
    after: dict[str, float]
    count_before: dict[str, int]
    count_after: dict[str, int]

    @staticmethod
    def spread(loads: dict[str, float]) -> float:
        return max(loads.values()) - min(loads.values()) if loads else 0.0


def suggest_rebalance(conn: sqlite3.Connection, rep_ids: Sequence[str],
                      parishes: Sequence[str] | None = None, tolerance: float = 0.02) -> Rebalance:
    """Moves that even the reps' workloads by expected value, with as few moves as it takes.

    The reps' open leads, plus unassigned open leads in ``parishes``, are considered. Unassigned
    leads go first, largest first, each to the least loaded rep. Then, while the gap between the
    most and the least loaded rep is over ``tolerance`` of the mean load, the lead of the most
    loaded rep whose value is nearest half the gap moves to the least loaded (each move narrows
    the gap; a lead worth more than the gap would only reverse it, so it stays)."""
    reps = list(dict.fromkeys(rep_ids))
    if len(reps) < 2:
        raise ValueError("choose at least two reps to share the leads between")
    marks = ",".join("?" * len(reps))
    where, params = f"rep_id IN ({marks})", list(reps)
    if parishes:
        where = f"({where} OR (rep_id IS NULL AND parish IN ({','.join('?' * len(parishes))})))"
        params += list(parishes)
    leads = conn.execute("SELECT lead_id, customer_name, rep_id, score, estimated_value_cents FROM lead_rank "
                         f"WHERE {where} ORDER BY lead_id", params).fetchall()
    owner = {lid: rep for lid, _n, rep, _s, _v in leads}
    value = {lid: expected_value_jmd(s, v) for lid, _n, _r, s, v in leads}
    names = {lid: n for lid, n, _r, _s, _v in leads}
    load = {r: 0.0 for r in reps}
    count = {r: 0 for r in reps}
    for lid, rep in owner.items():
        if rep is not None:
            load[rep] += value[lid]
            count[rep] += 1
    before, count_before = dict(load), dict(count)
    moved: dict[str, str] = {}
    for lid in sorted((lid for lid, rep in owner.items() if rep is None), key=lambda x: (-value[x], x)):
        to = min(reps, key=lambda r: (load[r], r))
        moved[lid] = to
        load[to] += value[lid]
        count[to] += 1
    current = {lid: moved.get(lid, rep) for lid, rep in owner.items()}
    for _ in range(len(leads)):
        hi = max(reps, key=lambda r: (load[r], r))
        lo = min(reps, key=lambda r: (load[r], r))
        gap = load[hi] - load[lo]
        mean = sum(load.values()) / len(reps)
        if gap <= tolerance * mean or gap <= 0:
            break
        options = [lid for lid, rep in current.items() if rep == hi and 0 < value[lid] < gap]
        if not options:
            break
        best = min(options, key=lambda lid: (abs(gap / 2 - value[lid]), lid))
        current[best] = lo
        moved[best] = lo
        load[hi] -= value[best]
        load[lo] += value[best]
        count[hi] -= 1
        count[lo] += 1
    moves = [Move(lid, names[lid], owner[lid], to, round(value[lid], 2))
             for lid, to in sorted(moved.items(), key=lambda kv: (-value[kv[0]], kv[0])) if owner[lid] != to]
    return Rebalance(moves, before, load, count_before, count)


def assign_leads(cache: Any, assignments: dict[str, str], user: str) -> int:
    """Give leads to reps (lead id -> rep id), locally and in the outbox, in one transaction.
    Returns how many leads changed hands (a lead already with that rep is left alone)."""
    from c360_desktop.core.profile.service import queue_change

    changed = 0
    with cache.writer() as conn:
        known = {r for (r,) in conn.execute("SELECT id FROM sales_rep WHERE deleted_at IS NULL")}
        for lead_id, rep_id in assignments.items():
            if rep_id not in known:
                raise ValueError(f"no sales rep {rep_id}")
            row = conn.execute("SELECT rep_id, row_version FROM lead WHERE id = ? AND deleted_at IS NULL",
                               (lead_id,)).fetchone()
            if row is None:
                raise KeyError(f"no lead {lead_id}")
            if row[0] == rep_id:
                continue
            conn.execute("UPDATE lead SET rep_id = ?, updated_by = ? WHERE id = ?", (rep_id, user, lead_id))
            queue_change(conn, "lead", lead_id, "update",
                         {"changes": {"rep_id": rep_id}, "base": {"rep_id": row[0]}, "updated_by": user},
                         base_row_version=row[1])
            changed += 1
        refresh_lead_ranks(conn, lead_ids=list(assignments))
    return changed
