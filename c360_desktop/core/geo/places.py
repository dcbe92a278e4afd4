"""Customers near a point: an R*Tree of positions in the cache, exact distances by haversine.

The R*Tree (``customer_geo``, keyed by ``customer.search_key``) narrows a query to the bounding
box of the circle; only those candidates get the exact great-circle distance. Positions come from
``customer_place`` (the customer's coordinates, else their town's or parish's, see geocode.py).
``refresh_geo`` keeps both in step with the customer table (after a sync, after the demo build).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


_PLACE_SQL = """
INSERT INTO customer_place (customer_id, search_key, parish, town, lat, lon, precision)
SELECT c.id, c.search_key, k.parish, k.town, coalesce(c.lat, k.lat), coalesce(c.lon, k.lon),
       CASE WHEN c.lat IS NOT NULL AND c.lon IS NOT NULL THEN 'exact' ELSE k.precision END
FROM customer c JOIN temp.place_key k ON k.t = coalesce(c.town, '') AND k.p = coalesce(c.parish, '')
WHERE c.deleted_at IS NULL {where}
"""


def refresh_geo(conn: sqlite3.Connection, customer_ids: Sequence[str] | None = None) -> None:
    """Place customers (all, or some) from their addresses (``customer_place``, see geocode.py)
    and bring the R*Tree of positions in line, inside the caller's transaction.

    Each distinct (town, parish) pair is geocoded once, so a million customers cost a few hundred
    look-ups and two set-based statements."""
    from c360_desktop.core.geo.geocode import geocode

    conn.execute("CREATE TEMP TABLE IF NOT EXISTS place_key (t TEXT, p TEXT, parish TEXT, town TEXT, "
                 "lat REAL, lon REAL, precision TEXT, PRIMARY KEY (t, p))")
    conn.execute("DELETE FROM temp.place_key")
    if customer_ids is None:
        pairs = conn.execute("SELECT DISTINCT coalesce(town, ''), coalesce(parish, '') FROM customer "
                             "WHERE deleted_at IS NULL").fetchall()
    else:
        pairs = []
        for chunk in _chunks(customer_ids):
            pairs += conn.execute("SELECT DISTINCT coalesce(town, ''), coalesce(parish, '') FROM customer "
                                  f"WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    rows = []
    for town, parish in set(pairs):
        g = geocode(town or None, parish or None)
        rows.append((town, parish, g.parish, g.town, g.lat, g.lon, g.precision))
    conn.executemany("INSERT INTO temp.place_key VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    if customer_ids is None:
        conn.execute("DELETE FROM customer_place")
        conn.execute(_PLACE_SQL.format(where=""))
        conn.execute("DELETE FROM customer_geo")
        conn.execute("INSERT INTO customer_geo (key, min_lat, max_lat, min_lon, max_lon) "
                     "SELECT search_key, lat, lat, lon, lon FROM customer_place "
                     "WHERE lat IS NOT NULL AND search_key IS NOT NULL")
        conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('places_at', datetime('now'))")
        return
    for chunk in _chunks(customer_ids):
        marks = ",".join("?" * len(chunk))
        old = conn.execute(f"SELECT search_key FROM customer_place WHERE customer_id IN ({marks}) "
                           f"UNION SELECT search_key FROM customer WHERE id IN ({marks})", chunk + chunk).fetchall()
        conn.executemany("DELETE FROM customer_geo WHERE key = ?", [k for k in old if k[0] is not None])
        conn.execute(f"DELETE FROM customer_place WHERE customer_id IN ({marks})", chunk)
        conn.execute(_PLACE_SQL.format(where=f"AND c.id IN ({marks})"), chunk)
        conn.execute("INSERT INTO customer_geo (key, min_lat, max_lat, min_lon, max_lon) "
                     "SELECT search_key, lat, lat, lon, lon FROM customer_place "
                     f"WHERE lat IS NOT NULL AND search_key IS NOT NULL AND customer_id IN ({marks})", chunk)


def _chunks(ids: Sequence[str], size: int = 400) -> list[list[str]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


def _check_query(lat: float, lon: float, radius_km: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"({lat}, {lon}) is not a position: latitude -90..90, longitude -180..180")
    if not 0 < radius_km <= 500:
        raise ValueError(f"radius {radius_km} km: choose more than 0 and at most 500 km")


def _rough(conn: sqlite3.Connection, lat: float, lon: float, radius_km: float, margin: float
           ) -> list[tuple[float, int]]:
    """(approximate distance, key) of R*Tree entries within radius + margin, nearest first."""
    dlat = math.degrees(radius_km / EARTH_KM) + 0.001
    dlon = math.degrees(radius_km / (EARTH_KM * max(math.cos(math.radians(lat)), 1e-6))) + 0.001
    candidates = conn.execute(
        "SELECT key, min_lat, min_lon FROM customer_geo "
        "WHERE max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?",
        (lat - dlat, lat + dlat, lon - dlon, lon + dlon)).fetchall()
    rough = [(haversine_km(lat, lon, a, b), key) for key, a, b in candidates]
    return sorted(x for x in rough if x[0] <= radius_km + margin)


@dataclass(frozen=True)
class Nearby:
    customer_id: str
    name: str
    lat: float
    lon: float
    distance_km: float
    lead_score: float | None
    last_contact_at: str | None


def near(conn: sqlite3.Connection, lat: float, lon: float, radius_km: float, limit: int = 100) -> list[Nearby]:
    """Customers within ``radius_km`` of (lat, lon), nearest first."""
    _check_query(lat, lon, radius_km)
    # Nearest first in dense towns: search a small circle first and widen it (x2) until it holds
    # `limit` customers or reaches the radius, so central Kingston does not read 100,000 points.
    # The R*Tree keeps 32-bit coordinates (a metre or so off): rank by them with a small margin,
    # then take exact distances from the customers' own coordinates for the nearest few only.
    margin = 0.02
    r = min(radius_km, 0.5)
    while True:
        rough = _rough(conn, lat, lon, r, margin)
        if r >= radius_km or sum(1 for d, _k in rough if d <= r - margin) >= limit:
            break
        r = min(radius_km, r * 2)
    if len(rough) > limit:
        cutoff = rough[limit - 1][0] + margin
        rough = [(d, key) for d, key in rough if d <= cutoff]
    keys = [key for _d, key in rough]
    found = []
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for cid, name, clat, clon, score, contact in conn.execute(
                "SELECT c.id, c.display_name, p.lat, p.lon, "
                "(SELECT max(score) FROM lead_rank r WHERE r.customer_id = c.id), "
                "(SELECT max(occurred_at) FROM sales_activity a WHERE a.customer_id = c.id AND a.deleted_at IS NULL) "
                "FROM customer_place p JOIN customer c ON c.id = p.customer_id "
                f"WHERE p.search_key IN ({','.join('?' * len(chunk))})", chunk):
            d = haversine_km(lat, lon, clat, clon)
            if d <= radius_km:
                found.append(Nearby(cid, name, clat, clon, round(d, 3), score, contact))
    found.sort(key=lambda n: (n.distance_km, n.customer_id))
    return found[:limit]


def near_central(url: str, lat: float, lon: float, radius_km: float, limit: int = 100,
                 password: str | None = None) -> list[Nearby]:
    """The same question asked of the central PostgreSQL (PostGIS ``ST_DWithin`` on the customers'
    geography points, served by their GiST index), for users connected to it: it sees every
    customer, not only this cache's territory. Lead score and last contact come from the centre's
    leads and activities (the centre keeps no ranks: the best open lead's estimated value is not a
    score, so ``lead_score`` is None)."""
    _check_query(lat, lon, radius_km)
    from sqlalchemy import text

    from c360_desktop.core.sync.central import Central

    central = Central(url, password)
    try:
        if central.dialect.name != "postgresql":
            raise ValueError("near_central needs PostgreSQL with PostGIS; use the cache's near() otherwise")
        point = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"
        rows = central.run(text(
            f"SELECT c.id, c.display_name, c.lat, c.lon, ST_Distance(c.geog, {point}) / 1000.0 AS km, "
            "(SELECT max(a.occurred_at)::text FROM sales_activity a WHERE a.customer_id = c.id AND a.deleted_at IS NULL) "
            f"FROM customer c WHERE c.deleted_at IS NULL AND ST_DWithin(c.geog, {point}, :metres) "
            "ORDER BY km, c.id LIMIT :limit").bindparams(lat=lat, lon=lon, metres=radius_km * 1000, limit=limit))
        central.rollback()
    finally:
        central.close()
    return [Nearby(cid, name, clat, clon, round(float(km), 3), None, contact)
            for cid, name, clat, clon, km, contact in rows]
