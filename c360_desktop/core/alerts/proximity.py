"""Proximity alerts for field reps: a hot lead within a set radius of where the rep is.

Raised locally (no Kafka event behind them) into the same alert tables the Alerts pane reads,
once per lead per day: the alert id is derived from the lead and the date, so moving about town
and asking again does not repeat it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from c360_desktop.core.alerts.pipeline import ALERT_NAMESPACE, NewAlert, store_alert
from c360_desktop.core.geo.places import near
from c360_desktop.core.storage.cache import Cache

ALERT_TYPE = "proximity.hot_lead"


@dataclass(frozen=True)
class HotLeadNearby:
    lead_id: str
    customer_id: str
    customer_name: str
    score: float
    distance_km: float
    next_action: str
    next_action_reason: str


def hot_leads_near(conn: object, lat: float, lon: float, radius_km: float,
                   territories: Sequence[str] = ()) -> list[HotLeadNearby]:
    """Hot open leads whose customer is within ``radius_km`` of (lat, lon), nearest first."""
    nearby = {n.customer_id: n for n in near(conn, lat, lon, radius_km, limit=100_000)}  # type: ignore[arg-type]
    ids = list(nearby)
    found: list[HotLeadNearby] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        where = f"band = 'hot' AND customer_id IN ({','.join('?' * len(chunk))})"
        params: list[object] = list(chunk)
        if territories:
            where += f" AND parish IN ({','.join('?' * len(territories))})"
            params += list(territories)
        for lead_id, cid, name, score, action, reason in conn.execute(  # type: ignore[attr-defined]
                "SELECT lead_id, customer_id, customer_name, score, next_action, next_action_reason "
                f"FROM lead_rank WHERE {where}", params):
            found.append(HotLeadNearby(lead_id, cid, name, score, nearby[cid].distance_km, action, reason))
    found.sort(key=lambda h: (h.distance_km, -h.score, h.lead_id))
    return found


def raise_proximity_alerts(cache: Cache, lat: float, lon: float, radius_km: float, place: str,
                           territories: Sequence[str] = (), now: datetime | None = None) -> list[NewAlert]:
    """Store an alert for each hot lead nearby not yet alerted today; returns the new ones."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    new: list[NewAlert] = []
    with cache.writer() as conn:
        for h in hot_leads_near(conn, lat, lon, radius_km, territories):
            alert_id = str(uuid.uuid5(ALERT_NAMESPACE, f"proximity:{h.lead_id}:{now:%Y-%m-%d}"))
            title = f"Hot lead {h.distance_km:.1f} km away: {h.customer_name}"
            body = f"Score {h.score:.0f}. {h.next_action}: {h.next_action_reason}\nNear {place}"
            alert = NewAlert(alert_id, alert_id, h.customer_id, ALERT_TYPE, "high", title, body, stamp, stamp,
                             ("proximity",), customer_name=h.customer_name)
            if store_alert(conn, alert, "local:proximity"):  # else alerted today already
                new.append(alert)
    return new
