"""Why did a figure change: an additive measure's change between two periods, decomposed.

For each dimension the user picks, and each pair of them, the change is split into the change of
every cell (St Ann x Hardware...); the cells partition the rows, so their contributions add up to
the total change exactly. The cells that explain most (that moved most unlike the whole) are
ranked and said in sentences with the figures. Revenue's change is also split into its drivers, customers x orders per customer x order
value, by the logarithmic mean Divisia index (the three parts add up to the change exactly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import TYPE_CHECKING, Any

from c360_desktop.core.reports.formatting import figure
from c360_desktop.core.reports.query import ReportQuery
from c360_desktop.core.reports.semantic import ReportError, dimension, measure

if TYPE_CHECKING:
    from c360_desktop.core.reports.service import ReportService

NONE = "(none)"


@dataclass(frozen=True)
class Drivers:
    """Revenue's change split into customers, orders per customer and order value (sum: the change)."""

    customers: float
    orders_per_customer: float
    order_value: float
    now: tuple[float, float, float]  # customers, orders per customer, order value in the period
    before: tuple[float, float, float]


@dataclass(frozen=True)
class Cell:
    dims: dict[str, str]
    now: float
    before: float
    drivers: Drivers | None = None

    @property
    def change(self) -> float:
        return self.now - self.before

    @property
    def where(self) -> str:
        return " and ".join(f"{d} {v}" for d, v in self.dims.items())


@dataclass
class Explanation:
    measure: str
    period: tuple[date, date]
    against: tuple[date, date]
    now: float
    before: float
    cells: list[Cell] = field(default_factory=list)  # by |change|, largest first
    by_split: dict[str, float] = field(default_factory=dict)  # "parish" / "parish x category": sum of changes
    drivers: Drivers | None = None
    sentences: list[str] = field(default_factory=list)
    where: tuple[tuple[str, str], ...] = ()

    @property
    def change(self) -> float:
        return self.now - self.before

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "period": [d.isoformat() for d in self.period],
                "against": [d.isoformat() for d in self.against], "now": self.now, "before": self.before,
                "change": self.change, "sentences": self.sentences,
                "drivers": None if self.drivers is None else {
                    "customers": self.drivers.customers, "orders_per_customer": self.drivers.orders_per_customer,
                    "order_value": self.drivers.order_value},
                "split_totals": self.by_split,
                "cells": [{**c.dims, "now": c.now, "before": c.before, "change": c.change,
                           "share_of_change": c.change / self.change if self.change else None}
                          for c in self.cells[:50]]}


def _lmdi(now: float, before: float, x_now: float, x_before: float) -> float:
    """One factor's part of the change from ``before`` to ``now`` (logarithmic mean weights)."""
    if now <= 0 or before <= 0 or x_now <= 0 or x_before <= 0:
        return math.nan
    weight = (now - before) / (math.log(now) - math.log(before)) if now != before else now
    return weight * math.log(x_now / x_before)


def drivers(now: tuple[float, float, float], before: tuple[float, float, float]) -> Drivers | None:
    """(revenue, orders, customers) now and before -> the three drivers of the revenue change."""
    (r1, o1, c1), (r0, o0, c0) = now, before
    if min(r1, o1, c1, r0, o0, c0) <= 0:
        return None
    f1, f0 = (c1, o1 / c1, r1 / o1), (c0, o0 / c0, r0 / o0)
    parts = [_lmdi(r1, r0, a, b) for a, b in zip(f1, f0, strict=True)]
    return Drivers(parts[0], parts[1], parts[2], now=f1, before=f0)


def explain_change(reports: ReportService, name: str, period: tuple[date, date], against: tuple[date, date],
                   by: tuple[str, ...], where: tuple[tuple[str, str], ...] = ()) -> Explanation:
    m = measure(name)
    if not m.additive:
        raise ReportError(f"{name} is not additive (a ratio or a distinct count does not split into parts "
                          "that add up); explain revenue, orders, leads, conversions or campaign_spend")
    if not by:
        raise ReportError("name at least one dimension to explain the change by (--by parish,category)")
    if any(dimension(d).time for d in by):
        raise ReportError("explain the change by what is not time (the periods are already given)")
    want_drivers = name == "revenue"
    measures = ("revenue", "orders", "customers") if want_drivers else (name,)

    def figures(q_by: tuple[str, ...], span: tuple[date, date]) -> dict[tuple[str, ...], tuple[float, ...]]:
        frame = reports.query(ReportQuery(measures, q_by, span[0], span[1], where)).frame
        labels = [dimension(d).label for d in q_by]
        out = {}
        for row in frame.values.tolist():
            key = tuple(NONE if v is None or v != v else str(v) for v in row[: len(labels)])
            out[key] = tuple(float(v) if v == v and v is not None else 0.0 for v in row[len(labels):])
        return out

    total_now = figures((), period).get((), (0.0,) * len(measures))
    total_before = figures((), against).get((), (0.0,) * len(measures))
    ex = Explanation(name, period, against, total_now[0], total_before[0], where=where)
    if want_drivers:
        ex.drivers = drivers(total_now, total_before)  # type: ignore[arg-type]
    splits = [(d,) for d in by] + list(combinations(by, 2))
    for split in splits:
        now, before = figures(split, period), figures(split, against)
        total = 0.0
        for key in now.keys() | before.keys():
            a, b = now.get(key, (0.0,) * len(measures)), before.get(key, (0.0,) * len(measures))
            cell = Cell(dict(zip(split, key, strict=True)), a[0], b[0],
                        drivers(a, b) if want_drivers else None)  # type: ignore[arg-type]
            total += cell.change
            ex.cells.append(cell)
        ex.by_split[" x ".join(split)] = total
    ex.cells = _ranked(ex.cells, ex.now, ex.before)
    ex.sentences = _sentences(ex)
    return ex


SPECIFIC = 0.8  # a narrower cell carrying this share of a wider cell's unusual change is said first


def _ranked(cells: list[Cell], now: float, before: float) -> list[Cell]:
    """The cells that moved most unlike the whole first: each cell's change beyond what it would
    have changed had it moved at the overall rate (a parish that fell 96% while the whole fell 7%
    explains more than a larger segment that fell 10%). Where a narrower cell (St Andrew's
    appliances) carries most of a wider one's unusual change (appliances), the narrower one
    ranks first: it says where the change happened. Ties: the narrower cell first."""
    rate = (now - before) / before if before else 0.0
    beyond = {id(c): c.change - c.before * rate for c in cells}
    key = {id(c): abs(beyond[id(c)]) for c in cells}
    singles = [c for c in cells if len(c.dims) == 1]
    for child in cells:
        if len(child.dims) < 2:
            continue
        for parent in singles:
            b_child, b_parent = beyond[id(child)], beyond[id(parent)]
            if (set(parent.dims.items()) <= set(child.dims.items()) and b_child * b_parent > 0
                    and abs(b_child) >= SPECIFIC * abs(b_parent)):
                key[id(child)] = max(key[id(child)], abs(b_parent))
    return sorted(cells, key=lambda c: (-key[id(c)], -len(c.dims), -abs(beyond[id(c)])))


def _pct(now: float, before: float) -> str:
    return f"{abs(now / before - 1):.0%}" if before else "from nothing"


def _sentences(ex: Explanation) -> list[str]:
    m = measure(ex.measure)
    unit = m.unit
    change = ex.change
    verb = "rose" if change > 0 else ("fell" if change < 0 else "did not change")
    p, a = ex.period, ex.against
    scope = "".join(f" in {v}" if d in ("parish", "town") else f" ({d} {v})" for d, v in ex.where)
    flat = bool(ex.before) and change != 0 and abs(change / ex.before) < 0.005
    if flat:  # a net change near zero: shares of it would run to thousands of per cent
        out = [f"{m.label}{scope} was nearly flat ({'+' if change > 0 else '−'}{figure(abs(change), unit)}, "
               f"{change / ex.before:+.1%}) from {a[0]}–{a[1]} ({figure(ex.before, unit)}) to {p[0]}–{p[1]} "
               f"({figure(ex.now, unit)}): larger moves in its parts offset each other."]
    else:
        out = [f"{m.label}{scope} {verb} {_pct(ex.now, ex.before)} ({figure(abs(change), unit)}) from "
               f"{a[0]}–{a[1]} ({figure(ex.before, unit)}) to {p[0]}–{p[1]} ({figure(ex.now, unit)})."]
    if ex.drivers and change:
        d = ex.drivers
        parts = [("customers", d.customers, f"{d.now[0]:,.0f} against {d.before[0]:,.0f}"),
                 ("orders per customer", d.orders_per_customer, f"{d.now[1]:.2f} against {d.before[1]:.2f}"),
                 ("order value", d.order_value, f"{figure(d.now[2], 'jmd')} against {figure(d.before[2], 'jmd')}")]
        out.append("Of that change, " + "; ".join(
            f"{label} {'+' if part >= 0 else '−'}{figure(abs(part), 'jmd')} ({detail})"
            for label, part, detail in parts) + ".")
    if change:
        said: list[Cell] = []
        for c in ex.cells:
            if len(said) == 3:
                break
            if c.change * change <= 0 or _redundant(c, said, ex):
                continue
            said.append(c)
            share = c.change / change
            move = f"{figure(c.before, unit)} to {figure(c.now, unit)}, {'up' if c.change > 0 else 'down'} " \
                   f"{_pct(c.now, c.before)}"
            if share > 1.5:  # more than the whole net change: say so, not "4027% of the change"
                line = (f"{c.where[:1].upper()}{c.where[1:]} moved {'+' if c.change > 0 else '−'}{figure(abs(c.change), unit)} ({move}), "
                        f"{share:.1f} times the net change, while other parts moved the other way")
            else:
                line = f"{share:.0%} of the change comes from {c.where} ({move})"
            if c.drivers:
                o1, o0 = c.drivers.now[0] * c.drivers.now[1], c.drivers.before[0] * c.drivers.before[1]
                line += (f"; {o1:,.0f} orders against {o0:,.0f} from {c.drivers.now[0]:,.0f} customers against "
                         f"{c.drivers.before[0]:,.0f}")
            out.append(line + ".")
    return out


def _redundant(cell: Cell, said: list[Cell], ex: Explanation) -> bool:
    """Whether saying ``cell`` adds nothing: it is the whole (a dimension with one value, as when
    filtered to it), or a cell already said is its part or its whole with nearly the same change."""
    if len(cell.dims) == 1 and math.isclose(cell.change, ex.change, rel_tol=1e-9) and math.isclose(
            cell.now, ex.now, rel_tol=1e-9):
        return True
    for other in said:
        nested = (set(cell.dims.items()) <= set(other.dims.items())) or (
            set(other.dims.items()) <= set(cell.dims.items()))
        if nested and math.isclose(cell.change, other.change, rel_tol=0.05):
            return True
    return False
