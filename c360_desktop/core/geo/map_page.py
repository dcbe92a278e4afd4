"""The map page: a folium map of the parishes and every customer, that works with no network.

folium writes the page (Leaflet map, the parish GeoJSON layer); its default CDN links are replaced
by the Leaflet files of the ``xstatic-leaflet`` package installed with the app, and no tile layer
is added: the parish polygons are the base map. Customers go in a separate ``points.js`` beside the
page (compact column arrays) and are drawn by ``resources/map/c360_map.js`` (clustered, on one
canvas). The Qt side loads the page from a local file and joins it through Qt WebChannel.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from c360_desktop.core.geo.territory import METRICS, TerritoryReport
from c360_desktop.core.private import make_private_dir, write_private

BANDS = ("hot", "warm", "cold", "no open lead")
BAND_COLOURS = ("#d62728", "#f39c12", "#1f77b4", "#9e9e9e")
# Okabe-Ito, colour-blind safe, then greys for segments beyond it.
SEGMENT_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
_SEQUENTIAL = {  # 5 classes, light to dark (ColorBrewer)
    "sales": ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
    "churn": ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"),
    "leads": ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"),
}
_GROWTH = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")  # diverging around 0
JAMAICA_BOUNDS = ((17.70, -78.40), (18.53, -76.18))
# The long form (jamaica.ATTRIBUTION) is in the About box; the map carries the short one.
MAP_ATTRIBUTION = ("Parishes: Natural Earth (public domain) · Towns: "
                   "<a href='https://www.geonames.org'>GeoNames</a>, CC BY 4.0 · Census: STATIN 2011")


@dataclass(frozen=True)
class MapPoints:
    """Customers with a position, as columns (search_key identifies a customer to the app)."""

    key: list[int]
    lat: list[float]
    lon: list[float]
    segment: list[int]
    band: list[int]
    business: list[int]
    segments: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.key)


def load_points(conn: sqlite3.Connection) -> MapPoints:
    segments = tuple(name for (name,) in conn.execute(
        "SELECT name FROM segment WHERE deleted_at IS NULL ORDER BY name"))[: len(SEGMENT_COLOURS) - 1]
    seg_index = {name: i for i, name in enumerate(segments)}
    other = len(segments)  # "no segment / other"
    band_index = {b: i for i, b in enumerate(BANDS)}
    cols: tuple[list[Any], ...] = ([], [], [], [], [], [])
    for key, lat, lon, seg, best, kind in conn.execute(
            "SELECT p.search_key, p.lat, p.lon, s.name, r.best, c.kind FROM customer_place p "
            "JOIN customer c ON c.id = p.customer_id LEFT JOIN segment s ON s.id = c.segment_id "
            "LEFT JOIN (SELECT customer_id, max(score) AS best FROM lead_rank GROUP BY customer_id) r "
            "ON r.customer_id = p.customer_id "
            "WHERE p.lat IS NOT NULL AND p.search_key IS NOT NULL"):
        cols[0].append(key)
        cols[1].append(round(lat, 5))
        cols[2].append(round(lon, 5))
        cols[3].append(seg_index.get(seg, other))
        cols[4].append(band_index["no open lead"] if best is None
                       else 0 if best >= 70 else 1 if best >= 45 else 2)
        cols[5].append(1 if kind == "business" else 0)
    return MapPoints(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], segments)


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "no data"
    if metric == "sales":
        return f"JMD {value / 1e6:,.1f}M" if value >= 1e6 else f"JMD {value:,.0f}"
    if metric == "growth":
        return f"{value:+.1f}%"
    if metric == "churn":
        return f"{100 * value:.0f}%"
    return f"{value:,.0f}"


def _classes(metric: str, values: dict[str, float | None]) -> tuple[dict[str, str], list[list[str]]]:
    """Parish colours in five classes and the legend's (colour, range) rows."""
    present = sorted(v for v in values.values() if v is not None)
    if not present:
        return {}, [["#dddddd", "no data"]]
    palette = _GROWTH if metric == "growth" else _SEQUENTIAL[metric]
    if metric == "growth":  # symmetric around zero so red means shrinking and green growing
        top = max(abs(present[0]), abs(present[-1]), 1e-9)
        breaks = [-top * 0.6, -top * 0.2, top * 0.2, top * 0.6]
    else:  # quantiles of the parishes' values
        breaks = [present[min(len(present) - 1, math.ceil(q * len(present)) - 1)] for q in (0.2, 0.4, 0.6, 0.8)]
    def klass(v: float) -> int:
        return sum(v > b for b in breaks)

    colours = {code: palette[klass(v)] for code, v in values.items() if v is not None}
    edges = [present[0], *breaks, present[-1]]
    legend = []
    for i, colour in enumerate(palette):
        lo, hi = edges[i], edges[i + 1]
        if i and lo >= hi and metric != "growth":
            continue
        legend.append([colour, f"{_fmt(metric, lo)} – {_fmt(metric, hi)}"])
    if any(v is None for v in values.values()):
        legend.append(["#dddddd", "no data"])
    return colours, legend


def metrics_data(report: TerritoryReport | None) -> dict[str, Any]:
    """Each metric's parish colours, legend and tooltip texts (placeholders while ``report`` is
    still being computed: the map need not wait for the figures)."""
    if report is None:
        return {key: {"label": label, "colours": {}, "legend": [["#dddddd", "adding up the figures…"]],
                      "text": {}, "note": ""} for key, label in METRICS.items()}
    metrics = {}
    for key, label in METRICS.items():
        values = {r.parish: r.metric(key) for r in report.parishes}
        colours, legend = _classes(key, values)
        metrics[key] = {"label": label, "colours": colours, "legend": legend,
                        "text": {code: _fmt(key, v) for code, v in values.items()},
                        "note": (report.churn_basis if key == "churn" else
                                 report.period.label() if key in ("sales", "growth") else "")}
    return metrics


def page_data(report: TerritoryReport | None, segments: tuple[str, ...], metric: str = "sales",
              colour_by: str = "segment") -> dict[str, Any]:
    """Everything the page script needs except the points themselves."""
    if metric not in METRICS:
        raise ValueError(f"map metric {metric!r}: choose {', '.join(METRICS)}")
    if colour_by not in ("segment", "band"):
        raise ValueError(f"colour markers by {colour_by!r}: choose segment or band")
    metrics = metrics_data(report)
    names = [*segments, "other"]
    return {
        "metric": metric, "colourBy": colour_by, "metrics": metrics, "attribution": MAP_ATTRIBUTION,
        "bounds": JAMAICA_BOUNDS,
        "colourings": {
            "segment": {"label": "Customers by segment", "names": names,
                        "colours": list(SEGMENT_COLOURS[: len(names)])},
            "band": {"label": "Customers by best lead", "names": list(BANDS), "colours": list(BAND_COLOURS)},
        },
    }


def _asset(package: str, *parts: str) -> str:
    return Path(str(resources.files(package).joinpath(*parts))).resolve().as_uri()


def leaflet_assets() -> dict[str, str]:
    """file:// URLs of the bundled Leaflet and marker-cluster files (no CDN)."""
    import xstatic.pkg.leaflet as leaflet
    import xstatic.pkg.leaflet_markercluster as cluster

    base, mc = Path(leaflet.BASE_DIR), Path(cluster.BASE_DIR)
    return {"leaflet_js": (base / "leaflet.js").as_uri(), "leaflet_css": (base / "leaflet.css").as_uri(),
            "markercluster_js": (mc / "leaflet.markercluster.js").as_uri(),
            "markercluster_css": (mc / "MarkerCluster.css").as_uri(),
            "markercluster_default_css": (mc / "MarkerCluster.Default.css").as_uri()}


def parish_geojson() -> dict[str, Any]:
    text = resources.files("c360_desktop.resources").joinpath("jamaica", "jamaica_parishes.geojson").read_text("utf-8")
    return dict(json.loads(text))


def base_map(title: str = "C360 map") -> Any:
    """A folium Map with local Leaflet, no tiles and Jamaica's bounds."""
    import folium

    assets = leaflet_assets()
    (s, w), (n, e) = JAMAICA_BOUNDS
    m = folium.Map(location=[18.12, -77.3], zoom_start=9, tiles=None, min_zoom=8, max_zoom=18,
                   max_bounds=True, min_lat=s - 0.5, max_lat=n + 0.5, min_lon=w - 1, max_lon=e + 1,
                   control_scale=True, zoom_control=True, title=title, zoom_snap=0.25, zoom_delta=1)
    # The instance's lists replace folium's class defaults (CDN links to Leaflet, jQuery,
    # Bootstrap and Font Awesome, none of which this page needs).
    m.options["max_zoom"], m.options["min_zoom"] = 18, 8  # no tile layer to carry them
    m.default_js = [("leaflet", assets["leaflet_js"])]
    m.default_css = [("leaflet_css", assets["leaflet_css"])]
    return m


def write_page(directory: Path, points: MapPoints, data: dict[str, Any]) -> Path:
    """Write map.html and points.js into ``directory``; returns the page's path."""
    import folium
    from branca.element import MacroElement
    from jinja2 import Template

    make_private_dir(directory)
    m = base_map()
    m.default_js += [("qwebchannel", "qrc:///qtwebchannel/qwebchannel.js"),
                     ("c360_points", "points.js"),
                     ("c360_map", _asset("c360_desktop.resources", "map", "c360_map.js"))]
    m.default_css += [("c360_map_css", _asset("c360_desktop.resources", "map", "c360_map.css"))]
    parishes = folium.GeoJson(parish_geojson(), name="Parishes", smooth_factor=0.5,
                              style_function=lambda _f: {"fillColor": "#dddddd", "color": "#555555",
                                                         "weight": 1, "fillOpacity": 0.55})
    parishes.add_to(m)

    class _Init(MacroElement):  # type: ignore[misc]
        _template = Template("""{% macro script(this, kwargs) %}
C360.init({{ this.map }}, {{ this.layer }}, {{ this.data }});
{% endmacro %}""")

        def __init__(self) -> None:
            super().__init__()
            self.map, self.layer, self.data = m.get_name(), parishes.get_name(), json.dumps(data)

    m.add_child(_Init())
    points_js = "window.C360_POINTS = " + json.dumps(
        {"key": points.key, "lat": points.lat, "lon": points.lon, "segment": points.segment,
         "band": points.band, "business": points.business}, separators=(",", ":")) + ";\n"
    tmp = directory / "points.js.tmp"
    write_private(tmp, points_js)
    tmp.replace(directory / "points.js")
    page = directory / "map.html"
    m.save(str(page))
    return page
