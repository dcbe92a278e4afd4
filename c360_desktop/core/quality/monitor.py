"""Measuring the cache's data against the rules (core.quality.rules), and the rows that fail.

One pass over a rule's table per rule: for each, how many rows were checked, how many failed and
the share; :func:`failures` gives the failing rows themselves with a suggested fix where one is
certain (a phone written locally in E.164, a parish from a town found in one parish only).
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache

from c360_desktop.core import jamaica, validation
from c360_desktop.core.progress import Progress
from c360_desktop.core.quality.rules import Rule


@dataclass(frozen=True, slots=True)
class Result:
    rule_id: str
    title: str
    kind: str
    table: str
    field: str
    checked: int
    failing: int
    status: str  # green | amber | red
    detail: str = ""
    red: float = 1.0  # the rule's red threshold, for drawing

    @property
    def share(self) -> float:
        return self.failing / self.checked if self.checked else 0.0


@dataclass(frozen=True, slots=True)
class Failure:
    """One row failing a rule: where it is, its value now, and the fix suggested (or None)."""

    rule_id: str
    entity: str  # customer | contact_point | source
    entity_id: str
    customer_id: str | None
    name: str
    field: str
    value: str | None
    suggestion: str | None


# ---- the checks -------------------------------------------------------------------------------


@cache
def _towns() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for town in jamaica.towns():
        out[town.name.casefold()].add(town.parish_code)
    return {name: frozenset(codes) for name, codes in out.items()}


def parish_of_town(town: str | None) -> str | None:
    """The parish of a town found in exactly one parish (many names, e.g. Sandy Bay, are in several)."""
    codes = _towns().get((town or "").strip().casefold())
    return next(iter(codes)) if codes and len(codes) == 1 else None


def _normal(fn: Callable[[str], str], value: str) -> str | None:
    try:
        return fn(value)
    except validation.InvalidValue:
        return None


@lru_cache(maxsize=262_144)  # a customer's phone is also among their contact points: parsed once
def _phone(value: str) -> str | None:
    return _normal(validation.normalize_phone, value)


def _dob_ok(value: str, today: date) -> bool:
    try:
        born = date.fromisoformat(str(value)[:10])
    except ValueError:
        return False
    return born <= today and today.year - born.year <= 120


def valid(check: str, value: str, today: date, kind: str = "") -> bool:
    """Whether a filled-in value passes a validity check (stored values must be in their normal form)."""
    if check == "contact":
        check = "phone" if kind == "phone" else "email"
    if check == "phone":
        return _phone(value) == value
    if check == "email":
        return _normal(validation.normalize_email, value) == value
    if check == "trn":
        return re.fullmatch(r"\d{9}", value) is not None
    if check == "parish":
        return value in jamaica.parish_by_code()
    if check == "date_of_birth":
        return _dob_ok(value, today)
    raise ValueError(f"no validity check called {check!r}")


def suggest(check: str, value: str | None, town: str | None = None, kind: str = "") -> str | None:
    """The value a steward would most likely accept, when it can be derived with certainty."""
    if check == "contact":
        check = "phone" if kind == "phone" else "email"
    if check in ("parish", "town_in_parish", "parish_missing"):
        return (jamaica.parish_code(value) if value and check == "parish" else None) or parish_of_town(town)
    if not value:
        return None
    fix = {"phone": validation.normalize_phone, "email": validation.normalize_email,
           "trn": validation.normalize_trn}.get(check)
    found = _normal(fix, value) if fix else None
    return found if found != value else None


# ---- measuring --------------------------------------------------------------------------------


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows(conn: sqlite3.Connection, rule: Rule) -> Iterator[tuple]:
    if rule.table == "contact_point":
        yield from conn.execute(
            "SELECT p.id, p.customer_id, c.display_name, p.value, p.kind FROM contact_point p "
            "LEFT JOIN customer c ON c.id = p.customer_id WHERE p.deleted_at IS NULL")
        return
    cols = [rule.field or "id", rule.require or "id", *(rule.when or {"id": ""})]
    yield from conn.execute(
        f'SELECT id, id, display_name, "{cols[0]}", town, parish, "{cols[1]}", "{cols[2]}" FROM customer '
        "WHERE deleted_at IS NULL")


def _evaluate(conn: sqlite3.Connection, rule: Rule, now: datetime) -> tuple[int, list[Failure], str]:
    """How many rows the rule checked, the failing ones, and a line of detail."""
    today = now.date()
    out: list[Failure] = []
    if rule.kind == "freshness":
        stale, checked = [], 0
        for system, newest in conn.execute("SELECT system, max(imported_at) FROM source_record "
                                           "WHERE deleted_at IS NULL GROUP BY system ORDER BY system"):
            checked += 1
            when = datetime.fromisoformat(str(newest)[:19]).replace(tzinfo=UTC)
            days = (now - when).days
            if days > rule.max_age_days:
                stale.append(f"{system} ({days} days)")
                out.append(Failure(rule.id, "source", system, None, system, "imported_at", str(newest)[:19], None))
        detail = f"stale: {', '.join(stale)}" if stale else f"every source within {rule.max_age_days} days"
        return checked, out, detail
    if rule.check == "review_queue":
        (checked,) = conn.execute("SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()
        for cid, name in conn.execute(
                "SELECT id, display_name FROM customer WHERE deleted_at IS NULL AND id IN (SELECT customer_a FROM "
                "review_pair WHERE status = 'pending' UNION SELECT customer_b FROM review_pair "
                "WHERE status = 'pending') ORDER BY display_name, id"):
            out.append(Failure(rule.id, "customer", cid, cid, name, "", None, None))
        return checked, out, ""
    checked = 0
    if rule.kind == "uniqueness":
        rows = [r for r in _rows(conn, rule) if not _blank(r[3])]
        counts = Counter(str(r[3]).strip().casefold() for r in rows)
        for r in rows:
            if counts[str(r[3]).strip().casefold()] > 1:
                out.append(Failure(rule.id, "customer", r[0], r[1], r[2], rule.field, r[3], None))
        return len(rows), out, f"{sum(1 for n in counts.values() if n > 1)} values shared"
    for r in _rows(conn, rule):
        if rule.table == "contact_point":
            rid, cid, name, value, kind = r
            town = parish = None
        else:
            rid, cid, name, value, town, parish, required, when_value = r
            kind = ""
        if rule.kind == "completeness":
            checked += 1
            if _blank(value):
                fix = suggest("parish_missing", None, town) if rule.field == "parish" else None
                out.append(Failure(rule.id, rule.table, rid, cid, name, rule.field, None, fix))
        elif rule.kind == "validity":
            if _blank(value):
                continue
            checked += 1
            if not valid(rule.check, str(value), today, kind):
                out.append(Failure(rule.id, rule.table, rid, cid, name, rule.field, str(value),
                                   suggest(rule.check, str(value), town, kind)))
        elif rule.check == "town_in_parish":
            codes = _towns().get((town or "").strip().casefold())
            if not codes or parish not in jamaica.parish_by_code():  # an unknown parish: the validity rule's
                continue
            checked += 1
            if parish not in codes:
                out.append(Failure(rule.id, "customer", rid, cid, name, "parish", parish,
                                   suggest("town_in_parish", parish, town)))
        elif rule.check == "requires":
            (expected,) = rule.when.values()
            if str(when_value) != expected:
                continue
            checked += 1
            if _blank(required):
                out.append(Failure(rule.id, "customer", rid, cid, name, rule.require, None, None))
    return checked, out, ""


def measure(conn: sqlite3.Connection, rules: tuple[Rule, ...], now: datetime | None = None,
            progress: Progress | None = None) -> list[Result]:
    """Every rule's figures over the cache as it is now (one snapshot: a read transaction)."""
    now = now or datetime.now(UTC)
    results = []
    conn.execute("BEGIN")
    try:
        for i, rule in enumerate(rules):
            if progress is not None:
                progress.update(i / max(1, len(rules)), f"Checking {rule.title.lower()}")
            checked, failing, detail = _evaluate(conn, rule, now)
            share = len(failing) / checked if checked else 0.0
            results.append(Result(rule.id, rule.title, rule.kind, rule.table, rule.field, checked, len(failing),
                                  rule.status(share), detail, rule.red))
    finally:
        conn.execute("COMMIT")
    return results


def failures(conn: sqlite3.Connection, rule: Rule, now: datetime | None = None) -> list[Failure]:
    """The rows failing one rule now, by name."""
    _checked, out, _detail = _evaluate(conn, rule, now or datetime.now(UTC))
    return sorted(out, key=lambda f: (f.name.casefold() if f.name else "", f.entity_id))
