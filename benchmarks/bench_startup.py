"""Time from launch to a usable window, and the app's memory with a big cache open.

Launch: wall time from spawning the process to the app printing C360_READY (window shown, search
box focused, event loop running), median of several runs. Baseline in the same run: a bare
PySide6 process that shows an empty main window, the floor any Qt app pays.

Memory: resident set size (RSS) of the app after a session on the cache: 30 searches typed into
the lookup pane and the customer opened in the 360 pane each time. Baseline: a bare PySide6
window with an empty table.

    python benchmarks/bench_startup.py --customers 200000 --memory-customers 1000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import demo_cache

BARE_QT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.setCentralWidget(QTableView()); w.resize(1280, 800); w.show()
def ready():
    if "--memory" in sys.argv:
        import psutil
        print("RSS", psutil.Process().memory_info().rss, flush=True)
    print("C360_READY", flush=True)
    app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""

APP_SESSION = """
import random, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from c360_desktop.core.settings import Settings
from c360_desktop.ui.app import Launcher
import psutil

app = QApplication(sys.argv[:1])
launcher = Launcher(app, Settings(user_name="bench"), sys.argv[1])
launcher.start()
names = []
state = {"i": 0}

def next_query():
    if launcher.window is None:
        return QTimer.singleShot(50, next_query)
    lookup = launcher.host.panes["lookup_pane"]
    profile = launcher.host.panes["profile_pane"]
    if not names:
        conn = launcher.services.cache.reader()
        (n,) = conn.execute("SELECT max(search_key) FROM customer").fetchone()
        rng = random.Random(3)
        for _ in range(30):
            row = conn.execute("SELECT display_name FROM customer WHERE search_key = ?", (rng.randint(1, n),)).fetchone()
            if row:
                names.append(row[0])
        lookup.sig_results_shown.connect(lambda q, c: lookup._open_row(0) if c else QTimer.singleShot(0, next_query))
        profile.timeline_model.sig_page_loaded.connect(lambda _n: QTimer.singleShot(0, next_query))
    if state["i"] >= len(names):
        print("RSS", psutil.Process().memory_info().rss, flush=True)
        print("C360_READY", flush=True)
        app.quit()
        return
    lookup.search_box.setText(names[state["i"]])
    state["i"] += 1

QTimer.singleShot(0, next_query)
app.exec()
"""


def env() -> dict[str, str]:
    e = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    e.setdefault("C360_CONFIG_DIR", str(Path(__file__).resolve().parent / "data" / "config"))
    return e


def run_until_ready(cmd: list[str]) -> tuple[float, int | None]:
    """Seconds from spawn to C360_READY, and the RSS the process reported (if any)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env())
    rss = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("RSS "):
            rss = int(line.split()[1])
        if line.strip() == "C360_READY":
            elapsed = time.perf_counter() - started
            proc.wait(timeout=60)
            return elapsed, rss
    raise RuntimeError(f"{cmd[:3]} exited with {proc.wait()} before it was ready")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=200_000, help="cache for the launch timing")
    ap.add_argument("--memory-customers", type=int, default=1_000_000, help="cache for the memory session")
    ap.add_argument("--cache", help="use this cache for the launch timing")
    ap.add_argument("--memory-cache", help="use this cache for the memory session")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    exe = Path(sys.executable)
    app_cmd = [str(exe.with_name("c360-desktop")), "--cache", str(demo_cache(args.customers, args.cache)),
               "--report-ready"]
    bare_cmd = [sys.executable, "-c", BARE_QT]
    run_until_ready(app_cmd)  # warm the OS file cache once, as a second start would be
    app_times = [run_until_ready(app_cmd)[0] for _ in range(args.runs)]
    bare_times = [run_until_ready(bare_cmd)[0] for _ in range(args.runs)]
    print(f"LAUNCH TO USABLE WINDOW ({Path(app_cmd[2]).name}, {args.runs} runs)")
    print(f"  c360-desktop     median {statistics.median(app_times):.2f} s   max {max(app_times):.2f} s")
    print(f"  bare PySide6     median {statistics.median(bare_times):.2f} s   max {max(bare_times):.2f} s  (baseline)")

    big = demo_cache(args.memory_customers, args.memory_cache)
    _t, app_rss = run_until_ready([sys.executable, "-c", APP_SESSION, str(big)])
    _t, bare_rss = run_until_ready([sys.executable, "-c", BARE_QT, "--memory"])
    print(f"MEMORY (RSS) after 30 searches and 30 profiles on {big.name}")
    print(f"  c360-desktop     {app_rss / 2**20:6.0f} MiB")
    print(f"  bare PySide6     {bare_rss / 2**20:6.0f} MiB  (baseline)")


if __name__ == "__main__":
    main()
