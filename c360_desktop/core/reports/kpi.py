"""The dashboard's key figures per role: month to date against the same days last year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from c360_desktop.core.reports.query import MOST_MEASURES, ReportQuery
from c360_desktop.core.reports.semantic import ReportError, base_measures, measure

if TYPE_CHECKING:
    from c360_desktop.core.reports.service import ReportService

# Which measures each role's dashboard shows first (a user may change theirs in the pane). The
# year-window measures (active_customers, churn_rate) are left to the user to add: churn rate
# costs 0.6-0.8 s on the 1M-customer demo with its comparison (docs/benchmarks.md), and the
# default layouts must open in under a second.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "manager": ("revenue", "orders", "customers", "new_customers", "average_order_value", "pipeline_value",
                "win_rate", "campaign_spend"),
    "analyst": ("revenue", "customers", "new_customers", "revenue_per_customer", "conversion_rate", "cpa"),
    "field_rep": ("revenue", "orders", "customers", "pipeline_value", "win_rate"),
}
ROLE_LAYOUT = {"manager": "manager", "analyst": "analyst", "field_rep": "field_rep", "data_steward": "analyst",
               "admin": "manager"}


def layout_of(role: str) -> str:
    """The dashboard layout a role sees first (a role with none of its own: the analyst's)."""
    return ROLE_LAYOUT.get(role, "analyst")


def scope_words(user: Any) -> str:
    """Whose figures a dashboard shows, in words: the user's territory, or all parishes."""
    from c360_desktop.core.security import Permission, can

    return "your territory" if user.territory and not can(user, Permission.VIEW_ALL_TERRITORIES) else "all parishes"


@dataclass(frozen=True)
class Tile:
    measure: str
    label: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None  # (value - previous) / previous
    against: str
    period: tuple[str, str]
    target: float | None = None  # the period's target, prorated to the days so far (core.reports.targets)

    @property
    def of_target(self) -> float | None:
        """value / target (1.0 = on target)."""
        if self.target is None or self.value is None or self.target == 0:
            return None
        return self.value / self.target

    @property
    def text(self) -> str:
        from c360_desktop.core.reports.formatting import figure

        return figure(self.value, self.unit)

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "label": self.label, "unit": self.unit, "value": self.value,
                "previous": self.previous, "change": self.change, "against": self.against,
                "from": self.period[0], "to": self.period[1], "target": self.target, "of_target": self.of_target}


def monthly(reports: ReportService, names: tuple[str, ...], first: date, last: date
            ) -> tuple[list[str], dict[str, list[float]]]:
    """The months of [first, last], and each measure's value in them, for the sparklines
    (measures counted over a year's window, such as churn rate, have none)."""
    split = [n for n in names if not any(m.rolling for m in base_measures(n))]
    out: dict[str, list[float]] = {}
    months: list[str] = []
    for i in range(0, len(split), MOST_MEASURES):
        frame = reports.query(ReportQuery(tuple(split[i:i + MOST_MEASURES]), ("month",), first, last)).frame
        months = frame["Month"].tolist()
        for n in split[i:i + MOST_MEASURES]:
            out[measure(n).label] = frame[measure(n).label].fillna(0).astype(float).tolist()
    return [str(m) for m in months], out


def last_day(reports: ReportService) -> date:
    """The last day with a sale in the cache (the dashboard's 'today' for a demo or an old cache)."""
    return reports.last_sale_day() or date.today()


def kpis(reports: ReportService, role: str, as_of: date | None = None,
         measures: tuple[str, ...] | None = None) -> list[Tile]:
    """The role's tiles: each measure month to date, against the same days last year and against
    its target (the month's, prorated to the days so far) where one is set."""
    if role not in ROLE_LAYOUT:
        raise ReportError(f"unknown role {role!r}; choose from {', '.join(ROLE_LAYOUT)}")
    names = measures or LAYOUTS[ROLE_LAYOUT[role]]
    end = as_of or last_day(reports)
    start = end.replace(day=1)
    row: dict[str, Any] = {}
    for i in range(0, len(names), MOST_MEASURES):  # a user's own layout may hold more than one query takes
        part = reports.query(ReportQuery(tuple(names[i:i + MOST_MEASURES]), (), start, end, compare="last_year"))
        row.update(part.frame.iloc[0].to_dict())
    tiles = []
    for name in names:
        m = measure(name)

        def num(key: str) -> float | None:
            v = row[key]
            return None if v is None or v != v else float(v)

        tiles.append(Tile(name, m.label, m.unit, num(m.label), num(m.label + " last year"),
                          num(m.label + " change"), "the same days last year", (start.isoformat(), end.isoformat()),
                          reports.target_for(name, start, end)))
    return tiles
