"""The frozen one-folder app (PyInstaller), built as CI builds it and run as a user would: the
smoke test, the command line, and a scan for the failures PyInstaller and Qt are known for."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "c360"
# one worker builds and runs the bundle (README runs the suite with --dist loadfile)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("frozen")]
# What Qt prints when a frozen app misses its platform plugin or Chromium's helper process
FATAL = ("Could not find the Qt platform plugin", "Could not load the Qt platform plugin",
         "This application failed to start", "QtWebEngineProcess not found",
         "Could not find QtWebEngineProcess", "ModuleNotFoundError", "ImportError")


def run(*cmd, timeout=300, **kw):
    env = {**os.environ, "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu"}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, env=env, **kw)


@pytest.fixture(scope="module")
def bundle():
    r = run(sys.executable, ROOT / "packaging" / "build.py", timeout=1800, cwd=ROOT)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "bundle:" in r.stdout
    return BUNDLE


def test_the_bundle_holds_no_test_tools_tk_or_unused_qt(bundle):
    listing = (bundle.parent / "c360-files.txt").read_text()
    for unwanted in ("/_pytest/", "/hypothesis/", "tkinter", "libQt63D", "libQt6Multimedia", "/Qt/qml/"):
        assert unwanted not in listing, unwanted
    registry = json.loads((bundle / "_internal" / "c360_desktop" / "frozen_plugins.json").read_text())
    assert {"lookup", "profile", "map", "models", "health", "quickbooks"} <= set(registry)
    assert "example" not in registry  # a third-party plugin of the dev environment stays out


def test_the_frozen_app_passes_its_smoke_test(bundle):
    r = run(bundle / "c360-desktop", "--smoke-test")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.rstrip().endswith("smoke test passed")
    assert "(12 panes)" in r.stdout or "(13 panes)" in r.stdout
    for marker in FATAL:
        assert marker not in r.stderr, marker


def test_the_frozen_command_line_builds_a_cache_and_searches_it(bundle, tmp_path):
    r = run(bundle / "c360", "--help")
    assert r.returncode == 0 and "search" in r.stdout and "health" in r.stdout
    env_dirs = {"C360_CONFIG_DIR": tmp_path / "config", "C360_DATA_DIR": tmp_path / "data",
                "C360_LOG_DIR": tmp_path / "logs"}
    for k, v in env_dirs.items():
        os.environ[k] = str(v)
    try:
        cache = tmp_path / "frozen.db"
        r = run(bundle / "c360", "demo-data", "--customers", "300", "--seed", "3", "--out", cache)
        assert r.returncode == 0, r.stderr[-2000:]
        r = run(bundle / "c360", "search", "brown", "--cache", cache, "--json", "--limit", "5")
        assert r.returncode == 0, r.stderr[-2000:]
        hits = json.loads(r.stdout)
        assert hits and "brown" in hits[0]["display_name"].lower()
        r = run(bundle / "c360", "health", "--cache", cache, "--json")
        assert json.loads(r.stdout)["status"] in ("green", "amber")
    finally:
        for k in env_dirs:
            os.environ.pop(k, None)
    for marker in FATAL:
        assert marker not in r.stderr, marker


def test_the_frozen_benchmark_prints_both_launch_figures_and_the_size(bundle, demo_cache):
    import re

    r = run(sys.executable, "-m", "benchmarks.bench_frozen", "--cache", demo_cache, "--runs", "1", cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"BUNDLE .*: [\d,]+ MB unpacked", r.stdout), r.stdout
    for name in ("frozen bundle", "source install"):
        assert re.search(rf"{name}\s+median [\d.]+ s", r.stdout), r.stdout
    assert re.search(r"frozen / source: [\d.]+x", r.stdout)
