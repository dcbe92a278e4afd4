"""UI fixtures: panes wired to real services and a real worker pool."""

import pytest
from PySide6.QtWidgets import QApplication

from c360_desktop.core.settings import Settings
from c360_desktop.ui import app as app_mod
from c360_desktop.ui.workers import TaskRunner


@pytest.fixture
def runner(qtbot):
    r = TaskRunner()
    yield r
    r.wait()


def busiest_customer(services):
    return services.cache.reader().execute(
        "SELECT c.id, c.display_name FROM customer_summary m JOIN customer c ON c.id = m.customer_id "
        "ORDER BY m.txn_count DESC LIMIT 1").fetchone()


def unique_individual(services, offset=0):
    return services.cache.reader().execute("""
        SELECT c.id, c.display_name, c.primary_phone FROM customer c
        WHERE c.kind = 'individual' AND (SELECT count(*) FROM customer d WHERE d.display_name = c.display_name) = 1
          AND (SELECT count(DISTINCT p.customer_id) FROM contact_point p WHERE p.value = c.primary_phone) <= 1
        ORDER BY c.id LIMIT 1 OFFSET ?""", (offset,)).fetchone()


class Recorder:
    def __init__(self):
        self.asked: list[str] = []
        self.quit_code: int | None = None


@pytest.fixture
def launch(qtbot, monkeypatch):
    """Start the app as main() does; dialogs answer 'quit' and quitting is recorded."""
    rec = Recorder()
    launchers = []

    def ask(self, text):
        rec.asked.append(text)
        return app_mod.CHOICE_QUIT

    monkeypatch.setattr(app_mod.Launcher, "ask", ask)
    monkeypatch.setattr(app_mod.Launcher, "quit", lambda self, code, message=None: setattr(rec, "quit_code", code))

    def start(settings=None, cache=None):
        launcher = app_mod.Launcher(QApplication.instance(), settings or Settings(user_name="tester"), cache)
        launchers.append(launcher)
        launcher.start()
        return launcher

    yield start, rec
    for launcher in launchers:
        if launcher.window is not None:
            launcher.window.close()
        launcher.runner.wait()
        if launcher.services is not None:
            launcher.services.close()
