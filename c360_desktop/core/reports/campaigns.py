"""Campaign analytics: what each campaign cost and brought in, and whether it will stay in budget.

Attribution (one documented rule, the same everywhere):

- a campaign's *leads* are the leads tagged with it (``lead.campaign_id``), created from its first
  day to ``window_days`` after its last;
- its *conversions* are those leads that are won;
- its *revenue* is the sales lines carrying its code (``transaction.campaign_id``), dated from its
  first day to ``window_days`` after its last (amounts before GCT);
- CPA = spend / conversions; ROAS = revenue / spend; ROI = (revenue - spend) / spend (on revenue:
  the cache holds no cost of goods);
- the projection to the campaign's end is the spend so far plus its daily rate so far over the days
  left; a projection above the budget raises a budget alert (core.alerts) once per campaign.

Spend and budgets belong to no parish: a field rep sees the whole spend beside the leads and
revenue of their own territory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from c360_desktop.core.reports.analyses import DAY, LEAD_DAY, _frame, day_number
from c360_desktop.core.reports.query import scope_condition
from c360_desktop.core.reports.semantic import Dialect, ReportError, facts

ALERT_TYPE = "campaign_budget"
ALERT_NAMESPACE = uuid.UUID("6f1c7d1e-3c55-4b7a-9a55-0c3605c1b0d4")
SPEND_DAY = {"sqlite": "CAST(julianday(substr(cs.spend_date, 1, 10)) - 2440587.5 AS INTEGER)",
             "duckdb": "CAST(date_diff('day', DATE '1970-01-01', cs.day) AS INTEGER)"}


@dataclass
class CampaignReport:
    as_of: date
    window_days: int
    frame: pd.DataFrame  # one row per campaign (see COLUMNS)

    def as_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.frame.to_dict(orient="records"):
            rows.append({k: (None if isinstance(v, float) and v != v else v.isoformat() if isinstance(v, date)
                             else v.item() if hasattr(v, "item") else v) for k, v in r.items()})
        return {"as_of": self.as_of.isoformat(), "window_days": self.window_days, "campaigns": rows}

    def over_budget(self) -> pd.DataFrame:
        """Running or future campaigns whose projected spend passes their budget."""
        f = self.frame
        return f[(f["status"] != "ended") & (f["projected_spend"] > f["budget"])]


COLUMNS = ("campaign", "channel", "start", "end", "status", "budget", "spend", "budget_used", "budget_left",
           "projected_spend", "leads", "conversions", "conversion_rate", "revenue", "cpa", "roas", "roi", "id")


def campaign_report(conn: Any, dialect: Dialect, as_of: date, start: date | None = None, end: date | None = None,
                    window_days: int = 30, scope: tuple[str, ...] | None = None) -> CampaignReport:
    """Every campaign running at some time between ``start`` and ``end`` (default: all), with its
    figures up to ``as_of``."""
    if window_days < 0:
        raise ReportError(f"the attribution window must be 0 days or more, not {window_days}")
    camps = _frame(conn, "SELECT id, name, channel, start_date, end_date, budget_cents FROM marketing_campaign "
                         "WHERE deleted_at IS NULL", [], ["id", "campaign", "channel", "start", "end", "budget_cents"])
    camps["start"] = camps["start"].map(lambda s: date.fromisoformat(str(s)[:10]))
    camps["end"] = camps["end"].map(lambda s: date.fromisoformat(str(s)[:10]))
    if start:
        camps = camps[camps["end"] >= start]
    if end:
        camps = camps[camps["start"] <= end]
    at = day_number(as_of)
    first = camps["start"].map(day_number).astype(int)
    last = camps["end"].map(day_number).astype(int)

    spend_fact = facts(dialect)["spend"]
    spend = _frame(conn, f"SELECT cs.campaign_id, SUM(cs.amount_cents) FROM campaign_spend cs "
                         f"WHERE {spend_fact.live} AND {SPEND_DAY[dialect]} <= ? GROUP BY 1", [at], ["id", "cents"])
    spent = camps["id"].map(dict(zip(spend["id"], spend["cents"].astype(float), strict=True))).fillna(0.0)

    scope_sql, scope_params = scope_condition(scope)
    scope_sql = f" AND {scope_sql}" if scope_sql else ""
    lead_fact = facts(dialect)["lead"]
    leads = _frame(conn, f"SELECT l.campaign_id, {LEAD_DAY[dialect]}, l.status {lead_fact.source} WHERE "
                         f"{lead_fact.live} AND l.campaign_id IS NOT NULL AND {LEAD_DAY[dialect]} <= ?{scope_sql}",
                   [at, *scope_params], ["id", "d", "status"])
    sale_fact = facts(dialect)["sale"]
    key = "c.ck = t.ck" if dialect == "duckdb" else "c.id = t.customer_id"
    sales = _frame(conn, f'SELECT t.campaign_id, {DAY[dialect]}, SUM(t.amount_cents) FROM "transaction" t '
                         f"JOIN customer c ON {key} WHERE {sale_fact.live} AND t.campaign_id IS NOT NULL "
                         f"AND {DAY[dialect]} <= ?{scope_sql} GROUP BY 1, 2", [at, *scope_params], ["id", "d", "cents"])
    window = dict(zip(camps["id"], zip(first, last + window_days, strict=True), strict=True))

    def within(frame: pd.DataFrame) -> pd.DataFrame:
        lo = frame["id"].map(lambda i: window.get(i, (0, -1))[0])
        hi = frame["id"].map(lambda i: window.get(i, (0, -1))[1])
        return frame[(frame["d"] >= lo) & (frame["d"] <= hi)]

    leads = within(leads)
    n_leads = camps["id"].map(leads.groupby("id").size()).fillna(0).astype(int)
    n_won = camps["id"].map(leads[leads["status"] == "won"].groupby("id").size()).fillna(0).astype(int)
    revenue = camps["id"].map(within(sales).groupby("id")["cents"].sum().astype(float)).fillna(0.0) / 100.0

    budget = camps["budget_cents"].astype(float) / 100.0
    spend_jmd = spent / 100.0
    status = np.where(at < first, "planned", np.where(at > last, "ended", "running"))
    elapsed = (np.minimum(at, last) - first + 1).clip(lower=0)
    remaining = (last - np.maximum(at, first - 1)).clip(lower=0)
    rate = spend_jmd / elapsed.where(elapsed > 0)
    projected = spend_jmd + (rate.fillna(0) * remaining).where(status == "running", 0.0)
    safe = spend_jmd.where(spend_jmd > 0)
    frame = pd.DataFrame({
        "campaign": camps["campaign"], "channel": camps["channel"], "start": camps["start"], "end": camps["end"],
        "status": status, "budget": budget, "spend": spend_jmd, "budget_used": spend_jmd / budget.where(budget > 0),
        "budget_left": budget - spend_jmd, "projected_spend": projected, "leads": n_leads, "conversions": n_won,
        "conversion_rate": n_won / n_leads.where(n_leads > 0), "revenue": revenue,
        "cpa": spend_jmd / n_won.where(n_won > 0), "roas": revenue / safe, "roi": (revenue - spend_jmd) / safe,
        "id": camps["id"]})
    frame = frame.sort_values(["start", "campaign"], ascending=[False, True]).reset_index(drop=True)
    return CampaignReport(as_of, window_days, frame)


def budget_alerts(report: CampaignReport, now: datetime | None = None) -> list[Any]:
    """A budget alert (core.alerts.pipeline.NewAlert) per campaign whose projection passes its
    budget; the id is the campaign's, so a campaign is alerted once however often this runs."""
    from c360_desktop.core.alerts.pipeline import NewAlert
    from c360_desktop.core.reports.formatting import figure

    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    out = []
    for r in report.over_budget().to_dict(orient="records"):
        alert_id = str(uuid.uuid5(ALERT_NAMESPACE, f"budget:{r['id']}"))
        over = r["projected_spend"] - r["budget"]
        title = f"{r['campaign']} will pass its budget by {figure(over, 'jmd')}"
        body = (f"Spent {figure(r['spend'], 'jmd')} of {figure(r['budget'], 'jmd')} by {report.as_of}; at its "
                f"rate so far it reaches {figure(r['projected_spend'], 'jmd')} by its last day, {r['end']}.")
        out.append(NewAlert(alert_id, alert_id, None, ALERT_TYPE, "medium", title, body, stamp, stamp, ("budget",)))
    return out

