"""The semantic layer: every measure and dimension a report can use, defined once, as data.

A measure belongs to one *fact* (the sales lines, the leads, the campaign spend) and is an SQL
aggregate over that fact's rows, or a ratio of two other measures. A dimension is an SQL
expression per fact it can split; a measure cannot be split by a dimension its fact lacks (the
campaign spend has no parish), and the query says so. The expressions here are fixed text
written by us: user input only ever reaches a query as a bound parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Fact = Literal["sale", "lead", "spend", "value"]
Unit = Literal["jmd", "count", "ratio"]


@dataclass(frozen=True)
class FactTable:
    name: Fact
    source: str  # FROM ... JOIN ...: the rows one measure aggregates
    time: str  # the column that dates a row (ISO text); "" for a snapshot (no period applies)
    live: str  # the rows that count (not deleted)


FACTS: dict[Fact, FactTable] = {
    "sale": FactTable(
        "sale",
        'FROM "transaction" t JOIN customer c ON c.id = t.customer_id '
        "LEFT JOIN product p ON p.id = t.product_id LEFT JOIN sales_rep r ON r.id = t.rep_id "
        "LEFT JOIN territory tr ON tr.id = r.territory_id LEFT JOIN segment sg ON sg.id = c.segment_id "
        "LEFT JOIN marketing_campaign mc ON mc.id = t.campaign_id",
        "t.occurred_at", "t.deleted_at IS NULL"),
    "lead": FactTable(
        "lead",
        "FROM lead l JOIN customer c ON c.id = l.customer_id LEFT JOIN sales_rep r ON r.id = l.rep_id "
        "LEFT JOIN territory tr ON tr.id = r.territory_id LEFT JOIN segment sg ON sg.id = c.segment_id "
        "LEFT JOIN marketing_campaign mc ON mc.id = l.campaign_id",
        "l.created_at", "l.deleted_at IS NULL"),
    "spend": FactTable(
        "spend",
        "FROM campaign_spend cs JOIN marketing_campaign mc ON mc.id = cs.campaign_id",
        "cs.spend_date", "cs.deleted_at IS NULL"),
    # the models' latest scores, one row per customer and model: a snapshot of today
    "value": FactTable(
        "value",
        "FROM score s JOIN customer c ON c.id = s.customer_id LEFT JOIN sales_rep r ON r.id = c.rep_id "
        "LEFT JOIN territory tr ON tr.id = r.territory_id LEFT JOIN segment sg ON sg.id = c.segment_id",
        "", "s.deleted_at IS NULL AND s.model = 'clv' AND c.deleted_at IS NULL"),
}


# The columnar copy (core.reports.columnar) gives every customer an integer key (ck) and every
# dated row a DATE (day): the same facts there join and count on integers and scan dates. Each
# sale there also carries its customer's parish, town, kind and segment (kept in step when the
# customer changes), so sales reports by those need not join a million customers: on_row.
COPY_FACTS: dict[Fact, FactTable] = {
    "sale": FactTable("sale", FACTS["sale"].source.replace("c.id = t.customer_id", "c.ck = t.ck")
                      .replace("sg.id = c.segment_id", "sg.id = t.c_segment_id"), "t.day", "t.deleted_at IS NULL"),
    "lead": FactTable("lead", FACTS["lead"].source.replace("c.id = l.customer_id", "c.ck = l.ck"), "l.day",
                      "l.deleted_at IS NULL"),
    "spend": FactTable("spend", FACTS["spend"].source, "cs.day", "cs.deleted_at IS NULL"),
    "value": FactTable("value", FACTS["value"].source.replace("c.id = s.customer_id", "c.ck = s.ck"), "",
                       FACTS["value"].live),
}
CUSTOMER_KEY = {"sqlite": "t.customer_id", "duckdb": "t.ck"}
ON_SALE_ROW = ("parish", "town", "kind", "segment_id")  # customer columns each sale carries in the copy
_CUSTOMER_COLUMN = re.compile(rf"\bc\.({'|'.join(ON_SALE_ROW)})\b")


def on_row(fact: Fact, sql: str, dialect: Dialect) -> str:
    """``sql`` reading the customer's columns a sale carries in the copy from the sale row itself
    (c.parish becomes t.c_parish), for sales in DuckDB's dialect; anything else as it is."""
    return _CUSTOMER_COLUMN.sub(r"t.c_\1", sql) if fact == "sale" and dialect == "duckdb" else sql


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    unit: Unit
    formula: str  # for people: what the figure means
    fact: Fact | None = None  # None: a ratio of two other measures
    sql: str = ""  # the aggregate over the fact's rows
    ratio: tuple[str, str] | None = None  # (numerator, denominator) measure names
    additive: bool = False  # sums across the rows of any split (explain-change may decompose it)
    needs_first_purchase: bool = False
    # The same aggregate in two steps, per customer then per group (``x`` is the inner value):
    # DuckDB counts distinct customers far faster this way than with COUNT(DISTINCT).
    per_customer: tuple[str, str] | None = None
    offset: float = 0.0  # added to a ratio (ROI is ROAS - 1)
    # dimensions that mean different things in the two parts of a ratio (a sale's channel is
    # where it was sold, a campaign's is where it was advertised): the split is refused
    not_by: tuple[str, ...] = ()
    # computed over a window of its own around the period, per customer (query._rolling_sql):
    # "active" (the 365 days up to the period's end), "churn" (the 365 days before it, and it)
    rolling: str | None = None
    # COUNT(DISTINCT this): DuckDB may count it as the set bits of one bitstring per group over the
    # copy's dense integer customer keys (query._fact_sql), exact and without a hash table
    distinct: str | None = None


OPEN_LEAD = "l.status IN ('new', 'contacted', 'qualified')"

MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("revenue", "Revenue", "jmd", "sum of the sales lines' amount before GCT, in JMD",
            "sale", "SUM(t.amount_cents) / 100.0", additive=True,
            per_customer=("SUM(t.amount_cents)", "SUM(x) / 100.0")),
    Measure("orders", "Orders", "count", "number of sales lines", "sale", "COUNT(*)", additive=True,
            per_customer=("COUNT(*)", "SUM(x)")),
    Measure("customers", "Customers", "count", "distinct customers who bought", "sale",
            "COUNT(DISTINCT {customer})", per_customer=("COUNT(*)", "COUNT(*)"), distinct="{customer}"),
    Measure("new_customers", "New customers", "count",
            "distinct buyers whose first purchase ever falls in the same period (or time bucket)", "sale",
            "COUNT(DISTINCT CASE WHEN {first_in_bucket} THEN {customer} END)", needs_first_purchase=True,
            per_customer=("MAX(CASE WHEN {first_in_bucket} THEN 1 ELSE 0 END)", "SUM(x)"),
            distinct="CASE WHEN {first_in_bucket} THEN {customer} END"),
    Measure("average_order_value", "Average order value", "jmd", "revenue / orders",
            ratio=("revenue", "orders")),
    Measure("revenue_per_customer", "Revenue per customer", "jmd", "revenue / customers",
            ratio=("revenue", "customers")),
    Measure("leads", "Leads", "count", "leads created in the period", "lead", "COUNT(*)", additive=True),
    Measure("conversions", "Conversions", "count", "leads created in the period that are won", "lead",
            "SUM(CASE WHEN l.status = 'won' THEN 1 ELSE 0 END)", additive=True),
    Measure("closed_leads", "Closed leads", "count", "leads created in the period that are won or lost",
            "lead", "SUM(CASE WHEN l.status IN ('won', 'lost') THEN 1 ELSE 0 END)", additive=True),
    Measure("conversion_rate", "Conversion rate", "ratio", "conversions / leads", ratio=("conversions", "leads")),
    Measure("win_rate", "Win rate", "ratio", "won / (won + lost), of the leads created in the period",
            ratio=("conversions", "closed_leads")),
    Measure("pipeline_value", "Pipeline value", "jmd",
            "estimated value of the open leads (new, contacted, qualified) created in the period", "lead",
            f"COALESCE(SUM(CASE WHEN {OPEN_LEAD} THEN l.estimated_value_cents END), 0) / 100.0", additive=True),
    Measure("campaign_spend", "Campaign spend", "jmd", "sum of campaign spend dated in the period", "spend",
            "SUM(cs.amount_cents) / 100.0", additive=True),
    Measure("cpa", "Cost per acquisition", "jmd", "campaign_spend / conversions",
            ratio=("campaign_spend", "conversions")),
    Measure("active_customers", "Active customers", "count",
            "distinct customers who bought in the 365 days up to the period's last day", "sale",
            rolling="active"),
    Measure("prior_customers", "Customers the year before", "count",
            "distinct customers who bought in the 365 days before the period's first day", "sale",
            rolling="churn"),
    Measure("lapsed_customers", "Lapsed customers", "count",
            "customers who bought in the 365 days before the period and not in the period", "sale",
            rolling="churn"),
    Measure("churn_rate", "Churn rate", "ratio", "lapsed_customers / prior_customers",
            ratio=("lapsed_customers", "prior_customers")),
    Measure("clv", "Predicted lifetime value", "jmd",
            "mean of the customers' predicted 12-month value from the CLV model's latest scores (today's, "
            "whatever the period)", "value", "AVG(s.value)"),
    Measure("scored_customers", "Customers with a CLV", "count",
            "customers the CLV model has scored (today's, whatever the period)", "value", "COUNT(*)"),
    Measure("campaign_revenue", "Campaign revenue", "jmd",
            "sum of the sales lines carrying a campaign's code, dated in the period, in JMD before GCT", "sale",
            "COALESCE(SUM(CASE WHEN t.campaign_id IS NOT NULL THEN t.amount_cents END), 0) / 100.0", additive=True),
    Measure("roas", "Return on ad spend", "ratio", "campaign_revenue / campaign_spend",
            ratio=("campaign_revenue", "campaign_spend"), not_by=("channel",)),
    Measure("roi", "Return on investment", "ratio",
            "(campaign_revenue - campaign_spend) / campaign_spend (on revenue: the cache has no cost of goods)",
            ratio=("campaign_revenue", "campaign_spend"), offset=-1.0, not_by=("channel",)),
)}


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    exprs: dict[Fact, str] = field(default_factory=dict)  # per fact that has it
    time: bool = False


# Buckets as sortable text: day 2026-03-01, week (its Monday) 2026-02-23, month 2026-03,
# quarter 2026-Q1, year 2026. The same buckets in each engine's dialect (SQLite, DuckDB).
Dialect = Literal["sqlite", "duckdb"]
BUCKET_SQL: dict[Dialect, dict[str, str]] = {
    "sqlite": {
        "day": "substr({T}, 1, 10)",
        "week": "date(substr({T}, 1, 10), '-6 days', 'weekday 1')",
        "month": "substr({T}, 1, 7)",
        "quarter": "substr({T}, 1, 4) || '-Q' || ((CAST(substr({T}, 6, 2) AS INTEGER) + 2) / 3)",
        "year": "substr({T}, 1, 4)",
    },
    "duckdb": {  # {T} is a DATE in the copy; buckets stay dates until the result is labelled
        "day": "{T}",
        "week": "date_trunc('week', {T})",
        "month": "date_trunc('month', {T})",
        "quarter": "date_trunc('quarter', {T})",
        "year": "date_trunc('year', {T})",
    },
}
# A time filter (month = '2026-03') compares the label, in the copy's dialect
LABEL_SQL = {
    "day": "strftime({T}, '%Y-%m-%d')",
    "week": "strftime(date_trunc('week', {T}), '%Y-%m-%d')",
    "month": "strftime({T}, '%Y-%m')",
    "quarter": "strftime({T}, '%Y') || '-Q' || CAST(quarter({T}) AS VARCHAR)",
    "year": "strftime({T}, '%Y')",
}


def bucket_label(dim: str, value: object) -> object:
    """A bucket's sortable text label (2026-03, 2026-Q1...) from the copy's bucket date."""
    if not hasattr(value, "year"):
        return value
    d = value  # a date or a datetime
    if dim == "year":
        return f"{d.year}"  # type: ignore[attr-defined]
    if dim == "quarter":
        return f"{d.year}-Q{(d.month + 2) // 3}"  # type: ignore[attr-defined]
    if dim == "month":
        return f"{d.year}-{d.month:02d}"  # type: ignore[attr-defined]
    return f"{d.year}-{d.month:02d}-{d.day:02d}"  # type: ignore[attr-defined]


TIME_DIMENSIONS = tuple(BUCKET_SQL["sqlite"])


def time_expr(dim: str, column: str, dialect: Dialect, label: bool = False) -> str:
    if label and dialect == "duckdb":
        return LABEL_SQL[dim].format(T=column)
    return BUCKET_SQL[dialect][dim].format(T=column)


def facts(dialect: Dialect) -> dict[Fact, FactTable]:
    return COPY_FACTS if dialect == "duckdb" else FACTS


_CUSTOMER: tuple[Fact, ...] = ("sale", "lead", "value")

DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    # a time dimension's expression is the fact's time column; the bucket is made per dialect
    *(Dimension(name, name.capitalize(), {f: "{time}" for f, t in FACTS.items() if t.time}, time=True)
      for name in TIME_DIMENSIONS),
    Dimension("parish", "Parish", {f: "c.parish" for f in _CUSTOMER}),
    Dimension("town", "Town", {f: "c.town" for f in _CUSTOMER}),
    Dimension("segment", "Segment", {f: "sg.name" for f in _CUSTOMER}),
    Dimension("kind", "Customer kind", {f: "c.kind" for f in _CUSTOMER}),
    Dimension("product", "Product", {"sale": "p.name"}),
    Dimension("category", "Category", {"sale": "p.category"}),
    Dimension("rep", "Rep", {f: "r.name" for f in _CUSTOMER}),
    Dimension("territory", "Territory", {f: "tr.name" for f in _CUSTOMER}),
    Dimension("channel", "Channel", {"sale": "t.channel", "lead": "mc.channel", "spend": "cs.channel"}),
    Dimension("campaign", "Campaign", {"sale": "mc.name", "lead": "mc.name", "spend": "mc.name"}),
)}


class ReportError(ValueError):
    """A report that cannot be made as asked; the message names what is wrong."""


def measure(name: str) -> Measure:
    try:
        return MEASURES[name]
    except KeyError:
        raise ReportError(f"unknown measure {name!r}; choose from {', '.join(MEASURES)}") from None


def dimension(name: str) -> Dimension:
    try:
        return DIMENSIONS[name]
    except KeyError:
        raise ReportError(f"unknown dimension {name!r}; choose from {', '.join(DIMENSIONS)}") from None


def base_measures(name: str) -> list[Measure]:
    """The fact measures a measure is computed from (itself, or a ratio's two parts)."""
    m = measure(name)
    if m.ratio is None:
        return [m]
    return [measure(m.ratio[0]), measure(m.ratio[1])]
