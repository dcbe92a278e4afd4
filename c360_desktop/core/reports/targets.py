"""Targets: what a measure should reach over a period, for the company or one dimension's value.

Imported from CSV or Excel with the columns ``measure``, ``month`` (YYYY-MM) or ``from`` and
``to`` (days), ``target``, and at most one dimension column named as in reports (``parish``,
``territory``, ``rep``, ``segment``, ``channel``...). An import is all or nothing: every row is
checked first and the problems are named with their rows. A row for a measure, period and
dimension value already held replaces that target (an update, synced like any other).

The target for any span of days: an additive measure's targets are prorated by the days of
their period inside the span (a month-to-date figure on the 10th is held against 10/30 of
November's target); a ratio's (win rate, average order value) is the target of the period that
holds the span's last day, not prorated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from c360_desktop.core.reports.query import filter_value
from c360_desktop.core.reports.semantic import DIMENSIONS, ReportError, measure

MAX_PROBLEMS = 10


@dataclass(frozen=True)
class Target:
    measure: str
    start: date
    end: date  # included
    value: float
    dimension: str | None = None
    dimension_value: str | None = None  # as stored: a parish as its code

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "target": self.value, "dimension": self.dimension, "value": self.dimension_value}


def _month(text: str) -> tuple[date, date]:
    year, month = (int(x) for x in text.split("-"))
    start = date(year, month, 1)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start, end


def read_targets(path: Path) -> list[Target]:
    """The targets in a CSV or Excel file; ReportError naming every problem (up to ten) by row."""
    from c360_desktop.core.identity.importing import read_table
    from c360_desktop.core.tables import NOT_UTF8, FileRefused, Problem, check_file

    try:
        check_file(path)
    except FileRefused as exc:
        raise ReportError(str(exc)) from None
    problems: list[Problem] = []
    _sheet, header, rows = read_table(path, path.read_bytes(), problems, header_hint="measure")
    problems = [p for p in problems if p.message != NOT_UTF8]
    names = [h.strip().lower() for h in header]
    if "measure" not in names or "target" not in names or not ("month" in names or {"from", "to"} <= set(names)):
        raise ReportError(f"{path}: the columns must be measure, month (or from and to), target and at most one "
                          f"dimension; the file has {', '.join(header) or 'none'}")
    dims = [n for n in names if n in DIMENSIONS and not DIMENSIONS[n].time]
    unknown = [h for h, n in zip(header, names, strict=True)
               if n not in ("measure", "month", "from", "to", "target", *dims)]
    if unknown:
        raise ReportError(f"{path}: unknown column {unknown[0]!r}; a dimension column is one of "
                          f"{', '.join(d for d, v in DIMENSIONS.items() if not v.time)}")
    if len(dims) > 1:
        raise ReportError(f"{path}: one dimension column at most, not {', '.join(dims)}")
    dim = dims[0] if dims else None
    out: list[Target] = []
    for n, cells in rows:
        row = dict(zip(names, (cells + [""] * len(names))[:len(names)], strict=True))
        try:
            name = row["measure"].strip()
            measure(name)
            if row.get("month"):
                start, end = _month(row["month"].strip())
            else:
                start, end = date.fromisoformat(row["from"].strip()), date.fromisoformat(row["to"].strip())
            if end < start:
                raise ValueError(f"the period ends ({end}) before it starts ({start})")
            value = float(row["target"].replace(",", "").replace("J$", "").replace("$", "").strip())
            if value != value or value < 0:
                raise ValueError(f"target {row['target']!r} is not a figure of 0 or more")
            where = filter_value(dim, row[dim].strip()) if dim and row.get(dim, "").strip() else None
        except ReportError as exc:
            problems.append(Problem(n, None, str(exc)))
            continue
        except (ValueError, KeyError) as exc:
            problems.append(Problem(n, None, str(exc) if str(exc) else "a cell is missing or not readable"))
            continue
        out.append(Target(name, start, end, value, dim if where else None, where))
    refuse_if(path, problems)
    if not out:
        raise ReportError(f"{path}: no targets in the file")
    return out


def refuse_if(path: Path, problems: list[Any]) -> None:
    """ReportError naming the file's problems (up to ten, by row), so nothing is imported."""
    if problems:
        shown = "; ".join(str(p) for p in problems[:MAX_PROBLEMS])
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise ReportError(f"{path}: nothing imported: {shown}{more}")


def target_for(targets: list[Target], name: str, start: date, end: date,
               parishes: tuple[str, ...] | None = None) -> float | None:
    """The target for a measure over [start, end]: the company's, or, for a user limited to some
    parishes, the sum of those parishes' targets (None when there is none to hold it against)."""
    m = measure(name)
    mine = [t for t in targets if t.measure == name]
    if parishes is None:
        mine = [t for t in mine if t.dimension is None]
    else:
        mine = [t for t in mine if t.dimension == "parish" and t.dimension_value in parishes]
    if not mine:
        return None
    if m.ratio is not None or not m.additive:  # a rate or an average: the target of the last day's period
        holding = [t for t in mine if t.start <= end <= t.end]
        return holding[-1].value if holding else None
    total, covered = 0.0, False
    for t in mine:
        overlap = (min(end, t.end) - max(start, t.start)).days + 1
        if overlap > 0:
            total += t.value * overlap / t.days
            covered = True
    return total if covered else None


def load(conn: Any) -> list[Target]:
    rows = conn.execute("SELECT measure, period_start, period_end, value, dimension, dimension_value FROM "
                        "report_target WHERE deleted_at IS NULL ORDER BY period_start, measure").fetchall()
    return [Target(m, date.fromisoformat(str(a)[:10]), date.fromisoformat(str(b)[:10]), float(v), d, dv)
            for m, a, b, v, d, dv in rows]


def store(cache: Any, targets: list[Target], source: str, user: str) -> tuple[int, int]:
    """Write the targets (new ones inserted, held ones replaced), each queued for sync, in one
    transaction; (added, replaced)."""
    from c360_desktop.core.ids import new_id
    from c360_desktop.core.profile.service import queue_change
    from c360_desktop.core.timestamps import db_now

    added = replaced = 0
    now = db_now()
    with cache.writer() as conn:
        for t in targets:
            row = conn.execute(
                "SELECT id, row_version, value, source FROM report_target WHERE deleted_at IS NULL AND measure = ? "
                "AND period_start = ? AND period_end = ? AND coalesce(dimension, '') = ? "
                "AND coalesce(dimension_value, '') = ?",
                (t.measure, t.start.isoformat(), t.end.isoformat(), t.dimension or "", t.dimension_value or "")
            ).fetchone()
            if row is None:
                tid = new_id()
                conn.execute("INSERT INTO report_target (id, row_version, updated_at, updated_by, measure, period_start, "
                             "period_end, dimension, dimension_value, value, source) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (tid, now, user, t.measure, t.start.isoformat(), t.end.isoformat(), t.dimension,
                              t.dimension_value, t.value, source))
                queue_change(conn, "report_target", tid, "insert", {
                    "id": tid, "measure": t.measure, "period_start": t.start.isoformat(),
                    "period_end": t.end.isoformat(), "dimension": t.dimension, "dimension_value": t.dimension_value,
                    "value": t.value, "source": source, "updated_at": now, "updated_by": user})
                added += 1
            elif float(row[2]) != t.value:
                conn.execute("UPDATE report_target SET value = ?, source = ?, updated_at = ?, updated_by = ? "
                             "WHERE id = ?", (t.value, source, now, user, row[0]))
                queue_change(conn, "report_target", row[0], "update", {
                    "changes": {"value": t.value, "source": source}, "base": {"value": row[2], "source": row[3]},
                    "updated_by": user}, base_row_version=row[1])
                replaced += 1
    return added, replaced


__all__ = ["Target", "load", "read_targets", "refuse_if", "store", "target_for"]
