"""MapService: what the map pane asks of the cache (points, parish figures, nearby customers)."""

from __future__ import annotations

from c360_desktop.core.geo.map_page import MapPoints, load_points
from c360_desktop.core.geo.places import Nearby, near
from c360_desktop.core.geo.territory import TerritoryReport, default_period, report
from c360_desktop.core.storage.cache import Cache


class MapService:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def points(self) -> MapPoints:
        return load_points(self._cache.reader())

    def territory_report(self, days: int) -> TerritoryReport:
        """Parish and rep figures for the last ``days`` of the cache's data."""
        conn = self._cache.reader()
        return report(conn, default_period(conn, days))

    def near(self, lat: float, lon: float, radius_km: float, limit: int = 100) -> list[Nearby]:
        return near(self._cache.reader(), lat, lon, radius_km, limit=limit)

    def place_of(self, customer_id: str) -> tuple[str, float, float] | None:
        """(name, lat, lon) of a customer who has a position."""
        row = self._cache.reader().execute(
            "SELECT c.display_name, p.lat, p.lon FROM customer c JOIN customer_place p ON p.customer_id = c.id "
            "WHERE c.id = ?", (customer_id,)).fetchone()
        return None if row is None or row[1] is None else (row[0], row[1], row[2])

    def customer_by_key(self, key: int) -> str | None:
        """The customer id behind a map point (points carry the search key)."""
        row = self._cache.reader().execute("SELECT id FROM customer WHERE search_key = ?", (key,)).fetchone()
        return row[0] if row else None

    def at_keys(self, keys: list[int]) -> list[Nearby]:
        """The customers of a map spot (distance unknown: -1), by name."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self._cache.reader().execute(
            "SELECT c.id, c.display_name, (SELECT max(score) FROM lead_rank r WHERE r.customer_id = c.id), "
            "(SELECT max(occurred_at) FROM sales_activity a WHERE a.customer_id = c.id AND a.deleted_at IS NULL) "
            f"FROM customer c WHERE c.search_key IN ({marks}) ORDER BY c.display_name", keys).fetchall()
        return [Nearby(cid, name, 0.0, 0.0, -1.0, score, contact) for cid, name, score, contact in rows]
