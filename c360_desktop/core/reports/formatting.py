"""Figures as people read them: J$1,234,567, 1,234, 12.3%."""

from __future__ import annotations


def figure(value: float | None, unit: str) -> str:
    if value is None or value != value:
        return "—"
    if unit == "jmd":
        return f"J${value:,.0f}" if abs(value) >= 1000 else f"J${value:,.2f}"
    if unit in ("ratio", "pct"):
        return f"{value:.1%}"
    return f"{value:,.0f}"
