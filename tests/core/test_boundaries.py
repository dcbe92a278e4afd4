"""Architecture rules: the core runs without Qt; import-linter contracts hold."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCK_QT = """
import sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
            raise ImportError(f'Qt is not installed here ({name})')
sys.meta_path.insert(0, BlockQt())
"""


def test_core_and_cli_work_without_qt(demo_cache):
    code = BLOCK_QT + f"""
import pkgutil, importlib, c360_desktop.core
for m in pkgutil.walk_packages(c360_desktop.core.__path__, 'c360_desktop.core.'):
    if '.migrations' not in m.name:
        importlib.import_module(m.name)
import c360_desktop.plugin_api, server_sync
from c360_desktop.cli import main
sys.exit(main(['search', 'brown', '--cache', {str(demo_cache)!r}, '--limit', '3']))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 3


def test_import_contracts():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_start_up_does_not_load_the_database_engines():
    """SQLAlchemy, Alembic and the drivers cost most of a second to import; the window must not
    wait for them (they load when a cache is migrated or a sync runs)."""
    code = """
import sys
import c360_desktop.ui.app
from importlib.metadata import entry_points
from importlib.util import find_spec
for ep in entry_points(group="c360_desktop.plugins"):
    module = ep.value.split(":")[0]
    __import__(module + ".pane" if find_spec(module).submodule_search_locations else module)
heavy = [m for m in ("sqlalchemy", "alembic", "psycopg2", "pyodbc") if m in sys.modules]
print(",".join(heavy))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_ui_holds_no_sql():
    """Panes and widgets talk to services: no SQL text, no cache connections, anywhere in ui/."""
    import re

    sql = re.compile(r"""["'][^"']*\b(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)""")
    calls = re.compile(r"\.(reader|writer|connect)\(\)|\.execute(many)?\(")
    found = []
    for path in sorted((ROOT / "c360_desktop" / "ui").rglob("*.py")):
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if sql.search(line) or calls.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []
