"""Figures as people read them: J$1,234,567, 1,234, 12.3%."""

from __future__ import annotations


def figure(value: float | None, unit: str) -> str:
    if value is None or value != value:
        return "—"
    if unit == "jmd":
        sign = "-" if value < 0 else ""
        size = abs(value)
        return f"{sign}J${size:,.0f}" if size >= 1000 else f"{sign}J${size:,.2f}"
    if unit == "index":  # 1 = the usual
        return f"{value:.2f}"
    if unit in ("ratio", "pct"):
        return f"{value:.1%}"
    return f"{value:,.0f}"
