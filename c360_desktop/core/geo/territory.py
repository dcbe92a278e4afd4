"""Territory analytics: how each parish and each rep is doing over a period, and the map's data.

Everything is computed in SQL on the cache; a customer's parish is the one from their address
(``customer_place``, see geocode.py). Churn risk is the mean of the newest churn score of each
customer when a churn model has scored them; until then it is a transparent rule, labelled as
such: the share of customers with purchases whose last purchase is over 180 days old.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from c360_desktop.core.jamaica import parishes
from c360_desktop.core.leads.queue import latest_score_sql

METRICS = {
    "sales": "Sales (JMD)",
    "growth": "Sales growth (%)",
    "churn": "Churn risk",
    "leads": "Open leads per 1,000 customers",
}
LAPSED_DAYS = 180


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # exclusive

    @property
    def prior(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)

    def label(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end - timedelta(days=1):%d %b %Y}"


def default_period(conn: sqlite3.Connection, days: int = 90) -> Period:
    """The last ``days`` days up to the newest transaction in the cache (or today)."""
    (newest,) = conn.execute('SELECT max(occurred_at) FROM "transaction" WHERE deleted_at IS NULL').fetchone()
    end = min(date.today(), datetime.fromisoformat(newest).date()) if newest else date.today()
    end += timedelta(days=1)
    return Period(end - timedelta(days=days), end)


@dataclass
class ParishRow:
    parish: str
    name: str
    customers: int = 0
    sales_jmd: float = 0.0
    prior_sales_jmd: float = 0.0
    open_leads: int = 0
    hot_leads: int = 0
    pipeline_jmd: float = 0.0
    won: int = 0
    churn_risk: float | None = None

    @property
    def growth_pct(self) -> float | None:
        if not self.prior_sales_jmd:
            return None
        return 100.0 * (self.sales_jmd - self.prior_sales_jmd) / self.prior_sales_jmd

    @property
    def leads_per_1000(self) -> float:
        return 1000.0 * self.open_leads / self.customers if self.customers else 0.0

    def metric(self, name: str) -> float | None:
        return {"sales": self.sales_jmd, "growth": self.growth_pct, "churn": self.churn_risk,
                "leads": self.leads_per_1000}[name]


@dataclass
class RepRow:
    rep_id: str
    name: str
    territory: str | None
    open_leads: int = 0
    pipeline_jmd: float = 0.0
    activities: int = 0
    won: int = 0
    won_jmd: float = 0.0


@dataclass
class TerritoryReport:
    period: Period
    parishes: list[ParishRow]
    reps: list[RepRow]
    churn_basis: str  # "model <version>" or "rule: no purchase in 180 days"
    totals: dict[str, float] = field(default_factory=dict)


def _ts(d: date) -> str:
    return f"{d:%Y-%m-%d} 00:00:00"


def report(conn: sqlite3.Connection, period: Period, territories: list[str] | None = None) -> TerritoryReport:
    """Sales, pipeline and churn by parish, and each rep's performance, over ``period``."""
    rows = {p.code: ParishRow(p.code, p.name) for p in parishes() if not territories or p.code in territories}
    for parish, n in conn.execute("SELECT parish, count(*) FROM customer_place GROUP BY parish"):
        if parish in rows:
            rows[parish].customers = n
    # The period and the one before it, in one pass over the transactions.
    sales_sql = ("SELECT p.parish, sum(CASE WHEN t.occurred_at >= :start THEN t.total_cents END), "
                 "sum(CASE WHEN t.occurred_at < :start THEN t.total_cents END) FROM \"transaction\" t "
                 "JOIN customer_place p ON p.customer_id = t.customer_id "
                 "WHERE t.deleted_at IS NULL AND t.occurred_at >= :before AND t.occurred_at < :end GROUP BY p.parish")
    for parish, now_cents, prior_cents in conn.execute(sales_sql, {
            "start": _ts(period.start), "end": _ts(period.end), "before": _ts(period.prior.start)}):
        if parish in rows:
            rows[parish].sales_jmd, rows[parish].prior_sales_jmd = (now_cents or 0) / 100, (prior_cents or 0) / 100
    for parish, n, hot, value in conn.execute(
            "SELECT parish, count(*), sum(band = 'hot'), sum(coalesce(estimated_value_cents, 0)) FROM lead_rank "
            "GROUP BY parish"):
        if parish in rows:
            rows[parish].open_leads, rows[parish].hot_leads, rows[parish].pipeline_jmd = n, hot, value / 100
    won_sql = ("SELECT {key}, count(*), sum(coalesce(l.estimated_value_cents, 0)) FROM lead l "
               "JOIN customer_place p ON p.customer_id = l.customer_id "
               "WHERE l.deleted_at IS NULL AND l.status = 'won' AND coalesce(l.last_contact_at, l.updated_at) >= ? "
               "AND coalesce(l.last_contact_at, l.updated_at) < ? GROUP BY {key}")
    for parish, n, _value in conn.execute(won_sql.format(key="p.parish"), (_ts(period.start), _ts(period.end))):
        if parish in rows:
            rows[parish].won = n
    model = conn.execute("SELECT model_version FROM score WHERE model = 'churn' AND deleted_at IS NULL "
                         "ORDER BY scored_at DESC LIMIT 1").fetchone()
    if model:
        basis = f"model {model[0]}"
        churn_sql = (f"SELECT p.parish, avg({latest_score_sql('churn', 'p.customer_id')}) "
                     "FROM customer_place p GROUP BY p.parish")
        params: tuple[str, ...] = ()
    else:
        basis = f"rule: share of buying customers with no purchase in {LAPSED_DAYS} days"
        cutoff = period.end - timedelta(days=LAPSED_DAYS)
        churn_sql = ("SELECT p.parish, avg(s.last_purchase_at < ?) FROM customer_place p "
                     "JOIN customer_summary s ON s.customer_id = p.customer_id "
                     "WHERE s.last_purchase_at IS NOT NULL GROUP BY p.parish")
        params = (_ts(cutoff),)
    for parish, risk in conn.execute(churn_sql, params):
        if parish in rows and risk is not None:
            rows[parish].churn_risk = float(risk)

    reps: dict[str, RepRow] = {}
    for rep_id, name, code in conn.execute(
            "SELECT r.id, r.name, t.code FROM sales_rep r LEFT JOIN territory t ON t.id = r.territory_id "
            "WHERE r.deleted_at IS NULL ORDER BY t.code, r.name"):
        if not territories or code in territories:
            reps[rep_id] = RepRow(rep_id, name, code)
    for rep_id, n, value in conn.execute(
            "SELECT rep_id, count(*), sum(coalesce(estimated_value_cents, 0)) FROM lead_rank GROUP BY rep_id"):
        if rep_id in reps:
            reps[rep_id].open_leads, reps[rep_id].pipeline_jmd = n, value / 100
    for rep_id, n in conn.execute(
            "SELECT rep_id, count(*) FROM sales_activity WHERE deleted_at IS NULL AND occurred_at >= ? "
            "AND occurred_at < ? GROUP BY rep_id", (_ts(period.start), _ts(period.end))):
        if rep_id in reps:
            reps[rep_id].activities = n
    for rep_id, n, value in conn.execute(won_sql.format(key="l.rep_id"), (_ts(period.start), _ts(period.end))):
        if rep_id in reps:
            reps[rep_id].won, reps[rep_id].won_jmd = n, (value or 0) / 100
    parish_rows = sorted(rows.values(), key=lambda r: r.parish)
    totals = {"customers": sum(r.customers for r in parish_rows), "sales_jmd": sum(r.sales_jmd for r in parish_rows),
              "prior_sales_jmd": sum(r.prior_sales_jmd for r in parish_rows),
              "open_leads": sum(r.open_leads for r in parish_rows),
              "pipeline_jmd": sum(r.pipeline_jmd for r in parish_rows)}
    return TerritoryReport(period, parish_rows, list(reps.values()), basis, totals)

