"""``c360-desktop --smoke-test``: does this installation work, end to end, without a person?

On a fresh demo cache in a temporary folder (the user's own settings, caches and logs are not
touched) the app starts as usual, then: a search, a 360 view, the offline map (QtWebEngine, its
helper process and the bundled Leaflet files) and the model dashboard, each drawn offscreen.
One line per step on stdout; the first failing step on stderr and exit code 1. Made for the
frozen bundle and the installed app, where a missing Qt plugin or file shows nowhere else.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

SMOKE_CUSTOMERS = 400
STEP_TIMEOUT_S = 60.0


class SmokeFailure(Exception):
    pass


def isolate() -> Path:
    """A temporary home for this run's settings, data and logs; offscreen unless a display was
    asked for. Called before the QApplication exists."""
    home = Path(tempfile.mkdtemp(prefix="c360-smoke-"))
    for name, sub in (("C360_CONFIG_DIR", "config"), ("C360_DATA_DIR", "data"), ("C360_LOG_DIR", "logs")):
        os.environ[name] = str(home / sub)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return home


def _wait(app: Any, done: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what} did not happen within {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.01)


def run(app: Any, home: Path) -> int:
    """Every step in order; 0 if all passed."""
    from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache
    from c360_desktop.core.settings import Settings
    from c360_desktop.ui import app as app_mod
    from c360_desktop.ui.main_window import refresh_and_bring_forward, show_tab

    state: dict[str, Any] = {}
    step = "build a demo cache"
    try:
        started = time.perf_counter()

        def report(name: str) -> None:
            print(f"smoke: {name}: ok ({(time.perf_counter() - started) * 1000:.0f} ms)", flush=True)

        cache = home / "smoke.db"
        build_demo_cache(cache, DemoSpec(SMOKE_CUSTOMERS, 7))
        report(step)

        step = "open the main window"
        launcher = app_mod.Launcher(app, Settings(user_name="smoke-test", role="manager"), str(cache))
        launcher.explain = lambda text: state.setdefault("problem", text)  # type: ignore[method-assign]
        launcher.start()
        _wait(app, lambda: launcher.window is not None or "problem" in state, "the main window")
        if "problem" in state:
            raise SmokeFailure(state["problem"])
        assert launcher.host is not None and launcher.window is not None
        panes = launcher.host.panes
        failed = [r for r in launcher.plugin_reports if not r.loaded]
        if failed or len(panes) < 8:
            raise SmokeFailure(f"{len(panes)} panes; skipped plugins: "
                               + "; ".join(f"{r.name}: {r.reason}" for r in failed))
        report(f"{step} ({len(panes)} panes)")

        step = "search"
        lookup = panes["lookup_pane"]
        lookup.sig_results_shown.connect(lambda _q, n: state.__setitem__("found", n))
        lookup.search_box.setText("brown")
        _wait(app, lambda: "found" in state, "search results")
        if not state["found"]:
            raise SmokeFailure("a search for 'brown' found nobody in the demo")
        report(f"{step} ({state['found']} found)")

        step = "open a 360 view"
        profile = panes["profile_pane"]
        profile.sig_profile_shown.connect(lambda cid: state.__setitem__("shown", cid))
        customer = lookup.model.hit(0).customer_id  # the first hit, as Enter in the search box opens it
        launcher.host.open_customer(customer)
        _wait(app, lambda: state.get("shown") == customer, "the 360 view")
        report(step)

        step = "render the map"
        map_pane = panes["map_pane"]
        if not map_pane.is_ready():
            map_pane.sig_page_ready.connect(lambda: state.__setitem__("map", True))
            show_tab(map_pane)
            _wait(app, lambda: state.get("map") or map_pane.is_ready(), "the map page (QtWebEngine)")
        _grab(map_pane, home / "map.png")
        report(step)

        step = "render the model dashboard"
        models = panes["models_pane"]
        refresh_and_bring_forward(models)
        for _ in range(50):
            app.processEvents()
        _grab(models, home / "models.png")
        report(step)

        step = "close"
        launcher.window.close()
        launcher.runner.wait()
        launcher.services.close()
        report(step)
    except Exception as exc:
        print(f"smoke test failed at step '{step}': {exc}", file=sys.stderr, flush=True)
        if not isinstance(exc, SmokeFailure):
            traceback.print_exc(file=sys.stderr)
        return 1
    print("smoke test passed", flush=True)
    return 0


def _grab(widget: Any, path: Path) -> None:
    image = widget.grab()
    if image.isNull() or image.width() < 50 or not image.save(str(path)):
        raise SmokeFailure(f"the pane could not be drawn ({image.width()}x{image.height()})")
