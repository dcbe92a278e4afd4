"""Ready-made descriptive analyses over the sales lines: cohort retention, the RFM distribution,
product affinity, the customer journey and seasonality.

Each runs as a few GROUP BY statements in the reports engine's dialect (the columnar copy's
DuckDB, or the cache's SQLite when the copy cannot be used) and finishes the arithmetic in pandas
over what those return (one row per cohort and month, per product pair, per customer or per day).
Days are whole numbers (days since 1970-01-01) and months are ``year * 12 + month - 1`` in both
dialects, so both engines give the same figures. Filters are on the customer or the line (parish,
town, segment, kind, product, category, rep, territory, channel, campaign); a field rep's
territory applies as in every report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from c360_desktop.core.reports.query import ReportQuery, conditions
from c360_desktop.core.reports.semantic import Dialect, ReportError, dimension, facts

EPOCH = date(1970, 1, 1)
# the per-dialect pieces every analysis is written from
KEY = {"sqlite": "t.customer_id", "duckdb": "t.ck"}
DAY = {"sqlite": "CAST(julianday(substr(t.occurred_at, 1, 10)) - 2440587.5 AS INTEGER)",
       "duckdb": "CAST(date_diff('day', DATE '1970-01-01', t.day) AS INTEGER)"}
MONTH = {"sqlite": "(CAST(substr(t.occurred_at, 1, 4) AS INTEGER) * 12 + CAST(substr(t.occurred_at, 6, 2) AS INTEGER) - 1)",
         "duckdb": "(year(t.day) * 12 + month(t.day) - 1)"}
LEAD_KEY = {"sqlite": "l.customer_id", "duckdb": "l.ck"}
LEAD_DAY = {"sqlite": "CAST(julianday(substr(l.created_at, 1, 10)) - 2440587.5 AS INTEGER)",
            "duckdb": "CAST(date_diff('day', DATE '1970-01-01', l.day) AS INTEGER)"}
Filters = tuple[tuple[str, str], ...]


def day_number(d: date) -> int:
    return (d - EPOCH).days


def day_of(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def month_label(i: int) -> str:
    return f"{int(i) // 12}-{int(i) % 12 + 1:02d}"


def _sales(dialect: Dialect, where: Filters, scope: tuple[str, ...] | None,
           start: date | None = None, end: date | None = None) -> tuple[str, list[object]]:
    """``FROM ... WHERE ...`` over the live sales lines the filters keep, and its parameters (the
    period, scope and filters as every report has them: query.conditions)."""
    for d, _value in where:
        dim = dimension(d)
        if dim.time or "sale" not in dim.exprs:
            raise ReportError(f"an analysis of sales cannot be filtered by {d}")
    conds, params, _bounds = conditions("sale", ReportQuery(("revenue",), (), start, end, where, scope=scope), dialect)
    return f"{_source(dialect, where)} WHERE {' AND '.join(conds)}", params


# filters on these need only the customer beside the line; others need the full fact's joins
_NEAR = {"parish", "town", "kind", "channel"}


def _source(dialect: Dialect, where: Filters) -> str:
    if all(d in _NEAR for d, _ in where):
        on = "c.ck = t.ck" if dialect == "duckdb" else "c.id = t.customer_id"
        return f'FROM "transaction" t JOIN customer c ON {on}'
    return facts(dialect)["sale"].source


def _frame(conn: Any, sql: str, params: list[object], columns: list[str]) -> pd.DataFrame:
    cur = conn.execute(sql, params)
    if hasattr(cur, "fetchdf"):  # DuckDB: straight to columns
        out = cur.fetchdf()
        out.columns = columns
        return out
    return pd.DataFrame(cur.fetchall(), columns=columns)


# -- cohorts ------------------------------------------------------------------------------------

@dataclass
class Cohorts:
    """Customers by the month of their first purchase ever (rows) still buying N months later
    (columns 0..N: month 0 is the first month itself, so it holds the whole cohort)."""

    counts: pd.DataFrame  # index: cohort month (YYYY-MM); columns 0..months; NaN where not yet seen
    last_month: str  # the data's last month: later cells are not yet known

    @property
    def sizes(self) -> pd.Series:
        return self.counts[0]

    @property
    def shares(self) -> pd.DataFrame:
        return self.counts.div(self.sizes.where(self.sizes > 0), axis=0)

    def as_dict(self) -> dict[str, Any]:
        def cell(v: float) -> float | None:
            return None if v != v else float(v)

        return {"last_month": self.last_month, "months": [int(c) for c in self.counts.columns],
                "cohorts": [{"cohort": str(k), "size": int(self.sizes[k]),
                             "customers": [None if v != v else int(v) for v in self.counts.loc[k]],
                             "share": [cell(v) for v in self.shares.loc[k]]} for k in self.counts.index]}


def cohorts(conn: Any, dialect: Dialect, start: date, end: date, months: int = 12, where: Filters = (),
            scope: tuple[str, ...] | None = None) -> Cohorts:
    """The retention matrix of the customers whose first purchase ever falls between ``start``
    and ``end`` (by month), over ``months`` months after it."""
    source, params = _sales(dialect, where, scope)
    k, m = KEY[dialect], MONTH[dialect]
    sql = (f"WITH a AS (SELECT {k} AS k, {m} AS mi {source} GROUP BY 1, 2), "
           "f AS (SELECT k, MIN(mi) AS first FROM a GROUP BY k) "
           "SELECT f.first, a.mi - f.first, COUNT(*) FROM a JOIN f ON f.k = a.k "
           "WHERE f.first BETWEEN ? AND ? AND a.mi - f.first <= ? GROUP BY 1, 2")
    lo, hi = month_index(start), month_index(end)
    rows = _frame(conn, sql, [*params, lo, hi, months], ["first", "age", "n"])
    (last,) = conn.execute(f"SELECT MAX({m}) {source}", params).fetchone()
    last = int(last) if last is not None else hi
    grid = pd.DataFrame(0.0, index=range(lo, hi + 1), columns=range(months + 1))
    for first, age, n in rows.itertuples(index=False):
        grid.loc[int(first), int(age)] = float(n)
    for first in grid.index:  # months not yet reached are unknown, not zero
        grid.loc[first, [a for a in grid.columns if first + a > last]] = np.nan
    grid = grid[grid.index <= last]
    grid.index = [month_label(i) for i in grid.index]
    return Cohorts(grid, month_label(last))


# -- RFM distribution ---------------------------------------------------------------------------

@dataclass
class RfmDistribution:
    as_of: date
    customers: int
    grid: pd.DataFrame  # recency score (rows 5..1) x frequency-and-monetary score (columns 1..5): customers
    segments: pd.DataFrame  # segment, customers, share, revenue, revenue share, median recency days

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "customers": self.customers,
                "grid": {str(r): {str(c): int(v) for c, v in row.items()} for r, row in self.grid.iterrows()},
                "segments": self.segments.to_dict(orient="records")}


def rfm(conn: Any, dialect: Dialect, as_of: date, where: Filters = (),
        scope: tuple[str, ...] | None = None) -> RfmDistribution:
    """Every buyer up to ``as_of`` scored 1-5 on recency, frequency (purchase days) and spend by
    quintile, and named by the RFM grid of core.analytics.segments."""
    from c360_desktop.core.analytics.segments import quintile_scores, rfm_segment

    source, params = _sales(dialect, where, scope, end=as_of)
    d = DAY[dialect]
    sql = (f"SELECT {KEY[dialect]}, MAX({d}), COUNT(DISTINCT {d}), SUM(t.amount_cents) {source} GROUP BY 1")
    per = _frame(conn, sql, params, ["k", "last", "days", "cents"])
    at = day_number(as_of) + 1  # the day after as_of: bought on as_of is 1 day ago, as in segments
    recency = (at - per["last"].astype(float))
    r = quintile_scores(recency, higher_is_better=False)
    f = quintile_scores(per["days"].astype(float))
    m = quintile_scores(per["cents"].astype(float))
    fm = np.rint((f + m) / 2).astype(int)
    grid = pd.crosstab(pd.Categorical(r, categories=[5, 4, 3, 2, 1]), pd.Categorical(fm, categories=[1, 2, 3, 4, 5]),
                       dropna=False)
    grid.index.name, grid.columns.name = "recency", "frequency_monetary"
    names = pd.Series([rfm_segment(a, b) for a, b in zip(r.tolist(), fm.tolist(), strict=True)], index=per.index)
    total = float(per["cents"].sum()) or 1.0
    segs = (pd.DataFrame({"segment": names, "cents": per["cents"].astype(float), "recency": recency})
            .groupby("segment").agg(customers=("cents", "size"), cents=("cents", "sum"), recency=("recency", "median"))
            .reset_index().sort_values("cents", ascending=False))
    out = pd.DataFrame({"segment": segs["segment"], "customers": segs["customers"].astype(int),
                        "share": segs["customers"] / max(len(per), 1), "revenue": segs["cents"] / 100.0,
                        "revenue_share": segs["cents"] / total, "median_recency_days": segs["recency"]})
    return RfmDistribution(as_of, len(per), grid, out.reset_index(drop=True))


# -- product affinity ---------------------------------------------------------------------------

@dataclass
class Affinity:
    start: date
    end: date
    window_days: int
    customers: int  # buyers in the period (the base for support)
    pairs: pd.DataFrame  # product_a, product_b, customers, support, confidence_a_b, confidence_b_a, lift

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "window_days": self.window_days,
                "customers": self.customers, "pairs": self.pairs.to_dict(orient="records")}


def affinity(conn: Any, dialect: Dialect, start: date, end: date, window_days: int = 30, where: Filters = (),
             scope: tuple[str, ...] | None = None, min_customers: int = 5, top: int = 50) -> Affinity:
    """Pairs of products bought by the same customer within ``window_days`` of each other, in the
    period. A pair counts a customer once. support = pair's customers / buyers; confidence A->B =
    pair's customers / A's buyers; lift = confidence A->B / (B's buyers / buyers)."""
    if window_days < 0:
        raise ReportError(f"the window must be 0 days or more, not {window_days}")
    source, params = _sales(dialect, where, scope, start, end)
    b = f"SELECT DISTINCT {KEY[dialect]} AS k, t.product_id AS p, {DAY[dialect]} AS d {source} AND t.product_id IS NOT NULL"
    sql = (f"WITH b AS ({b}), "
           "pairs AS (SELECT DISTINCT x.k, x.p AS a, y.p AS b FROM b x JOIN b y "
           "ON x.k = y.k AND x.p < y.p AND abs(x.d - y.d) <= ?) "
           "SELECT a, b, COUNT(*) FROM pairs GROUP BY a, b")
    pairs = _frame(conn, sql, [*params, window_days], ["a", "b", "n"])
    singles = _frame(conn, f"WITH b AS ({b}) SELECT p, COUNT(DISTINCT k) FROM b GROUP BY p", params, ["p", "n"])
    (buyers,) = conn.execute(f"WITH b AS ({b}) SELECT COUNT(DISTINCT k) FROM b", params).fetchone()
    names = dict(conn.execute("SELECT id, name FROM product").fetchall())
    of = dict(zip(singles["p"], singles["n"].astype(int), strict=True))
    pairs = pairs[pairs["n"] >= min_customers]
    n_ab = pairs["n"].astype(float)
    n_a = pairs["a"].map(of).astype(float)
    n_b = pairs["b"].map(of).astype(float)
    total = float(buyers or 0)
    out = pd.DataFrame({
        "product_a": pairs["a"].map(lambda i: names.get(i, i)), "product_b": pairs["b"].map(lambda i: names.get(i, i)),
        "customers": pairs["n"].astype(int), "support": n_ab / total if total else np.nan,
        "confidence_a_b": n_ab / n_a, "confidence_b_a": n_ab / n_b, "lift": n_ab * total / (n_a * n_b)})
    out = out.sort_values(["lift", "customers", "product_a", "product_b"], ascending=[False, False, True, True])
    return Affinity(start, end, window_days, int(total), out.head(top).reset_index(drop=True))


# -- customer journey ---------------------------------------------------------------------------

@dataclass
class Journey:
    as_of: date
    lapse_days: int
    # stage, customers, from_previous (of the stage before, how many got here), of_previous (as a
    # share of it), median_days (from it)
    stages: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "lapse_days": self.lapse_days, "stages": self.stages}


STAGES = ("lead", "first purchase", "repeat purchase", "lapsed", "won back")


def journey(conn: Any, dialect: Dialect, as_of: date, lapse_days: int = 180, where: Filters = (),
            scope: tuple[str, ...] | None = None) -> Journey:
    """Customers at each stage up to ``as_of``: lead (a lead before any purchase), first purchase,
    repeat purchase (a second purchase day), lapsed (``lapse_days`` with no purchase, at any time),
    won back (a purchase after lapsing); with the median days from the stage before."""
    if lapse_days < 1:
        raise ReportError(f"a customer lapses after 1 day or more without buying, not {lapse_days}")
    source, params = _sales(dialect, where, scope, end=as_of)
    d = DAY[dialect]
    sql = (f"WITH s AS (SELECT DISTINCT {KEY[dialect]} AS k, {d} AS d {source}), "
           "g AS (SELECT k, d, d - LAG(d) OVER (PARTITION BY k ORDER BY d) AS gap FROM s) "
           "SELECT k, MIN(d), MIN(CASE WHEN gap IS NOT NULL THEN d END), "
           "MIN(CASE WHEN gap > ? THEN d - gap END), MIN(CASE WHEN gap > ? THEN d END), MAX(d) FROM g GROUP BY k")
    per = _frame(conn, sql, [*params, lapse_days, lapse_days], ["k", "first", "second", "lapse_from", "back", "last"])
    per = per.set_index("k")
    at = day_number(as_of)
    for c in ("first", "second", "lapse_from", "back", "last"):
        per[c] = pd.to_numeric(per[c], errors="coerce").astype(float)
    # never lapsed between purchases, but no purchase for lapse_days up to as_of: lapsed now
    still_out = per["lapse_from"].isna() & (at - per["last"] >= lapse_days)
    per.loc[still_out, "lapse_from"] = per.loc[still_out, "last"]
    lapsed_on = per["lapse_from"] + lapse_days  # the day a customer counts as lapsed

    lead_source, lead_params = _leads(dialect, where, scope, as_of)
    leads = _frame(conn, f"SELECT {LEAD_KEY[dialect]}, MIN({LEAD_DAY[dialect]}) {lead_source} GROUP BY 1",
                   lead_params, ["k", "lead"]).set_index("k")["lead"].astype(float)
    first_lead = leads.reindex(leads.index.union(per.index))
    first_buy = per["first"].reindex(first_lead.index)
    lead_first = first_lead.notna() & (first_buy.isna() | (first_lead <= first_buy))
    converted = lead_first & first_buy.notna()

    def median(days: pd.Series) -> float | None:
        return float(days.median()) if len(days) else None

    stages = [
        ("lead", int(lead_first.sum()), None),
        ("first purchase", int(len(per)), median((first_buy - first_lead)[converted])),
        ("repeat purchase", int(per["second"].notna().sum()), median((per["second"] - per["first"]).dropna())),
        ("lapsed", int(per["lapse_from"].notna().sum()), median((lapsed_on - per["first"]).dropna())),
        ("won back", int(per["back"].notna().sum()), median((per["back"] - lapsed_on)[per["back"].notna()])),
    ]
    # of_previous: the share of the stage before that reached this one; for a first purchase, of
    # the leads (most buyers never were a lead, so the share is of leads that bought)
    reached = [0, int(converted.sum()), *(n for _name, n, _days in stages[2:])]
    out = []
    for i, (name, n, days) in enumerate(stages):
        before = stages[i - 1][1] if i else 0
        out.append({"stage": name, "customers": n, "from_previous": reached[i] if i else None,
                    "of_previous": (reached[i] / before) if before else None, "median_days": days})
    return Journey(as_of, lapse_days, out)


def _leads(dialect: Dialect, where: Filters, scope: tuple[str, ...] | None, as_of: date) -> tuple[str, list[object]]:
    """The leads created up to ``as_of``, with the filters the leads have (a product filter
    applies to the sales only)."""
    kept = tuple(w for w in where if "lead" in dimension(w[0]).exprs and not dimension(w[0]).time)
    conds, params, _bounds = conditions("lead", ReportQuery(("leads",), (), None, as_of, kept, scope=scope), dialect)
    return f"{facts(dialect)['lead'].source} WHERE {' AND '.join(conds)}", params


# -- seasonality --------------------------------------------------------------------------------

@dataclass
class Seasonality:
    start: date
    end: date
    by_month: pd.DataFrame  # month (1..12), name, days, revenue, orders, revenue_per_day, index
    by_weekday: pd.DataFrame  # weekday (0 = Monday), name, days, revenue, orders, revenue_per_day, index
    holidays: pd.DataFrame  # date, holiday, weekday, revenue, usual (the same weekday's mean), index

    def as_dict(self) -> dict[str, Any]:
        def rows(f: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
                    for r in f.to_dict(orient="records")]

        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "by_month": rows(self.by_month),
                "by_weekday": rows(self.by_weekday), "holidays": rows(self.holidays)}


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def seasonality(conn: Any, dialect: Dialect, start: date, end: date, where: Filters = (),
                scope: tuple[str, ...] | None = None) -> Seasonality:
    """Revenue per calendar day by month of the year and by weekday, as an index (1 = the
    period's mean day), and each Jamaican public holiday's revenue against its weekday's mean
    (other days). Days without a sale count as zero."""
    if start > end:
        raise ReportError(f"the period starts ({start}) after it ends ({end})")
    source, params = _sales(dialect, where, scope, start, end)
    daily = _frame(conn, f"SELECT {DAY[dialect]}, SUM(t.amount_cents), COUNT(*) {source} GROUP BY 1", params,
                   ["d", "cents", "orders"])
    days = pd.DataFrame({"d": np.arange(day_number(start), day_number(end) + 1)})
    days = days.merge(daily.astype({"d": "int64"}), on="d", how="left").fillna(0)
    days["date"] = [day_of(n) for n in days["d"]]
    days["month"] = [x.month for x in days["date"]]
    days["weekday"] = [x.weekday() for x in days["date"]]
    names = jamaica_holidays(start, end)
    days["holiday"] = days["date"].map(names)
    mean = days["cents"].mean() or 1.0

    def table(key: str, labels: tuple[str, ...], base: int) -> pd.DataFrame:
        g = days.groupby(key).agg(days=("d", "size"), cents=("cents", "sum"), orders=("orders", "sum")).reset_index()
        return pd.DataFrame({key: g[key], "name": g[key].map(lambda i: labels[i - base]), "days": g["days"],
                             "revenue": g["cents"] / 100.0, "orders": g["orders"].astype(int),
                             "revenue_per_day": g["cents"] / g["days"] / 100.0,
                             "index": g["cents"] / g["days"] / mean})

    usual = days[days["holiday"].isna()].groupby("weekday")["cents"].mean()
    hol = days[days["holiday"].notna()]
    holidays_frame = pd.DataFrame({
        "date": hol["date"], "holiday": hol["holiday"], "weekday": hol["weekday"].map(lambda i: WEEKDAYS[i]),
        "revenue": hol["cents"] / 100.0, "usual": hol["weekday"].map(usual) / 100.0,
        "index": hol["cents"] / hol["weekday"].map(usual).replace(0, np.nan)}).reset_index(drop=True)
    return Seasonality(start, end, table("month", MONTHS, 1), table("weekday", WEEKDAYS, 0), holidays_frame)


def jamaica_holidays(start: date, end: date) -> dict[date, str]:
    """Jamaica's public holidays between two days (the ``holidays`` package's calendar)."""
    import holidays

    found = holidays.country_holidays("JM", years=range(start.year, end.year + 1))
    return {d: str(name) for d, name in sorted(found.items()) if start <= d <= end}



# -- correlations ---------------------------------------------------------------------------------

@dataclass
class Correlations:
    cutoff: date
    as_of: date
    customers: int
    table: pd.DataFrame  # behaviour, outcome, rho, p_value, p_holm, significant, n
    sentences: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "as_of": self.as_of.isoformat(), "customers": self.customers,
                "correlations": self.table.to_dict(orient="records"), "sentences": self.sentences}


BEHAVIOURS = {
    "orders": "orders in the year before",
    "revenue": "spend in the year before",
    "products": "distinct products bought",
    "categories": "distinct categories bought",
    "days_since_last": "days since the last purchase",
    "tenure_days": "days since the first purchase",
    "online_share": "share of orders placed online",
}
OUTCOMES = {"bought_after": "bought in the next {days} days", "revenue_after": "spend in the next {days} days"}
ALPHA = 0.01


def correlations(conn: Any, dialect: Dialect, as_of: date, days: int = 90, where: Filters = (),
                 scope: tuple[str, ...] | None = None) -> Correlations:
    """How each customer's behaviour up to a cut-off (``days`` before ``as_of``) goes with what
    they did after it: Spearman's rank correlation with its p-value for each behaviour and
    outcome, Holm-adjusted over all the pairs (so one in a hundred by chance is not called
    significant). Customers who had bought before the cut-off."""
    try:
        from scipy.stats import spearmanr
    except ImportError:
        raise ReportError("correlations need scipy, missing from this installation: reinstall C360 Desktop") from None
    if days < 7:
        raise ReportError(f"the outcome window must be a week or more, not {days} days")
    cut = day_number(as_of) - days
    source, params = _sales(dialect, where, scope, end=as_of)
    if "LEFT JOIN product p" not in source:
        source = source.replace(" WHERE ", " LEFT JOIN product p ON p.id = t.product_id WHERE ", 1)
    d = DAY[dialect]
    sql = (f"SELECT {KEY[dialect]}, "
           f"SUM(CASE WHEN {d} <= ? AND {d} > ? THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN {d} <= ? AND {d} > ? THEN t.amount_cents ELSE 0 END), "
           f"COUNT(DISTINCT CASE WHEN {d} <= ? THEN t.product_id END), "
           f"COUNT(DISTINCT CASE WHEN {d} <= ? THEN p.category END), "
           f"MAX(CASE WHEN {d} <= ? THEN {d} END), MIN({d}), "
           f"SUM(CASE WHEN {d} <= ? AND t.channel = 'online' THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN {d} <= ? THEN 1 ELSE 0 END), "
           f"MAX(CASE WHEN {d} > ? THEN 1 ELSE 0 END), "
           f"SUM(CASE WHEN {d} > ? THEN t.amount_cents ELSE 0 END) "
           f"{source} GROUP BY 1")
    args = [cut, cut - 365, cut, cut - 365, cut, cut, cut, cut, cut, cut, cut]
    # the CASE parameters come before the WHERE's in the statement's text
    per = _frame(conn, sql, [*args, *params], ["k", "orders", "cents", "products", "categories", "last", "first",
                                                "online", "all_orders", "bought_after", "cents_after"])
    per = per[per["all_orders"] > 0]  # bought before the cut-off
    frame = pd.DataFrame({
        "orders": per["orders"].astype(float), "revenue": per["cents"].astype(float) / 100,
        "products": per["products"].astype(float), "categories": per["categories"].astype(float),
        "days_since_last": (cut - per["last"].astype(float)), "tenure_days": (cut - per["first"].astype(float)),
        "online_share": per["online"].astype(float) / per["all_orders"].astype(float),
        "bought_after": per["bought_after"].astype(float), "revenue_after": per["cents_after"].astype(float) / 100})
    rows = []
    for b in BEHAVIOURS:
        for o in OUTCOMES:
            x, y = frame[b].to_numpy(), frame[o].to_numpy()
            if len(frame) < 30 or x.std() == 0 or y.std() == 0:
                rows.append((b, o, float("nan"), float("nan"), len(frame)))
                continue
            rho, p = spearmanr(x, y)
            rows.append((b, o, float(rho), float(p), len(frame)))
    table = pd.DataFrame(rows, columns=["behaviour", "outcome", "rho", "p_value", "n"])
    table["p_holm"] = _holm(table["p_value"].to_numpy())
    table["significant"] = table["p_holm"] < ALPHA
    table = table.reindex(table["rho"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    cutoff = day_of(cut)
    sentences = []
    for r in table[table["significant"]].head(3).itertuples(index=False):
        more = "more" if r.rho > 0 else "less"
        then = (f"were {more} likely to buy in the next {days} days" if r.outcome == "bought_after"
                else f"spent {more} in the next {days} days")
        p_text = "p < 0.001" if r.p_holm < 0.001 else f"p = {r.p_holm:.3f}"
        sentences.append(f"Customers with more {BEHAVIOURS[r.behaviour]} (to {cutoff}) {then}: Spearman ρ = "
                         f"{r.rho:+.2f}, {p_text} (Holm-adjusted), n = {r.n:,}.")
    if not sentences:
        sentences.append(f"No behaviour goes with what customers did in the {days} days after {cutoff} beyond "
                         f"chance (Holm-adjusted p < {ALPHA} for none of {len(table)} pairs, n = {len(frame):,}).")
    return Correlations(cutoff, as_of, len(frame), table, sentences)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values (NaN stays NaN)."""
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok])]
    m, running = len(order), 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        out[idx] = running
    return out
