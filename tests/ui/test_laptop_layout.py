"""The whole window on a laptop screen (1366 x 768): each role's first layout fits, every pane
opens as a tab beside the lookup, and opening every pane in turn never makes the window wider or
taller than the screen (the most common complaint about dock-based Qt apps on small screens).

The screen size is set through the offscreen platform's configuration file, which Qt reads when
the application starts, so each role's run is a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.ui, pytest.mark.slow]

SCRIPT = textwrap.dedent("""
    import json, sys, time
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv[:1])
    from c360_desktop.core.settings import Settings
    from c360_desktop.ui import app as app_mod

    cache, role, shots = sys.argv[1], sys.argv[2], sys.argv[3]

    def settle(seconds):
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()

    launcher = app_mod.Launcher(app, Settings(user_name="tester", role=role), cache)
    launcher.start()
    while launcher.window is None:
        app.processEvents()
    window = launcher.window
    settle(2.5)
    screen = window.screen().availableGeometry()
    out = {"screen": [screen.width(), screen.height()], "role": role, "panes": {}}
    shown = [n for n, d in window.docks.items() if d.isVisible()]
    # a tab behind another is moved out of the window; the tab in front is inside it
    front = [n for n, d in window.docks.items() if d.isVisible() and window.rect().contains(d.geometry().center())]
    out["first"] = {"size": [window.frameGeometry().width(), window.frameGeometry().height()],
                    "open": shown, "in_front": front}
    window.grab().save(f"{shots}/laptop_{role}_first_start.png")
    for name, dock in window.docks.items():
        dock.show()
        dock.raise_()
        settle(0.4)
        scroll = dock.widget()
        pane = scroll.widget()
        out["panes"][name] = {
            "window": [window.frameGeometry().width(), window.frameGeometry().height()],
            "tabbed_with_360": name in [d.objectName() for d in window.tabifiedDockWidgets(window.docks["profile_pane"])],
            "left": window.dockWidgetArea(dock).name,
            "room": [scroll.viewport().width(), scroll.viewport().height()],
            "needs": [pane.minimumSizeHint().width(), pane.minimumSizeHint().height()],
        }
        if name == "reports_pane":
            window.grab().save(f"{shots}/laptop_{role}_reports.png")
    print("RESULT " + json.dumps(out))
    launcher.runner.wait()
    window.close()
""")


@pytest.mark.parametrize("role,first", [("manager", "dashboard_pane"), ("analyst", "reports_pane"),
                                        ("field_rep", "leads_pane"), ("data_steward", "quality_pane")])
def test_every_pane_fits_a_laptop_screen(tmp_path, demo_cache, role, first):
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
                                               "dpi": 96, "dpr": 1}]}))
    script = tmp_path / "laptop.py"
    script.write_text(SCRIPT)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu"}
    r = subprocess.run([sys.executable, str(script), str(demo_cache), role, str(SCREENSHOTS)], env=env,
                       capture_output=True, text=True, timeout=300)
    lines = [line for line in r.stdout.splitlines() if line.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stderr[-3000:]
    got = json.loads(lines[0][len("RESULT "):])
    assert got["screen"] == [1366, 768]
    width, height = got["first"]["size"]
    assert width <= 1366 and height <= 768
    # the role's own pane is open and in front, beside the lookup and the 360 view
    assert {"lookup_pane", "profile_pane", first} <= set(got["first"]["open"])
    assert first in got["first"]["in_front"] and "lookup_pane" in got["first"]["in_front"]
    for name, pane in got["panes"].items():
        assert pane["window"][0] <= 1366 and pane["window"][1] <= 768, (name, pane)
        if name == "lookup_pane":
            assert pane["left"] == "LeftDockWidgetArea"
            continue
        assert name == "profile_pane" or pane["tabbed_with_360"], name
        # each pane fits the room its tab has, without scrolling sideways
        assert pane["needs"][0] <= pane["room"][0], (name, pane)
