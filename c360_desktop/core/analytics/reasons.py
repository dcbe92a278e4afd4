"""Score reasons as people read them.

Churn and lead scores keep their reasons worded ("days since last purchase: 94", with the
points they add). Lifetime values keep theirs as data, {"feature": key, "contribution": number},
the key naming the quantity, and are worded here when they are shown: the words are the same
for every customer, and written out for 840,000 customers they made each row twice the size
(390 bytes of reasons instead of 185) and the write a second slower. A reason this module does
not know (worded already, as caches scored before 2026-12-06 and other sources have them) is
shown as it is.
"""

from __future__ import annotations

import re
from typing import Any


def _clv(key: str, amount: float) -> str | None:
    if match := re.fullmatch(r"regression_(\d+)w", key):
        return f"valued by the regression: it predicted the last {match[1]} weeks better"
    if match := re.fullmatch(r"purchases_(\d+)m", key):
        return f"purchases expected in the next {match[1]} months: {amount:.1f}"
    if key == "spend":
        return f"spend per purchase: JMD {amount:,.0f}"
    if key == "average_spend":
        return f"spend per purchase: JMD {amount:,.0f} (the average customer's: no repeat purchase yet)"
    if key == "alive":
        return f"still a customer: {100 * amount:.0f}%"
    if key == "alive_unknown":
        return "still a customer: unknown until a second purchase"
    return None


def worded(model: str, reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``reasons`` as stored for a ``model`` score, each with its ``feature`` in words."""
    if model != "clv":
        return reasons
    out = []
    for reason in reasons:
        amount = reason.get("contribution")
        text = _clv(str(reason.get("feature")), float(amount)) if isinstance(amount, int | float) else None
        out.append({**reason, "feature": text} if text is not None else reason)
    return out
