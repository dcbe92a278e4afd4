"""Anomaly rules on the audit stream, each raising one alert (type ``audit_anomaly``) for admins:
a user viewing far more profiles in an hour than usual; bulk exports of customer data; repeated
failed sign-ins (or unlocks, or re-authentications) for one name; a sign-in at an odd hour in
Jamaica (22:00 to 05:59) by a user who does not usually work then.

The rules run as each entry is written (``log.record``), in the same transaction, from the
indexed events of this desktop.
"""

from __future__ import annotations

import sqlite3
import statistics
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

ALERT_TYPE = "audit_anomaly"
NAMESPACE = uuid.UUID("5b0c2d4e-8a51-4f0e-9d38-3c1f7a2e6b90")
VIEWS_FLOOR = 60  # profiles in an hour that never raise an alert
VIEWS_TIMES = 5  # ... nor do fewer than five times the user's usual busy hour
USUAL_DAYS = 14  # the usual: the median of the user's hours with views in these days
EXPORT_ROWS = 1000  # an export of this many rows is a bulk export
FAILED_SIGN_INS = 5  # failed tries for one name within an hour that raise an alert
ODD_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})  # Jamaica time (UTC-5 all year)
JAMAICA = timedelta(hours=-5)
USUAL_ODD = 3  # sign-ins at odd hours in the last USUAL_DAYS that make them the user's habit
FAILED_ACTIONS = ("signin.failed", "session.unlock.failed", "reauth.failed")


def _text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def usual_views(conn: sqlite3.Connection, actor: str, before: datetime) -> float:
    """The median number of profiles ``actor`` viewed in an hour with any, over the last days."""
    rows = conn.execute(
        "SELECT count(*) FROM audit_event WHERE actor = ? AND action = 'profile.view' "
        "AND occurred_at >= ? AND occurred_at < ? GROUP BY substr(occurred_at, 1, 13)",
        (actor, _text(before - timedelta(days=USUAL_DAYS)), _text(before))).fetchall()
    return float(statistics.median(r[0] for r in rows)) if rows else 0.0


def check(conn: sqlite3.Connection, actor: str, action: str, details: Mapping[str, Any],
          occurred_at: str) -> list[Any]:
    """The alerts this new entry raises (stored, inside the caller's transaction)."""
    from c360_desktop.core.alerts.pipeline import NewAlert, store_alert

    now = datetime.strptime(occurred_at, "%Y-%m-%d %H:%M:%S")
    raised: list[NewAlert] = []

    def alert(key: str, title: str, body: str) -> None:
        aid = str(uuid.uuid5(NAMESPACE, key))
        a = NewAlert(aid, aid, None, ALERT_TYPE, "high", title, body, occurred_at, occurred_at, ("audit",))
        if store_alert(conn, a, "local:audit"):
            raised.append(a)

    if action == "profile.view":
        hour_ago = now - timedelta(hours=1)
        (views,) = conn.execute(
            "SELECT count(*) FROM audit_event WHERE actor = ? AND action = 'profile.view' AND occurred_at > ?",
            (actor, _text(hour_ago))).fetchone()
        if views > VIEWS_FLOOR:
            usual = usual_views(conn, actor, hour_ago)
            if views > VIEWS_TIMES * usual:
                alert(f"views:{actor}:{occurred_at[:13]}", f"{actor} viewed {views:,} profiles in an hour",
                      f"{actor} opened {views:,} customer profiles in the hour to {occurred_at} UTC; their usual "
                      f"busy hour has {usual:,.0f}. Check the audit trail (Go > Audit trail).")
    elif action in FAILED_ACTIONS:
        marks = ",".join("?" * len(FAILED_ACTIONS))
        (failed,) = conn.execute(
            f"SELECT count(*) FROM audit_event WHERE actor = ? AND action IN ({marks}) AND occurred_at > ?",
            (actor, *FAILED_ACTIONS, _text(now - timedelta(hours=1)))).fetchone()
        if failed >= FAILED_SIGN_INS:
            alert(f"failed:{actor}:{occurred_at[:13]}", f"{failed} failed sign-ins for {actor}",
                  f"{failed} tries to sign in, unlock or confirm as {actor} failed in the hour to {occurred_at} UTC. "
                  "Someone may be guessing the password; check the audit trail (Go > Audit trail).")
    elif action == "signin":
        local = now + JAMAICA
        if local.hour in ODD_HOURS:
            seen = conn.execute("SELECT occurred_at FROM audit_event WHERE actor = ? AND action = 'signin' "
                                "AND occurred_at >= ? AND occurred_at < ?",
                                (actor, _text(now - timedelta(days=USUAL_DAYS)), occurred_at)).fetchall()
            odd = sum((datetime.strptime(r[0], "%Y-%m-%d %H:%M:%S") + JAMAICA).hour in ODD_HOURS for r in seen)
            if odd < USUAL_ODD:
                alert(f"odd:{actor}:{occurred_at}", f"{actor} signed in at {local:%H:%M} Jamaica time",
                      f"{actor} signed in at {local:%H:%M} on {local:%Y-%m-%d} (Jamaica time), outside 06:00 to "
                      f"22:00, which is not their habit ({odd} such sign-ins in {USUAL_DAYS} days).")
    elif action in ("export", "export.pseudonymised"):
        rows = int(details.get("rows") or details.get("customers") or 0)
        if rows >= EXPORT_ROWS:
            alert(f"export:{actor}:{occurred_at}:{details.get('file')}", f"{actor} exported {rows:,} rows",
                  f"{actor} exported {rows:,} rows to {details.get('file')} ({details.get('format', 'cache')}) "
                  f"at {occurred_at} UTC.")
    return raised
