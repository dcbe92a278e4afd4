"""The whole app: first start, bad caches, layout that persists, shortcuts."""

import hashlib
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QPushButton

from c360_desktop.core.settings import Settings, data_dir, save_settings
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_first_start_builds_the_demo_cache_with_progress(qtbot, launch):
    start, rec = launch
    settings = Settings(user_name="tester", demo_customers=400)
    launcher = start(settings)
    assert launcher._progress is not None and launcher._progress.isVisible()
    save_screenshot(launcher._progress, "first_start_progress")
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=60_000)
    window = launcher.window
    qtbot.waitUntil(lambda: "customers" in window.count_label.text(), timeout=10_000)
    qtbot.wait(50)  # let the status bar lay itself out before the screenshot
    assert (data_dir() / "demo-cache.db").exists()
    count = launcher.services.stats().customers
    assert window.count_label.text() == f"{count:,} customers" and count >= 400
    assert "never" in window.sync_label.text()
    qtbot.wait(100)  # nothing may quit the app once the build is done (closing the dialog)
    assert rec.asked == [] and rec.quit_code is None and window.isVisible()
    save_screenshot(window, "main_window_first_start")


@pytest.mark.slow
def test_a_new_demo_cache_is_prepared_once_with_models_scores_and_pairs(qtbot, launch):
    """The README's first command: the app opens on a new demo cache, then trains the models,
    scores every customer, fills the review queue and raises the budget alerts in the
    background, so the 360 view shows scores and the model dashboard a trained model."""
    start, rec = launch
    settings = Settings(user_name="tester", demo_customers=5000, role="manager")  # enough for every model
    launcher = start(settings)
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=60_000)
    controller = launcher.first_start
    assert controller.needed
    with qtbot.waitSignal(controller.sig_prepared, timeout=300_000) as prepared:
        qtbot.waitUntil(lambda: controller.task is not None, timeout=10_000)
        assert controller.bar.isVisible() or controller.task.done
    got = prepared.args[0]
    services = launcher.services
    conn = services.cache.reader()
    assert sorted(got.trained) == sorted(("churn", "clv", "leads", "forecast", "segments"))
    trained = {m for (m,) in conn.execute("SELECT DISTINCT model FROM model_version")}
    assert {"churn", "clv", "lead", "forecast", "segments"} <= trained
    (buyers,) = conn.execute('SELECT count(DISTINCT customer_id) FROM "transaction" WHERE deleted_at IS NULL').fetchone()
    (valued,) = conn.execute("SELECT count(*) FROM score WHERE model = 'clv' AND deleted_at IS NULL").fetchone()
    assert got.scored >= valued == buyers > 0 and got.skipped == {}  # every buyer has a lifetime value
    (pairs,) = conn.execute("SELECT count(*) FROM review_pair WHERE status = 'pending'").fetchone()
    assert got.pairs == pairs > 0
    # the budget monitor (8 s after start) or the preparation alerted every campaign heading past
    # its budget (the demo is built as of today: whether one is depends on the date)
    over = services.reports.campaigns(services.reports.last_sale_day()).over_budget()
    alerted = {r[0] for r in conn.execute("SELECT title FROM alert WHERE type = 'campaign_budget'")}
    assert {t.split(" will pass")[0] for t in alerted} == set(over["campaign"])
    assert "models trained" in launcher.window.statusBar().currentMessage()
    # the 360 view of a customer shows each score with its reasons, not "not scored"
    profile = launcher.host.panes["profile_pane"]
    cid = conn.execute("SELECT customer_id FROM score WHERE deleted_at IS NULL GROUP BY customer_id "
                       "HAVING count(DISTINCT model) = 3 ORDER BY customer_id LIMIT 1").fetchone()[0]
    profile.show_customer(cid)
    qtbot.waitUntil(lambda: profile.customer_id == cid and profile.header.scores.text() != "", timeout=10_000)
    assert "not scored" not in profile.header.scores.text()
    save_screenshot(launcher.window, "first_start_prepared")
    # once only: the next start of the same cache has nothing to prepare
    launcher.window.close()
    again = start(settings)
    qtbot.waitUntil(lambda: again.window is not None, timeout=60_000)
    assert not again.first_start.needed and rec.asked == []


def test_cancelling_the_first_start_build_leaves_nothing(qtbot, launch):
    start, rec = launch
    launcher = start(Settings(user_name="tester", demo_customers=200_000))
    qtbot.waitUntil(lambda: launcher._progress.value() > 0, timeout=30_000)
    cancel_button = launcher._progress.findChild(QPushButton)
    assert cancel_button.text() == "Cancel"
    qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rec.quit_code is not None, timeout=30_000)
    assert rec.quit_code == 1 and launcher.window is None
    assert list(data_dir().iterdir()) == []


@pytest.mark.parametrize("kind, message", [
    ("corrupt", "not an SQLite database"),
    ("foreign", "not a C360 cache"),
    ("newer", "newer C360 Desktop"),
    ("missing", "There is no cache at"),
])
def test_bad_caches_are_explained_and_left_untouched(qtbot, launch, tmp_path, demo_cache, kind, message):
    start, rec = launch
    path = tmp_path / f"{kind}.db"
    if kind == "corrupt":
        path.write_bytes(b"\x00garbage" * 500)
    elif kind == "foreign":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    elif kind == "newer":
        path.write_bytes(demo_cache.read_bytes())
        conn = sqlite3.connect(path)
        conn.execute("UPDATE alembic_version SET version_num = '0042'")
        conn.commit()
        conn.close()
    before = sha(path) if path.exists() else None
    launcher = start(cache=str(path))
    qtbot.waitUntil(lambda: bool(rec.asked), timeout=10_000)
    assert message in rec.asked[0] and str(path) in rec.asked[0]
    assert rec.quit_code == 1 and launcher.window is None
    assert (sha(path) if path.exists() else None) == before


def test_an_unwritable_data_dir_is_explained(qtbot, launch, tmp_path, monkeypatch):
    start, rec = launch
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    monkeypatch.setenv("C360_DATA_DIR", str(blocker / "c360"))
    start(Settings(user_name="tester", demo_customers=100))
    qtbot.waitUntil(lambda: bool(rec.asked), timeout=30_000)
    assert "Cannot create a cache in" in rec.asked[0] and "blocker" in rec.asked[0]
    assert rec.quit_code == 1
    assert blocker.read_text() == "a file, not a folder"


def test_window_geometry_and_docks_persist(qtbot, launch, demo_cache):
    start, _ = launch
    first = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: first.window is not None, timeout=10_000)
    first.window.resize(760, 540)  # fits the offscreen screen (800 x 600)
    dock = first.window.findChild(QDockWidget, "lookup_pane")
    first.window.removeDockWidget(dock)
    first.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.show()
    first.window.close()
    second = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: second.window is not None, timeout=10_000)
    assert (second.window.width(), second.window.height()) == (760, 540)
    dock2 = second.window.findChild(QDockWidget, "lookup_pane")
    assert second.window.dockWidgetArea(dock2) == Qt.DockWidgetArea.RightDockWidgetArea


def test_ctrl_k_focuses_search_from_anywhere_and_enter_opens(qtbot, launch, demo_cache):
    start, _ = launch
    launcher = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
    window = launcher.window
    lookup, profile = launcher.host.panes["lookup_pane"], launcher.host.panes["profile_pane"]
    window.activateWindow()
    profile.notes.editor.setFocus()
    qtbot.waitUntil(lambda: profile.notes.editor.hasFocus(), timeout=5_000)
    qtbot.keyClick(profile.notes.editor, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: lookup.search_box.hasFocus(), timeout=5_000)
    name = launcher.services.cache.reader().execute(
        "SELECT display_name FROM customer WHERE kind = 'business' LIMIT 1").fetchone()[0]
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        qtbot.keyClicks(lookup.search_box, name)
        qtbot.keyClick(lookup.search_box, Qt.Key.Key_Return)  # before the results are in
    assert profile.header.title.text() == name
    # the 360 view is a tab beside the analyst's reports: opening a customer brings it to the front
    dock = window.docks["profile_pane"]
    qtbot.waitUntil(lambda: window.rect().contains(dock.geometry().center()), timeout=5_000)
    assert not window.rect().contains(window.docks["reports_pane"].geometry().center())
    qtbot.waitUntil(lambda: profile.timeline_model.rowCount() > 0, timeout=10_000)
    qtbot.wait(100)  # let the columns size themselves to the new rows before the screenshot
    save_screenshot(window, "main_window")


def test_settings_file_decides_which_cache_opens(qtbot, launch, demo_cache):
    start, _ = launch
    save_settings(Settings(cache_path=str(demo_cache)))
    from c360_desktop.core.settings import load_settings

    settings, _ = load_settings()
    launcher = start(settings)
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
    assert launcher.services.cache.path == demo_cache.resolve()


def test_about_box_names_the_data_sources(qtbot, launch, demo_cache):
    start, _ = launch
    launcher = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
    seen = {}

    def read_and_close():
        box = QApplication.activeModalWidget()
        seen["text"] = box.text()
        save_screenshot(box, "about_box")
        box.accept()

    QTimer.singleShot(200, read_and_close)
    launcher.window.show_about()
    assert "GeoNames" in seen["text"] and "CC BY 4.0" in seen["text"] and "Natural Earth" in seen["text"]


def test_opening_another_cache_stops_the_old_sync_schedule(qtbot, launch, demo_template, tmp_path):
    import shutil

    from c360_desktop.core.settings import ConnectionProfile

    start, _ = launch
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    shutil.copyfile(demo_template, first)
    shutil.copyfile(demo_template, second)
    settings = Settings(user_name="tester", sync_every_minutes=15, active_profile="office",
                        profiles=[ConnectionProfile(name="office", url="postgresql+psycopg2://rep@db.example/c360")])
    launcher = start(settings, cache=str(first))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
    old_sync, old_window = launcher.sync, launcher.window
    assert old_sync.timer.isActive()
    launcher.open(second)
    qtbot.waitUntil(lambda: launcher.window is not old_window, timeout=10_000)
    assert not old_sync.timer.isActive()  # the closed window must not keep syncing the old cache
    assert launcher.sync.timer.isActive() and launcher.services.cache.path == second.resolve()


def test_an_older_cache_shows_its_upgrade_then_opens(qtbot, launch, tmp_path):
    from c360_desktop.core.storage.cache import HEAD, REVISIONS
    from tests.core.test_storage import _cache_at

    path, older = tmp_path / "old.db", REVISIONS[-2]
    conn = _cache_at(path, older)  # the schema before this version's
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    start, rec = launch
    launcher = start(cache=str(path))
    dialog = launcher._progress  # shown before the upgrade starts on its worker
    assert dialog is not None and dialog.isVisible()
    assert f"Upgrading old.db from schema {older} to {HEAD}" in dialog.labelText() and "backup copy" in dialog.labelText()
    save_screenshot(dialog, "cache_upgrade_progress")
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=30_000)
    assert not dialog.isVisible() and rec.asked == []
    assert f"upgraded from schema {older}" in launcher.window.statusBar().currentMessage()
    assert Path(f"{path}.pre-{HEAD}.bak").exists()


def test_a_cache_whose_log_lost_changes_says_so_in_the_status_bar(qtbot, launch, tmp_path):
    from tests.core.test_wal_damage import crashed_copy

    path = crashed_copy(tmp_path)
    log_file = Path(f"{path}-wal")
    data = bytearray(log_file.read_bytes())
    page_size = int.from_bytes(data[8:12], "big")
    data[32 + 24 + page_size + 24 + 50] ^= 0xFF  # the second frame's page
    log_file.write_bytes(bytes(data))
    start, _rec = launch
    launcher = start(cache=str(path))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=30_000)
    message = launcher.window.statusBar().currentMessage()
    assert message.startswith("Warning: ") and "recent change set(s) were lost from a damaged log file" in message
    save_screenshot(launcher.window, "cache_wal_damaged")
