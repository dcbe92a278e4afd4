"""Saved reports: a report's definition kept by name, shared with colleagues through sync.

A definition is JSON: measures, dimensions, filters, comparison, chart, and a period that is
either fixed (two days) or relative to the day the report runs (last 7 days, month to date, last
month...), so a saved or scheduled report always shows the figures of its time. Saving, renaming,
duplicating, deleting and annotating write the cache and queue the change in the outbox in one
transaction (core.profile.service.queue_change); the push applies it centrally and the pull
brings colleagues' reports. A definition that cannot be read (written by a newer app, edited by
hand) is listed with what is wrong, never dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from c360_desktop.core.reports.query import Compare, ReportQuery
from c360_desktop.core.reports.semantic import ReportError

Chart = Literal["table", "pivot", "bar", "line", "stacked", "map"]
CHARTS: tuple[Chart, ...] = ("table", "pivot", "bar", "line", "stacked", "map")
PERIODS: dict[str, str] = {
    "fixed": "the days chosen",
    "last_7_days": "the last 7 days",
    "last_30_days": "the last 30 days",
    "last_week": "last week (Monday to Sunday)",
    "month_to_date": "this month so far",
    "last_month": "last month",
    "quarter_to_date": "this quarter so far",
    "year_to_date": "this year so far",
    "last_12_months": "the last 12 complete months",
    "all": "all time",
}
FORMAT = 1  # the definition's own version


@dataclass(frozen=True)
class Definition:
    measures: tuple[str, ...]
    by: tuple[str, ...] = ()
    period: str = "fixed"
    start: date | None = None  # a fixed period's days
    end: date | None = None
    where: tuple[tuple[str, str], ...] = ()
    compare: Compare | None = None
    chart: Chart = "table"

    def check(self) -> None:
        if self.period not in PERIODS:
            raise ReportError(f"unknown period {self.period!r}; choose from {', '.join(PERIODS)}")
        if self.chart not in CHARTS:
            raise ReportError(f"unknown chart {self.chart!r}; choose from {', '.join(CHARTS)}")
        if self.chart == "map" and "parish" not in self.by:
            raise ReportError("a map shows a report split by parish: add parish to its dimensions")
        self.query(date(2026, 1, 31)).check()

    def days(self, today: date) -> tuple[date | None, date | None]:
        """The period's first and last day for a report run on ``today`` (the data's last day)."""
        p = self.period
        if p == "fixed":
            return self.start, self.end
        if p == "all":
            return None, None
        if p in ("last_7_days", "last_30_days"):
            return today - timedelta(days=6 if p == "last_7_days" else 29), today
        if p == "last_week":
            monday = today - timedelta(days=today.weekday() + 7)
            return monday, monday + timedelta(days=6)
        if p == "month_to_date":
            return today.replace(day=1), today
        if p == "last_month":
            last = today.replace(day=1) - timedelta(days=1)
            return last.replace(day=1), last
        if p == "quarter_to_date":
            return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
        if p == "year_to_date":
            return date(today.year, 1, 1), today
        last = today.replace(day=1) - timedelta(days=1)  # last_12_months: the complete months before
        year, month = (last.year, last.month - 11) if last.month == 12 else (last.year - 1, last.month + 1)
        return date(year, month, 1), last

    def query(self, today: date) -> ReportQuery:
        start, end = self.days(today)
        return ReportQuery(self.measures, self.by, start, end, self.where, self.compare)

    def as_json(self) -> str:
        return json.dumps({"format": FORMAT, "measures": list(self.measures), "by": list(self.by),
                           "period": self.period, "start": self.start.isoformat() if self.start else None,
                           "end": self.end.isoformat() if self.end else None,
                           "where": [list(w) for w in self.where], "compare": self.compare, "chart": self.chart},
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Definition:
        """The definition, or ReportError naming what is wrong with the text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReportError(f"the saved definition is not JSON ({exc.msg} at character {exc.pos})") from None
        if not isinstance(data, dict):
            raise ReportError("the saved definition is not a JSON object")
        if int(data.get("format", 0)) > FORMAT:
            raise ReportError(f"saved by a newer C360 Desktop (definition format {data['format']}); update the app")
        try:
            d = cls(tuple(data["measures"]), tuple(data.get("by") or ()), data.get("period") or "fixed",
                    date.fromisoformat(data["start"]) if data.get("start") else None,
                    date.fromisoformat(data["end"]) if data.get("end") else None,
                    tuple((str(a), str(b)) for a, b in data.get("where") or ()), data.get("compare"),
                    data.get("chart") or "table")
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"the saved definition lacks or garbles a field: {exc}") from None
        d.check()
        return d


@dataclass(frozen=True)
class SavedReport:
    id: str
    name: str
    owner: str
    updated_at: str
    definition: Definition | None  # None: it could not be read (``problem`` says why)
    problem: str = ""
    pending_sync: bool = False
    annotations: list[Annotation] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "owner": self.owner, "updated_at": self.updated_at,
                "definition": json.loads(self.definition.as_json()) if self.definition else None,
                "problem": self.problem or None, "pending_sync": self.pending_sync,
                "annotations": [a.as_dict() for a in self.annotations]}


@dataclass(frozen=True)
class Annotation:
    id: str
    report_id: str
    point: dict[str, str] | None  # the data point's labels ({"Month": "2026-03"}), None: the report
    body: str
    author: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "point": self.point, "body": self.body, "author": self.author,
                "created_at": self.created_at}


def from_query(q: ReportQuery, chart: Chart = "table", period: str = "fixed") -> Definition:
    d = Definition(q.measures, q.by, period, q.start if period == "fixed" else None,
                   q.end if period == "fixed" else None, q.where, q.compare, chart)
    d.check()
    return d


def renamed_copy(name: str, taken: set[str]) -> str:
    """"Name (copy)", "Name (copy 2)"...: the first not taken."""
    candidate, n = f"{name} (copy)", 2
    while candidate.lower() in {t.lower() for t in taken}:
        candidate, n = f"{name} (copy {n})", n + 1
    return candidate


__all__ = ["CHARTS", "PERIODS", "Annotation", "Definition", "SavedReport", "from_query", "renamed_copy"]
