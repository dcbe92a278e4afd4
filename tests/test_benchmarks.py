"""The benchmark scripts still run and print their figures beside their baselines (small caches;
timings are never asserted here, only that the figures are produced)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*args):
    r = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_lookup_benchmark(demo_cache):
    out = run("benchmarks.bench_lookup", "--cache", str(demo_cache), "--per-category", "10",
              "--baseline-per-category", "3", "--profiles", "20", "--baseline-profiles", "2")
    for category in ("business name", "email", "misspelt name", "name prefix", "phone"):
        assert re.search(rf"{category}\s+ours\s+p50\s+[\d.]+ ms\s+p95", out), out
        assert re.search(rf"{category}\s+LIKE '%q%'\s+p50", out), out
    assert re.search(r"ours\s+p50\s+[\d.]+ ms", out.split("360 PROFILE")[1])
    assert "no indexes" in out


def test_startup_benchmark(demo_cache):
    out = run("benchmarks.bench_startup", "--cache", str(demo_cache), "--memory-cache", str(demo_cache), "--runs", "1")
    assert re.search(r"c360-desktop\s+median [\d.]+ s", out), out
    assert re.search(r"bare PySide6\s+median [\d.]+ s", out), out
    assert re.search(r"c360-desktop\s+\d+ MiB", out), out


def test_alerts_benchmark(demo_cache):
    out = run("benchmarks.bench_alerts", "--cache", str(demo_cache), "--rule-events", "3000", "--seconds", "2",
              "--rate", "500", "--burst", "1000")
    assert re.search(r"ours\s+[\d,]+ events/s", out) and re.search(r"naive\s+[\d,]+ events/s", out), out
    assert re.search(r"ours\s+p50\s+[\d.]+ ms\s+p95\s+[\d.]+ ms", out), out
    assert re.search(r"baseline\s+p50\s+[\d.]+ ms", out), out
    assert re.search(r"ours\s+longest stall\s+[\d.]+ ms", out) and re.search(r"naive\s+longest stall", out), out
    assert "INCOMPLETE" not in out, out


def test_leads_and_geo_benchmark(demo_cache):
    out = run("benchmarks.bench_leads_geo", "--cache", str(demo_cache), "--queries", "20", "--baseline-queries", "2",
              "--queue-runs", "10")
    assert re.search(r"ours\s+p50\s+[\d.]+ ms\s+p95", out) and re.search(r"full scan\s+p50", out), out
    assert re.search(r"ours \(SQL on lead_rank\)\s+p50", out) and re.search(r"load all, rank in Python\s+p50", out), out


def test_map_benchmark(demo_cache):
    out = run("benchmarks.bench_map", "--cache", str(demo_cache), "--plain-max", "500", "--timeout", "120")
    for name in ("ours", "fast-cluster", "folium-markers"):
        assert re.search(rf"{name}\s+[\d,]+ markers\s+built\s+[\d.]+ s.*interactive\s+[\d.]+ s.*pan frames p50", out), out
    assert "requests refused as non-local: 0" in out, out


def test_identity_benchmarks():
    out = run("benchmarks.bench_identity", "--sets", "1")
    for method in ("ours \\(links, p >= 0.9\\)", "recordlinkage \\(documented ECM\\)", "splink \\(p >= 0.9\\)"):
        assert re.search(rf"FEBRL1\s+{method}\s+[\d.]+\s+[\d.]+\s+[\d.]+", out), out
    out = run("benchmarks.bench_identity_scale", "--task", "link", "--n", "3000")
    for method in ("ours", "splink"):
        assert re.search(rf"{method}\s+[\d.]+ s\s+peak\s+\d+ MiB\s+precision [\d.]+\s+recall [\d.]+\s+F1 [\d.]+", out), out


def test_clv_benchmark():
    out = run("benchmarks.bench_clv")
    for name in ("r", "alpha", "a", "b"):
        assert re.search(rf"BG/NBD {name}\s+[\d.]+\s+[\d.]+\s+[\d.]+", out), out
    assert re.search(r"holdout weeks 40-78: actual [\d,]+ repeat purchases; predicted: ours [\d,.]+", out), out


def test_churn_benchmark():
    out = run("benchmarks.bench_churn", "--quick")  # the full run's searches take minutes
    for name in ("ours", "xgboost \\(tuned\\)", "random forest", "logistic regression"):
        assert re.search(rf"{name}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+", out), out


def test_forecast_benchmark():
    out = run("benchmarks.bench_forecast")
    for name in ("ours", "ets", "sarima", "theta", "seasonal_naive"):
        assert re.search(rf"{name}\s+MAPE\s+[\d.]+%\s+MASE [\d.]+", out), out


def test_forecast_series_benchmark():
    out = run("benchmarks.bench_forecast_series", "--quick")  # the full run takes two minutes
    for name in ("fpp2::a10", "fpp2::h02"):
        assert re.search(rf"{name}\s+(?:[\d.]+\s+){{7}}[+-][\d.]+%", out), out
    assert "worst against the best candidate: mean" in out


def test_models_benchmark(demo_cache):
    out = run("benchmarks.bench_models", "--cache", str(demo_cache))
    for task in ("churn", "clv", "leads", "forecast", "segments"):
        assert re.search(rf"^{task}\s+[\d.]+\s+([\d.]+|nan)\s+[\d,]+$", out, re.M), out
    assert re.search(r"all models retrained: [\d.]+ s", out) and re.search(r"scoring .*: [\d.]+ s for [\d,]+", out), out
    assert re.search(r"scoring, run by run: [\d.]+ s on a cache without scores, [\d.]+ s replacing", out), out
    assert re.search(r"plain XGBoost, defaults\s+[\d.]+ s", out) and re.search(r"Random Forest, 200 trees\s+[\d.]+ s", out)
    assert re.search(r"reasons for [\d,]+ customers: ours exact [\d.]+ s .* ours approximate [\d.]+ s .* row by row \(exact\) [\d.]+ s", out), out


def test_churn_demo_benchmark(demo_cache):
    out = run("benchmarks.bench_churn_demo", "--cache", str(demo_cache))
    for name in ("ours", "random forest", "majority class", "recency rule", "oracle"):
        assert re.search(rf"^{name}.*\s0\.\d{{4}}\s+0\.\d{{4}}$", out, re.M), out


def test_reports_benchmark(demo_cache):
    out = run("benchmarks.bench_reports", "--cache", str(demo_cache), "--reports", "6")
    assert re.search(r"ours \(DuckDB columnar copy\)\s+p50\s+[\d.]+ ms\s+p95", out), out
    assert re.search(r"plain SQLite GROUP BY\s+p50", out) and re.search(r"pandas groupby after read\s+p50", out), out
    for role in ("manager", "analyst", "field_rep"):
        assert re.search(rf"dashboard {role}: \d+ tiles in [\d,]+ ms", out), out
    for name in ("revenue", "active_customers", "churn_rate"):
        assert re.search(rf"one tile {name}: [\d,]+ ms", out), out
    assert re.search(r"after 1,000 changed sales: [\d,]+ rows in [\d,]+ ms", out), out


def test_exports_benchmark():
    out = run("benchmarks.bench_exports", "--rows", "3000")
    for name in ("ours-xlsx", "openpyxl-xlsx", "ours-csv", r"ours-pdf \(10,000 rows\)"):
        assert re.search(rf"^\s+{name}\s+[\d.]+ s\s+[\d.]+ MB$", out, re.M), out


def test_analyses_benchmark(demo_cache):
    out = run("benchmarks.bench_analyses", "--cache", str(demo_cache), "--repeat", "1")
    for name in ("cohorts", "RFM distribution", "affinity", "journey", "seasonality", "campaigns"):
        assert re.search(rf"^{name}.*\s[\d,]+ ms\s+[\d,]+ ms$", out, re.M), out


def test_central_load_benchmark():
    """Three desktops against a small centre: the figures print and the end checks pass
    (every note once at the centre, every parish equal, every note announced on Kafka)."""
    out = run("benchmarks.bench_central", "--desktops", "3", "--rounds", "1", "--customers", "600",
              "--concurrency", "2")
    assert re.search(r"3 desktops: 3 syncs .* push p50 [\d.]+ p95 [\d.]+ ms \(alone [\d.]+\)", out), out
    assert re.search(r"server CPU [\d.]+ ms/sync", out) and re.search(r"publisher: \d+ events", out), out
    assert "0 duplicated, 0 missing, 0 edits wrong, 0 desktops unlike the centre" in out and "NOTHING LOST" in out, out


def test_encryption_benchmark(demo_cache):
    out = run("benchmarks.bench_encryption", "--cache", str(demo_cache), "--sync-customers", "200",
              "--per-category", "5", "--profiles", "20")
    assert "converting it to SQLCipher took" in out
    for label in ("search p95", "360 p95", "open + first search", "rows/s"):
        assert re.search(rf"{re.escape(label)}\s+plain\s+[\d.]+ .*encrypted\s+[\d.]+ .*[+-][\d.]+%", out), (label, out)
