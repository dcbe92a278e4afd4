"""A report query: measures by dimensions over a date range with filters, compiled to
parameterised SQL over the cache (one statement per fact, joined on the dimensions), with an
optional comparison with the previous period or the same period last year."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from c360_desktop.core import jamaica
from c360_desktop.core.reports.semantic import (
    CUSTOMER_KEY,
    OPEN_LEAD,
    Dialect,
    Fact,
    Measure,
    ReportError,
    base_measures,
    bucket_label,
    dimension,
    facts,
    measure,
    on_row,
    time_expr,
)

Compare = Literal["previous", "last_year"]
MOST_MEASURES, MOST_DIMENSIONS = 8, 4


@dataclass(frozen=True)
class ReportQuery:
    measures: tuple[str, ...]
    by: tuple[str, ...] = ()
    start: date | None = None  # inclusive
    end: date | None = None  # inclusive
    # (dimension, value): rows where the dimension is the value; see filters for several
    where: tuple[tuple[str, str], ...] = ()
    compare: Compare | None = None
    # Parishes (codes) the user may see: customer data outside them is left out (None: all).
    # Campaign spend, which belongs to no parish, is not restricted.
    scope: tuple[str, ...] | None = None

    def check(self) -> None:
        """Raise ReportError naming what is wrong (unknown names, a split a measure's data lacks)."""
        if not self.measures:
            raise ReportError("choose at least one measure")
        if len(self.measures) > MOST_MEASURES or len(self.by) > MOST_DIMENSIONS:
            raise ReportError(f"at most {MOST_MEASURES} measures by {MOST_DIMENSIONS} dimensions")
        if len(set(self.by)) != len(self.by):
            raise ReportError("each dimension once, please")
        if sum(dimension(d).time for d in self.by) > 1:
            raise ReportError("split by one time dimension at most (day, week, month, quarter or year)")
        if self.start and self.end and self.start > self.end:
            raise ReportError(f"the period starts ({self.start}) after it ends ({self.end})")
        if self.compare and not (self.start and self.end):
            raise ReportError("a comparison needs the period's start and end")
        for name in self.measures:
            for m in base_measures(name):
                if m.rolling and any(dimension(d).time for d in self.by):
                    raise ReportError(f"{name} is counted over a year's window around the period: it cannot be "
                                      "split by day, week, month, quarter or year")
                if m.rolling and not (self.end and (self.start or m.rolling == "active")):
                    raise ReportError(f"{name} needs the period's {'end' if m.rolling == 'active' else 'start and end'}")
            for d in (*self.by, *(w for w, _ in self.where)):
                if d in measure(name).not_by:
                    raise ReportError(f"{name} cannot be split or filtered by {d}: its parts' {d} differ "
                                      "(where a sale was made, where a campaign ran)")
            for m in base_measures(name):
                assert m.fact is not None
                for d in (*self.by, *(w for w, _ in self.where)):
                    if m.fact not in dimension(d).exprs:
                        raise ReportError(f"{name} cannot be split or filtered by {d}: "
                                          f"its data ({m.fact}) has no {d}")


@dataclass
class ReportResult:
    query: ReportQuery
    frame: pd.DataFrame  # one column per dimension (labels), then each measure (and comparisons)
    units: dict[str, str] = field(default_factory=dict)  # column -> jmd | count | ratio | pct


def filter_value(dim: str, value: str) -> str:
    if dim == "parish":
        code = jamaica.parish_code(value)
        if code is None:
            raise ReportError(f"parish={value!r}: not a Jamaican parish")
        return code
    return value


def scope_condition(scope: tuple[str, ...] | None) -> tuple[str, list[object]]:
    """The condition keeping a user's parishes (a field rep's territory) and its parameters;
    ("", []) for a user who sees every parish. Every report, analysis and campaign figure uses it."""
    if scope is None:
        return "", []
    if not scope:
        return "1 = 0", []
    return f"c.parish IN ({', '.join('?' * len(scope))})", list(scope)


def conditions(fact: Fact, q: ReportQuery, dialect: Dialect) -> tuple[list[str], list[object], list[object]]:
    """The WHERE conditions for a fact's rows in the query's period, scope and filters; their
    parameters; and the period's bounds as [first day, day after the last)."""
    table = facts(dialect)[fact]
    date_param = "CAST(? AS DATE)" if dialect == "duckdb" else "?"
    bounds: list[object] = []
    if q.start:
        bounds.append(q.start.isoformat())
    if q.end:
        bounds.append((q.end + timedelta(days=1)).isoformat())
    if not table.time:  # a snapshot: no period applies
        bounds = []
    params: list[object] = list(bounds)
    where = [table.live]
    if q.start and table.time:
        where.append(f"{table.time} >= {date_param}")
    if q.end and table.time:
        where.append(f"{table.time} < {date_param}")
    if fact in ("sale", "lead", "value"):
        sql, scope_params = scope_condition(q.scope)
        if sql:
            where.append(sql)
            params.extend(scope_params)
    for d, values in filters(q.where).items():
        dim = dimension(d)
        column = time_expr(d, table.time, dialect, True) if dim.time else dim.exprs[fact]
        where.append(f"{column} = ?" if len(values) == 1 else f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    return [on_row(fact, w, dialect) for w in where], params, bounds


def filters(where: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    """The filters by dimension, in the order given: filters on different dimensions must all
    hold; several values of one dimension (parish St Ann, parish St Mary) keep rows of any."""
    out: dict[str, list[str]] = {}
    for d, value in where:
        v = filter_value(d, value)
        if v not in out.setdefault(d, []):
            out[d].append(v)
    return out


def _narrowed(q: ReportQuery, cell: dict[str, str]) -> tuple[Fact, ReportQuery]:
    """The fact of the report's first measure and the query narrowed to one cell (the row's
    dimension labels, as the result shows them)."""
    q.check()
    fact = base_measures(q.measures[0])[0].fact
    assert fact is not None
    if fact in ("spend", "value"):
        raise ReportError("only a sales or lead figure has customers and lines behind it: "
                          "campaign spend and model scores do not")
    by_label = {dimension(d).label: d for d in q.by}
    extra = []
    for label, value in cell.items():
        if label not in by_label:
            raise ReportError(f"{label!r} is not one of this report's dimensions ({', '.join(by_label)})")
        if value is None or value != value:
            raise ReportError(f"the cell has no {label.lower()} to drill into")
        extra.append((by_label[label], str(value)))
    # the cell's value stands in for the filters on its dimensions (it is one of their values)
    narrowed = replace(q, where=(*((d, v) for d, v in q.where if d not in dict(extra)), *extra), compare=None)
    narrowed.check()
    return fact, narrowed


def _parish_names(frame: pd.DataFrame) -> pd.DataFrame:
    by_code = jamaica.parish_by_code()
    frame["Parish"] = frame["Parish"].map(lambda c: by_code[c].address_name if c in by_code else c)
    return frame


def customers_behind(conn: Any, q: ReportQuery, cell: dict[str, str], limit: int = 500) -> pd.DataFrame:
    """The customers behind one cell of a report (``cell``: the row's dimension labels, as the
    result shows them), most revenue (or pipeline) first; read from the cache (SQLite), which
    holds the names. Columns: customer_id, Customer, Parish, then the fact's figures."""
    fact, narrowed = _narrowed(q, cell)
    where, params, _bounds = conditions(fact, narrowed, "sqlite")
    figures = ("COUNT(*), SUM(t.amount_cents) / 100.0" if fact == "sale"
               else f"COUNT(*), COALESCE(SUM(CASE WHEN {OPEN_LEAD} THEN l.estimated_value_cents END), 0) / 100.0")
    names = ["Orders", "Revenue"] if fact == "sale" else ["Leads", "Pipeline value"]
    sql = (f"SELECT c.id, c.display_name, c.parish, {figures} {facts('sqlite')[fact].source} "
           f"WHERE {' AND '.join(where)} GROUP BY c.id ORDER BY 5 DESC, c.id LIMIT ?")
    return _parish_names(pd.DataFrame(conn.execute(sql, [*params, limit]).fetchall(),
                                      columns=["customer_id", "Customer", "Parish", *names]))


LINE_COLUMNS = {  # fact -> (newest first, the columns' names, their SQL)
    "sale": ("t.occurred_at DESC, t.id", ["Date", "Customer", "Parish", "Product", "Category", "Quantity", "Channel",
                                          "Rep", "Campaign", "Amount"],
             "substr(t.occurred_at, 1, 10), c.display_name, c.parish, p.name, p.category, t.quantity, t.channel, "
             "r.name, mc.name, t.amount_cents / 100.0"),
    "lead": ("l.created_at DESC, l.id", ["Created", "Customer", "Parish", "Status", "Source", "Rep", "Campaign",
                                         "Estimated value"],
             "substr(l.created_at, 1, 10), c.display_name, c.parish, l.status, l.source, r.name, mc.name, "
             "l.estimated_value_cents / 100.0"),
}
LINE_UNITS = {"Amount": "jmd", "Estimated value": "jmd", "Quantity": "count"}


def lines_behind(conn: Any, q: ReportQuery, cell: dict[str, str], limit: int = 1000) -> tuple[pd.DataFrame, int]:
    """The sales lines (or leads) behind one cell, newest first, at most ``limit`` of them, and
    how many there are in all (so a caller can say "the newest 1,000 of 4,210"). Columns:
    customer_id, then LINE_COLUMNS' names."""
    fact, narrowed = _narrowed(q, cell)
    where, params, _bounds = conditions(fact, narrowed, "sqlite")
    newest, names, columns = LINE_COLUMNS[fact]
    source, cond = facts("sqlite")[fact].source, " AND ".join(where)
    (total,) = conn.execute(f"SELECT COUNT(*) {pruned(source, cond)} WHERE {cond}", params).fetchone()
    sql = f"SELECT c.id, {columns} {source} WHERE {cond} ORDER BY {newest} LIMIT ?"
    frame = pd.DataFrame(conn.execute(sql, [*params, limit]).fetchall(), columns=["customer_id", *names])
    return _parish_names(frame), int(total)


def _rolling_sql(kind: str, q: ReportQuery, dialect: Dialect) -> tuple[str, list[object], list[str]]:
    """The measures counted over a window of their own, per customer: "active" (distinct buyers
    in the 365 days up to the period's end) or "churn" (buyers in the 365 days before the period,
    and those of them who did not buy in it)."""
    assert q.end is not None
    if kind == "active":
        sql, params = _fact_sql("sale", [measure("customers")], replace(q, start=q.end - timedelta(days=364)), dialect)
        return sql, params, ["active_customers"]
    assert q.start is not None
    table = facts(dialect)["sale"]
    date_param = "CAST(? AS DATE)" if dialect == "duckdb" else "?"
    where, params, _bounds = conditions("sale", replace(q, start=q.start - timedelta(days=365)), dialect)
    dims = [on_row("sale", dimension(d).exprs["sale"], dialect) for d in q.by]
    keys = [f"d{i}" for i in range(len(dims))]
    key = CUSTOMER_KEY[dialect]
    inner = ", ".join([*(f"{e} AS {k}" for e, k in zip(dims, keys, strict=True)), f"{key} AS k",
                       f"MAX(CASE WHEN {table.time} < {date_param} THEN 1 ELSE 0 END) AS b",
                       f"MAX(CASE WHEN {table.time} >= {date_param} THEN 1 ELSE 0 END) AS d"])
    rest = f"WHERE {' AND '.join(where)} GROUP BY {', '.join([*keys, key])}"
    body = f"SELECT {inner} {pruned(table.source, inner + ' ' + rest)} {rest}"
    outer = ", ".join([*keys, "SUM(b) AS m_prior", "SUM(CASE WHEN b = 1 AND d = 0 THEN 1 ELSE 0 END) AS m_lapsed"])
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    start = q.start.isoformat()
    return (f"SELECT {outer} FROM ({body}) per_customer{group}", [start, start, *params],
            ["prior_customers", "lapsed_customers"])


# Rough counts of each dimension's values, to guess a report's groups before running it
CARDINALITY = {"parish": 14, "territory": 14, "kind": 2, "segment": 10, "category": 20, "channel": 8,
               "product": 100, "campaign": 120, "town": 400, "rep": 600}
PER_BUCKET_DAYS = {"day": 1, "week": 7, "month": 28, "quarter": 90, "year": 365}
BITS_BUDGET = 64 * 2**20  # bytes of bitstrings a report may hold (one bit per customer key per group)
KEY_MARGIN = 100_000  # keys a refresh between two statements might add


SIZED = {"product", "category", "rep", "segment", "territory", "campaign"}


def dimension_sizes(conn: Any) -> dict[str, int]:
    """How many values the dimensions kept in small tables have in the columnar copy (one more
    for "none": a sale without a rep, say), for the guess of a report's groups; the customer's
    own attributes keep their rough counts (counting them would scan every customer)."""
    tables = (("product", "count(*)", "product"), ("category", "count(DISTINCT category)", "product"),
              ("rep", "count(*)", "sales_rep"), ("segment", "count(*)", "segment"),
              ("territory", "count(*)", "territory"), ("campaign", "count(*)", "marketing_campaign"))
    row = conn.execute("SELECT " + ", ".join(f"(SELECT {what} FROM {table} WHERE deleted_at IS NULL)"
                                             for _name, what, table in tables)).fetchone()
    return {name: int(n) + 1 for (name, _w, _t), n in zip(tables, row, strict=True)}


def buckets(dim: str, start: date | None, end: date | None) -> float:
    """How many day, week, month, quarter or year buckets the period touches (a guess of ten
    years' worth without one)."""
    if not (start and end):
        return 3650 / PER_BUCKET_DAYS[dim] + 2
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return {"day": (end - start).days + 1, "week": (end - start).days // 7 + 2, "month": months,
            "quarter": (end.year - start.year) * 4 + (end.month - 1) // 3 - (start.month - 1) // 3 + 1,
            "year": end.year - start.year + 1}[dim]


def _groups(q: ReportQuery, sizes: dict[str, int] | None = None) -> float:
    n = 1.0
    for d in q.by:
        n *= buckets(d, q.start, q.end) if dimension(d).time else (sizes or CARDINALITY).get(
            d, CARDINALITY.get(d, 1000))
    return n


def use_bits(measures: list[Measure], q: ReportQuery, max_key: int | None,
             sizes: dict[str, int] | None = None) -> bool:
    """Count distinct customers as bitstrings: when the report has few enough groups that one bit
    per customer key per group fits the budget (measured 2-3x faster than the two-step count)."""
    return bool(max_key) and any(m.distinct for m in measures) and \
        _groups(q, sizes) * ((max_key or 0) + KEY_MARGIN) / 8 <= BITS_BUDGET


PRUNABLE_INNER = {"c"}  # the customer join: see pruned
_JOIN = re.compile(r"\s(LEFT JOIN|JOIN) (\S+) (\w+) ON (.+?)(?=\s(?:LEFT JOIN|JOIN)\s|$)")


def pruned(source: str, used: str) -> str:
    """``FROM ...`` without the joins nothing in ``used`` (the rest of the statement) reads: a
    report by week need not join the product, rep, territory, segment and campaign tables, nor
    the customers (every sale and lead hangs off a customer the cache holds: pulls and imports
    bring a customer with, or before, what hangs off it). Other inner joins stay (they decide
    which rows count), and so does any join a kept one reads through."""
    head = _JOIN.split(source, maxsplit=1)[0] if _JOIN.search(source) else source
    joins = [(m.group(0), m.group(1), m.group(3), m.group(4)) for m in _JOIN.finditer(source)]
    keep = {alias for _t, kind, alias, _on in joins
            if (kind == "JOIN" and alias not in PRUNABLE_INNER) or re.search(rf"\b{alias}\.", used)}
    changed = True
    while changed:  # a kept join's ON may read another join's alias (territory through the rep)
        changed = False
        for _t, _k, alias, on in joins:
            if alias in keep:
                for _t2, _k2, other, _on2 in joins:
                    if other not in keep and re.search(rf"\b{other}\.", on):
                        keep.add(other)
                        changed = True
    return head + "".join(text for text, _k, alias, _on in joins if alias in keep)


def _fact_sql(fact: Fact, measures: list[Measure], q: ReportQuery, dialect: Dialect,
              max_key: int | None = None, sizes: dict[str, int] | None = None) -> tuple[str, list[object]]:
    """One fact's GROUP BY. In DuckDB a distinct count of customers is the set bits of a
    bitstring per group when ``max_key`` (the copy's largest customer key) is given and the
    groups are few, else a per-customer step first; SQLite counts DISTINCT."""
    table = facts(dialect)[fact]
    bits = dialect == "duckdb" and use_bits(measures, q, max_key, sizes)
    date_param = "CAST(? AS DATE)" if dialect == "duckdb" else "?"

    def expr(d: str, label: bool = False) -> str:
        if dimension(d).time:
            return time_expr(d, table.time, dialect, label)
        return dimension(d).exprs[fact]

    dims = [on_row(fact, expr(d), dialect) for d in q.by]
    where, params, bounds = conditions(fact, q, dialect)
    source, extra = table.source, ""  # extra: joins the pruning must not see (a subquery's)
    # per (group, customer) first only where a customer is counted once per group
    two_step = dialect == "duckdb" and not bits and any(m.distinct for m in measures) \
        and all(m.per_customer for m in measures)
    aggs, inner = [], []
    for m in measures:
        sql = m.sql.replace("{customer}", CUSTOMER_KEY[dialect])
        if bits and m.distinct:
            counted = m.distinct.replace("{customer}", CUSTOMER_KEY[dialect])
            sql = f"COALESCE(bit_count(bitstring_agg({counted}, 1, {int(max_key or 0) + KEY_MARGIN})), 0)"
        if two_step:
            assert m.per_customer is not None
            sql = m.per_customer[0]
        if m.needs_first_purchase:
            if dialect == "duckdb":
                extra += " JOIN first_purchase fp ON fp.ck = t.ck"  # kept by the copy (columnar.py)
            else:
                extra += (' JOIN (SELECT customer_id, MIN(occurred_at) AS first_at FROM "transaction" '
                          "WHERE deleted_at IS NULL GROUP BY customer_id) fp ON fp.customer_id = t.customer_id")
            time_dims = [d for d in q.by if dimension(d).time]
            cond = []
            if time_dims:
                cond.append(f"{time_expr(time_dims[0], 'fp.first_at', dialect)} = {expr(time_dims[0])}")
            if q.start:
                cond.append(f"fp.first_at >= {date_param}")
            if q.end:
                cond.append(f"fp.first_at < {date_param}")
            sql = sql.replace("{first_in_bucket}", " AND ".join(cond) or "1 = 1")
            # the CASE's parameters come before the WHERE's in the statement's text
            params = bounds + params
        if two_step:
            assert m.per_customer is not None
            inner.append(f"{sql} AS x_{m.name}")
            aggs.append(f"{m.per_customer[1].replace('x', f'x_{m.name}')} AS m_{m.name}")
        else:
            aggs.append(f"{sql} AS m_{m.name}")
    keys = [f"d{i}" for i in range(len(dims))]
    group = f" GROUP BY {', '.join(keys)}" if dims else ""
    if two_step:  # per (group, customer) first, then per group
        first = ", ".join([*(f"{e} AS d{i}" for i, e in enumerate(dims)), "t.ck AS ck", *inner])
        rest = f"WHERE {' AND '.join(where)} GROUP BY {', '.join([*keys, 't.ck'])}"
        body = f"SELECT {first} {pruned(source, first + ' ' + rest)}{extra} {rest}"
        return f"SELECT {', '.join([*keys, *aggs])} FROM ({body}) per_customer{group}", params
    select = ", ".join([f"{e} AS d{i}" for i, e in enumerate(dims)] + aggs)
    rest = f"WHERE {' AND '.join(where)}{group}"
    return f"SELECT {select} {pruned(source, select + ' ' + rest)}{extra} {rest}", params


def run_query(conn: Any, q: ReportQuery, dialect: Dialect = "sqlite") -> ReportResult:
    """The report's figures (and comparison columns when asked), from the cache (an sqlite3
    connection) or its columnar copy (a DuckDB cursor, ``dialect="duckdb"``)."""
    q.check()
    frame = _figures(conn, q, dialect)
    units: dict[str, str] = {measure(name).label: measure(name).unit for name in q.measures}
    if q.compare:
        assert q.start and q.end
        frame, extra = _compared(conn, q, frame, dialect)
        units.update(extra)
    return ReportResult(q, frame, units)


def _figures(conn: Any, q: ReportQuery, dialect: Dialect) -> pd.DataFrame:
    needed: dict[Fact, dict[str, Measure]] = {}
    for name in q.measures:
        for m in base_measures(name):
            assert m.fact is not None
            needed.setdefault(m.fact, {})[m.name] = m
    keys = [f"d{i}" for i in range(len(q.by))]
    merged: pd.DataFrame | None = None
    queries: list[tuple[str, list[object], list[str]]] = []
    rolling = {m.rolling for ms in needed.values() for m in ms.values() if m.rolling}
    max_key, sizes = None, None
    if dialect == "duckdb" and any(m.distinct for ms in needed.values() for m in ms.values()):
        (max_key,) = conn.execute("SELECT COALESCE(MAX(key), 0) FROM customer_key").fetchone()
        if set(q.by) & SIZED:  # their real counts decide between bitstrings and the two-step count
            sizes = dimension_sizes(conn)
    for fact, ms in needed.items():
        plain = [m for m in ms.values() if not m.rolling]
        if plain:
            sql, params = _fact_sql(fact, plain, q, dialect, max_key, sizes)
            queries.append((sql, params, [m.name for m in plain]))
    for kind in sorted(rolling):
        queries.append(_rolling_sql(kind, q, dialect))
    for sql, params, names in queries:
        ms = {n: measure(n) for n in names}
        part = pd.DataFrame(conn.execute(sql, params).fetchall(),
                            columns=[*keys, *(f"m_{n}" for n in ms)])
        for n in ms:
            part[f"m_{n}"] = pd.to_numeric(part[f"m_{n}"])
        for d, k in zip(q.by, keys, strict=True):
            if dialect == "duckdb" and dimension(d).time:
                part[k] = part[k].map(lambda v, d=d: bucket_label(d, v))
        if not keys:
            part = part.apply(pd.to_numeric).fillna(0)
        merged = part if merged is None else (merged.merge(part, on=keys, how="outer") if keys
                                              else pd.concat([merged, part], axis=1))
    assert merged is not None
    out = pd.DataFrame({dimension(d).label: merged[k] for d, k in zip(q.by, keys, strict=True)})
    for name in q.measures:
        m = measure(name)
        if m.ratio:
            num, den = merged[f"m_{m.ratio[0]}"].astype(float), merged[f"m_{m.ratio[1]}"].astype(float)
            out[m.label] = (num / den.where(den != 0)).astype(float) + m.offset
        else:
            out[m.label] = merged[f"m_{name}"].fillna(0)
    if "parish" in q.by:
        by_code = jamaica.parish_by_code()
        col = dimension("parish").label
        out[col] = out[col].map(lambda c: by_code[c].address_name if c in by_code else c)
    if keys:
        out = out.sort_values([dimension(d).label for d in q.by], na_position="last", kind="stable")
    return out.reset_index(drop=True)


def _shift(q: ReportQuery) -> tuple[date, date]:
    assert q.start and q.end
    if q.compare == "last_year":
        return _year_back(q.start), _year_back(q.end)
    days = (q.end - q.start).days + 1
    return q.start - timedelta(days=days), q.start - timedelta(days=1)


def _year_back(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _year_on(label: str, dim: str) -> str:
    if dim == "year":
        return str(int(label) + 1)
    if dim == "week":
        return (date.fromisoformat(label) + timedelta(weeks=52)).isoformat()
    return f"{int(label[:4]) + 1}{label[4:]}"


def _compared(conn: Any, q: ReportQuery, now: pd.DataFrame, dialect: Dialect) -> tuple[pd.DataFrame, dict[str, str]]:
    start, end = _shift(q)
    before = _figures(conn, replace(q, start=start, end=end, compare=None), dialect)
    labels = [dimension(d).label for d in q.by]
    time_dims = [d for d in q.by if dimension(d).time]
    if time_dims:
        col = dimension(time_dims[0]).label
        if q.compare == "last_year":
            before[col] = before[col].map(lambda v: _year_on(str(v), time_dims[0]))
        else:  # the previous period's buckets, in order, beside this period's
            position = {v: i for i, v in enumerate(sorted(before[col].dropna().unique()))}
            mine = sorted(now[col].dropna().unique())
            before[col] = before[col].map(lambda v: mine[position[v]] if position.get(v, 10**9) < len(mine) else None)
            before = before[before[col].notna()]
    names = [measure(n).label for n in q.measures]
    suffix = " last year" if q.compare == "last_year" else " previous"
    for n in q.measures:  # a snapshot of today has no earlier figure to compare with
        if any(m.fact and not facts(dialect)[m.fact].time for m in base_measures(n)) and measure(n).label in before:
            before[measure(n).label] = float("nan")
    before = before.rename(columns={n: n + suffix for n in names})
    out = now.merge(before, on=labels, how="left") if labels else pd.concat([now, before], axis=1)
    units: dict[str, str] = {}
    for name in q.measures:
        label = measure(name).label
        out[label + suffix] = out[label + suffix].astype(float)
        base = out[label + suffix]
        out[label + " change"] = (out[label] - base) / base.where(base != 0)
        units[label + suffix] = measure(name).unit
        units[label + " change"] = "pct"
    columns = labels + [c for n in names for c in (n, n + suffix, n + " change")]
    return out[columns], units
