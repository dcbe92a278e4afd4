"""Shared fixtures: isolated settings per test, a demo cache template copied per test, Qt offscreen."""

from __future__ import annotations

import gc
import itertools
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

# The suite runs on two workers sharing two cores. OpenMP pools (XGBoost, scikit-learn's histogram
# boosting) sized to the whole machine then spin against each other: one model test took 6 s alone
# and 85 s beside another. One OpenMP thread per worker, set before NumPy or XGBoost loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
# QtWebEngine (the map pane) loads late, as in the app: shared OpenGL contexts from the start.
from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402

QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("C360_SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))
DEMO_CUSTOMERS = 3_000
DEMO_SEED = 11
DEMO_AS_OF = date(2026, 11, 27)


@pytest.fixture(autouse=True)
def _fresh_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never-saved settings and an empty data dir for every test (napari's _fresh_settings)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("C360_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("C360_DATA_DIR", str(home / "data"))
    # Caches stay plain unless a test asks (tests read cache files with plain sqlite3);
    # tests/core/test_encryption.py and the encrypted sync test turn it on.
    monkeypatch.setenv("C360_CACHE_ENCRYPTION", "off")
    if os.environ.get("C360_TEST_ENCRYPTED") == "1":  # the whole suite on encrypted caches (a check by hand)
        monkeypatch.setenv("C360_CACHE_ENCRYPTION", "on")
        monkeypatch.setenv("C360_CACHE_KEY", "9e" * 32)


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_main_thread():
    """As in the app (ui.workers.collect_garbage_on_gui_thread): no automatic collection, which
    could destroy a previous test's Qt objects on a worker thread; collect here, between tests."""
    gc.disable()
    yield
    gc.collect()


@pytest.fixture
def log_folder(tmp_path, monkeypatch):
    """The app's logging (core.logs) into a folder of this test's own; undone afterwards."""
    import logging

    from c360_desktop.core import logs

    folder = tmp_path / "logs"
    monkeypatch.setenv("C360_LOG_DIR", str(folder))
    logs.setup(console=False)
    yield folder
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_c360", False)]:
        root.removeHandler(handler)
        handler.close()


@pytest.fixture
def log_file(log_folder):
    from c360_desktop.core import logs

    return log_folder / logs.LOG_FILE


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo cache built per session; tests get copies of it."""
    from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache

    out = tmp_path_factory.mktemp("template") / "demo.db"
    return build_demo_cache(out, DemoSpec(DEMO_CUSTOMERS, DEMO_SEED, DEMO_AS_OF))


@pytest.fixture
def demo_cache(demo_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cache.db"
    shutil.copyfile(demo_template, target)
    return target


@pytest.fixture
def services(demo_cache: Path):
    from c360_desktop.core.services import Services
    from c360_desktop.core.settings import Settings

    svc = Services.open(demo_cache, Settings(user_name="tester"))
    yield svc
    svc.close()


def save_screenshot(widget, name: str) -> Path:
    """Render a widget offscreen to test-artifacts/screenshots/NAME.png (look at it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


# ---- a real PostgreSQL with PostGIS, started once per session on a free loopback port; every
# test gets its own database copied from a seeded template ----

SEED_CUSTOMERS = 1_500
_names = itertools.count()


@pytest.fixture(scope="session")
def pg():
    from server_sync import admin
    from server_sync.devserver import DevPostgres

    server = DevPostgres(database="template_seeded").start()
    admin.init(server.url)
    admin.seed(server.url, SEED_CUSTOMERS, 5, as_of=date(2026, 11, 27))
    yield server
    server.close()


@pytest.fixture
def central_url(pg):
    """A fresh, seeded central database for this test."""
    return pg.create_database(f"t{next(_names)}", template="template_seeded")


@pytest.fixture
def central(central_url):
    """A psycopg2 connection to the test's central database, for making central changes."""
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(central_url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    yield conn
    conn.close()


@pytest.fixture
def keyring_store(monkeypatch):
    """An in-memory OS keyring, and new caches encrypted (tests/core/test_encryption.py, sign-in)."""
    import keyring
    from keyring.backend import KeyringBackend

    store: dict[tuple[str, str], str] = {}
    backend = type("MemoryBackend", (KeyringBackend,), {
        "priority": 1, "get_password": lambda s, a, b: store.get((a, b)),
        "set_password": lambda s, a, b, c: store.__setitem__((a, b), c),
        "delete_password": lambda s, a, b: store.pop((a, b), None)})()
    old = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("C360_CACHE_ENCRYPTION", "on")
    yield store
    keyring.set_keyring(old)
