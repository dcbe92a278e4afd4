"""The map with every customer on it: time until it is interactive, and frame times while panning.

Each page is loaded in a real QWebEngineView (offscreen, software rendering, 1280 x 800), from
local files only, in the same run:

    ours            the app's page (core.geo.map_page): folium map, parish layer, customers in a
                    compact points.js drawn by c360_map.js (grid clusters on one canvas)
    fast-cluster    folium's own fast recipe: plugins.FastMarkerCluster (Leaflet.markercluster
                    fed from one JavaScript array)
    folium-markers  plain folium: one folium.Marker per customer inside a plugins.MarkerCluster
                    (the usual recipe), only up to --plain-max customers (it grows without bound)

"Interactive" = from view.load() until the first frame after the page's load event (two
requestAnimationFrame callbacks later): loadFinished alone comes before anything is painted.
Building the page in Python is timed apart. Panning: 120 steps of panBy(40 px), one per frame
(60 one way, 60 back: far past what any layer keeps drawn beyond the view),
with the interval between frames recorded (p50/p95/max), over the whole island and again over
central Kingston at zoom 14; a frame over 50 ms is a visible stutter.

    python -m benchmarks.bench_map --customers 100000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")

import PySide6.QtWebEngineWidgets  # noqa: E402, F401 - before the QApplication
from PySide6.QtCore import QEventLoop, QTimer, QUrl  # noqa: E402
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.common import demo_cache, pct  # noqa: E402
from c360_desktop.core.geo.map_page import (  # noqa: E402
    base_map,
    leaflet_assets,
    load_points,
    page_data,
    write_page,
)
from c360_desktop.core.geo.territory import default_period, report  # noqa: E402
from c360_desktop.core.storage.cache import open_cache  # noqa: E402

# Appended to every page: says when the first frame after the load event is on screen, and pans.
PROBE = """
<script>
window.addEventListener('load', function () {
  requestAnimationFrame(function () { requestAnimationFrame(function () {
    document.title = 'ready:' + performance.now().toFixed(1);
  }); });
});
function c360Pan(map, steps, dx) {
  var times = [], k = 0;
  function step(t) {
    times.push(t);
    if (k++ >= steps) {
      var gaps = [];
      for (var i = 1; i < times.length; i++) gaps.push(times[i] - times[i - 1]);
      document.title = 'pan:' + JSON.stringify(gaps);
      return;
    }
    map.panBy([k % 120 < 60 ? dx : -dx, 0], {animate: false});  // 2,400 px each way: past any padding
    requestAnimationFrame(step);
  }
  requestAnimationFrame(step);
}
</script>
"""


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def with_probe(page: Path) -> None:
    html = page.read_text("utf-8")
    page.write_text(html.replace("</body>", PROBE + "</body>"), "utf-8")


def build_ours(conn, folder: Path) -> tuple[Path, str, float]:
    """As the pane does it: the page from positions alone; the parish figures (timed apart, see
    main) are computed beside it and colour the parishes when they arrive."""
    started = time.perf_counter()
    points = load_points(conn)
    page = write_page(folder, points, page_data(None, points.segments))
    took = time.perf_counter() - started
    with_probe(page)
    return page, "C360.map", took


def local_cluster(cluster, m):  # type: ignore[no-untyped-def]
    """A folium marker-cluster plugin pointed at the bundled Leaflet.markercluster, on map m."""
    assets = leaflet_assets()
    cluster.default_js = [("markerclusterjs", assets["markercluster_js"])]
    cluster.default_css = [("markerclustercss", assets["markercluster_css"]),
                           ("markerclusterdefaultcss", assets["markercluster_default_css"])]
    cluster.add_to(m)
    return cluster


def build_fast_cluster(conn, folder: Path) -> tuple[Path, str, float]:
    from folium.plugins import FastMarkerCluster

    started = time.perf_counter()
    rows = conn.execute("SELECT lat, lon FROM customer_place WHERE lat IS NOT NULL").fetchall()
    m = base_map()
    # folium's default callback draws Font Awesome markers (a CDN plugin): plain Leaflet markers here.
    local_cluster(FastMarkerCluster([[round(a, 5), round(b, 5)] for a, b in rows],
                                    callback="function (row) { return L.marker(new L.LatLng(row[0], row[1])); }"),
                  m)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "map.html"
    m.save(str(page))
    took = time.perf_counter() - started
    with_probe(page)
    return page, m.get_name(), took


def build_plain(conn, folder: Path, limit: int) -> tuple[Path, str, float]:
    import folium
    from folium.plugins import MarkerCluster

    started = time.perf_counter()
    rows = conn.execute("SELECT lat, lon FROM customer_place WHERE lat IS NOT NULL LIMIT ?", (limit,)).fetchall()
    m = base_map()
    cluster = local_cluster(MarkerCluster(), m)
    for a, b in rows:
        folium.Marker([a, b]).add_to(cluster)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "map.html"
    m.save(str(page))
    took = time.perf_counter() - started
    with_probe(page)
    return page, m.get_name(), took


def measure(view: QWebEngineView, page: Path, map_var: str, timeout_s: float) -> dict[str, object]:
    marks: dict[str, float] = {}
    titles: list[str] = []
    blocked: list[str] = []

    def finished(ok: bool) -> None:
        marks["load_finished"] = time.perf_counter()
        marks["ok"] = ok

    def titled(title: str) -> None:
        titles.append(title)
        if title.startswith("ready:") and "ready" not in marks:
            marks["ready"] = time.perf_counter()

    view.loadFinished.connect(finished)
    view.titleChanged.connect(titled)
    start = time.perf_counter()
    view.load(QUrl.fromLocalFile(str(page)))
    deadline = start + timeout_s
    while "ready" not in marks and time.perf_counter() < deadline:
        wait(5)
    result: dict[str, object] = {"blocked": blocked}
    if "ready" not in marks:
        result["interactive_s"] = None
        view.loadFinished.disconnect(finished)
        view.titleChanged.disconnect(titled)
        view.stop()
        return result
    result["load_finished_s"] = marks.get("load_finished", marks["ready"]) - start
    result["interactive_s"] = marks["ready"] - start
    for label, setup in (("", ""), ("_city", f"{map_var}.setView([18.01, -76.79], 14, {{animate: false}});")):
        # the whole island, then central Kingston at street level (thousands of points, many alone)
        titles.clear()
        wait(300)
        view.page().runJavaScript(setup + f"setTimeout(function () {{ c360Pan({map_var}, 120, 40); }}, 300);")
        pan_deadline = time.perf_counter() + 120
        while not any(t.startswith("pan:") for t in titles) and time.perf_counter() < pan_deadline:
            wait(10)
        gaps = next((json.loads(t[4:]) for t in titles if t.startswith("pan:")), None)
        if gaps:
            result[f"frame_p50_ms{label}"], result[f"frame_p95_ms{label}"] = pct(gaps, 50), pct(gaps, 95)
            result[f"frame_max_ms{label}"] = max(gaps)
            result[f"stutters{label}"] = sum(g > 50 for g in gaps)
    view.loadFinished.disconnect(finished)
    view.titleChanged.disconnect(titled)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--cache", help="use this cache instead of the benchmark demo cache")
    parser.add_argument("--plain-max", type=int, default=100_000,
                        help="customers on the plain-folium page (default: all of --customers)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds a page may take to become interactive")
    parser.add_argument("--only", choices=("ours", "fast-cluster", "folium-markers"), action="append")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    cache = open_cache(Path(args.cache) if args.cache else demo_cache(args.customers))
    conn = cache.reader()
    (placed,) = conn.execute("SELECT count(*) FROM customer_place WHERE lat IS NOT NULL").fetchone()
    print(f"{placed:,} customers with a position; view 1280 x 800, offscreen, software rendering")
    view = QWebEngineView()
    view.resize(1280, 800)
    view.show()
    from c360_desktop.ui.panes.map.pane import make_interceptor

    guard = make_interceptor(view)
    view.page().profile().setUrlRequestInterceptor(guard)
    wanted = args.only or ["ours", "fast-cluster", "folium-markers"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in wanted:
            folder = Path(tmp) / name
            if name == "ours":
                page, var, built = build_ours(conn, folder)
                n = placed
            elif name == "fast-cluster":
                page, var, built = build_fast_cluster(conn, folder)
                n = placed
            else:
                n = min(placed, args.plain_max)
                page, var, built = build_plain(conn, folder, n)
            size = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
            r = measure(view, page, var, args.timeout)
            if r["interactive_s"] is None:
                print(f"{name:15s} {n:>9,} markers  built {built:6.1f} s  page {size:6.1f} MiB  "
                      f"NOT interactive within {args.timeout:.0f} s of loading")
                continue
            total = built + float(r["interactive_s"])  # type: ignore[arg-type]
            pan = "  ".join(
                (f"pan frames{where} p50 {r['frame_p50_ms' + k]:.1f} / p95 {r['frame_p95_ms' + k]:.1f} / max "
                 f"{r['frame_max_ms' + k]:.1f} ms, {r['stutters' + k]} over 50 ms") if "frame_p50_ms" + k in r
                else f"pan{where}: no result" for k, where in (("", ""), ("_city", " (Kingston, zoom 14)")))
            print(f"{name:15s} {n:>9,} markers  built {built:6.1f} s  page {size:6.1f} MiB  "
                  f"loadFinished {r['load_finished_s']:6.2f} s  interactive {r['interactive_s']:6.2f} s  "
                  f"built+interactive {total:6.2f} s  {pan}")
            wait(500)
    started = time.perf_counter()
    report(conn, default_period(conn))
    print(f"parish and rep figures (computed beside the page, colours follow): {time.perf_counter() - started:.2f} s")
    print(f"requests refused as non-local: {len(guard.blocked)}")
    view.close()
    cache.close()
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
