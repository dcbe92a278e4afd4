"""Diagnostics: one report of the installation's state, shown in Help > Diagnostics and printed
by ``c360 diagnostics``; ``save_bundle`` zips it with the recent logs for support.

Nothing secret leaves in a bundle: passwords never live in settings or logs (the keyring holds
them), and every text that goes into the zip passes ``core.logs.scrub`` once more, which also
masks e-mail addresses and phone- or TRN-shaped numbers.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from c360_desktop import __version__
from c360_desktop.core import logs
from c360_desktop.core.outputs import Output, OutputKind, check_outputs, write_all
from c360_desktop.core.progress import Cancelled, Progress
from c360_desktop.core.settings import Settings, config_dir, data_dir, settings_path
from c360_desktop.core.storage.cache import DB_ERRORS, Cache

BUNDLE = OutputKind("diagnostics bundle", "PK")
LIBRARIES = ("PySide6", "SQLAlchemy", "pydantic", "duckdb", "pandas", "numpy", "scikit-learn",
             "xgboost", "statsmodels", "confluent-kafka", "psycopg2-binary", "pyodbc", "rapidfuzz",
             "keyring")


@dataclass
class Diagnostics:
    """The report. Every part is plain data (JSON as it is)."""

    generated_at: str
    versions: dict[str, str]
    paths: dict[str, str]
    cache: dict[str, Any]
    sync: dict[str, Any]
    broker: dict[str, Any]
    plugins: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """The report as plain text, section by section, for the dialog and the terminal."""
        lines = [f"C360 Desktop diagnostics, {self.generated_at}"]
        for title, part in (("Versions", self.versions), ("Paths", self.paths), ("Cache", self.cache),
                            ("Sync", self.sync), ("Broker", self.broker)):
            lines += ["", title]
            lines += [f"  {label(key)}: {shown(key, value)}" for key, value in part.items()]
        lines += ["", "Plugins"]
        lines += [f"  {p.get('name')}: {'loaded' if p.get('loaded') else 'skipped: ' + str(p.get('reason'))}"
                  for p in self.plugins] or ["  (none reported)"]
        lines += ["", f"Recent log ({len(self.log)} lines)"]
        lines += [f"  {e.get('ts', '')} {e.get('level', '')} [{e.get('cid', '-')}] {e.get('logger', '')}: "
                  f"{e.get('msg', '')}" for e in self.log]
        return "\n".join(lines)


def human_bytes(value: Any) -> str:
    """A byte count as people read it (1.2 GB); anything else as it is."""
    if not isinstance(value, int):
        return str(value)
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value} bytes"


LABELS = {"size_bytes": "file size", "wal_bytes": "write-ahead log", "free_disk_bytes": "free disk space",
          "integrity_ms": "integrity check took", "last_sync_at": "last sync (UTC)",
          "outbox_pending": "changes not yet pushed", "outbox_failing": "of them failing",
          "conflicts_open": "conflicts to decide"}


def label(key: str) -> str:
    """How a report key reads for people."""
    return LABELS.get(key, key.replace("_", " "))


def shown(key: str, value: Any) -> str:
    """A report value as the text report and the dialog show it."""
    if key.endswith("_bytes"):
        return human_bytes(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_ms") and isinstance(value, int):
        return f"{value:,} ms"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _version(package: str) -> str:
    for name in (package, f"{package}-cpu"):  # xgboost comes as xgboost-cpu
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


class DiagnosticsService:
    """Collects the report for a cache (or none, when no cache could be opened)."""

    def __init__(self, cache: Cache | None, settings: Settings) -> None:
        self.cache, self.settings = cache, settings

    def collect(self, extra: dict[str, Any] | None = None, integrity: bool = True, log_lines: int = 200,
                progress: Progress | None = None) -> Diagnostics:
        """The report. ``extra`` adds what only the caller knows: ``versions`` (Qt's), ``broker``
        (the listener's state) and ``plugins`` (the load reports). The integrity check reads the
        whole cache (seconds on a large one); it can be cancelled through ``progress``."""
        progress = progress or Progress()
        extra = extra or {}
        versions = {"c360-desktop": __version__, "python": sys.version.split()[0],
                    "platform": platform.platform(), "sqlite": sqlite3.sqlite_version,
                    "frozen": str(bool(getattr(sys, "frozen", False)))}
        versions |= {name: _version(name) for name in LIBRARIES}
        versions |= extra.get("versions", {})
        paths = {"cache": str(self.cache.path) if self.cache else "(none open)",
                 "settings": str(settings_path()), "config folder": str(config_dir()),
                 "data folder": str(data_dir()), "log folder": str(logs.log_dir())}
        progress.update(0.05, "Checking the cache")
        report = Diagnostics(
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"), versions=versions, paths=paths,
            cache=self._cache(integrity, progress), sync=self._sync(), broker=self._broker(extra.get("broker")),
            plugins=list(extra.get("plugins", [])), log=logs.recent(log_lines))
        progress.update(1.0, "Diagnostics ready")
        return report

    def _cache(self, integrity: bool, progress: Progress) -> dict[str, Any]:
        if self.cache is None:
            return {"state": "no cache open"}
        path = self.cache.path
        conn = self.cache.reader()
        out: dict[str, Any] = {
            "size_bytes": _size(path), "wal_bytes": _size(path.with_name(path.name + "-wal")) or 0,
            "free_disk_bytes": shutil.disk_usage(path.parent).free}
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        out["schema_revision"] = row[0] if row else None
        out["customers"] = conn.execute("SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()[0]
        out["demo"] = self.cache.meta("demo_seed") is not None
        if integrity:
            out["integrity"], out["integrity_ms"] = self.integrity(progress)
        return out

    def integrity(self, progress: Progress | None = None) -> tuple[str, int]:
        """SQLite's quick_check on a connection of its own: "ok" or the first problems it names,
        and how long it took in ms. Cancelled through ``progress``."""
        assert self.cache is not None
        progress = progress or Progress()
        conn = self.cache.connect()
        conn.set_progress_handler(lambda: int(progress.cancelled), 10_000)
        started = time.perf_counter()
        try:
            rows = conn.execute("PRAGMA quick_check(5)").fetchall()
        except DB_ERRORS as exc:
            if progress.cancelled:
                raise Cancelled() from None
            return f"could not be checked: {exc}", int((time.perf_counter() - started) * 1000)
        finally:
            conn.close()
        found = "; ".join(str(r[0]) for r in rows)
        return found, int((time.perf_counter() - started) * 1000)

    def _sync(self) -> dict[str, Any]:
        profile = self.settings.profile()
        out: dict[str, Any] = {"profile": profile.name if profile else "(none: offline cache)"}
        if profile is not None:
            from sqlalchemy.engine import make_url

            try:
                url = make_url(profile.url)
                out["server"] = f"{url.get_backend_name()} at {url.host or 'localhost'}:{url.port or ''}/{url.database or ''}"
            except Exception:
                out["server"] = "(the profile's address cannot be read)"
            out["territory"] = ", ".join(profile.territory) or "all parishes"
        if self.cache is not None:
            conn = self.cache.reader()
            out["last_sync_at"] = self.cache.meta("last_sync_at") or "never"
            out["outbox_pending"] = conn.execute("SELECT count(*) FROM outbox WHERE pushed_at IS NULL").fetchone()[0]
            out["outbox_failing"] = conn.execute(
                "SELECT count(*) FROM outbox WHERE pushed_at IS NULL AND last_error IS NOT NULL").fetchone()[0]
            out["conflicts_open"] = conn.execute(
                "SELECT count(*) FROM sync_conflict WHERE resolved_at IS NULL").fetchone()[0]
        return out

    def _broker(self, state: dict[str, Any] | None) -> dict[str, Any]:
        profile = self.settings.profile()
        out: dict[str, Any] = {"bootstrap": (profile.kafka_bootstrap if profile else None) or "(not configured)"}
        if profile is not None and profile.kafka_bootstrap:
            out["security"] = profile.kafka_security_protocol
        out |= state or {}
        return out

    def save_bundle(self, path: Path, report: Diagnostics, force: bool = False) -> Path:
        """Zip the report (JSON and text), the settings file and the log files to ``path``, all or
        nothing; refuses to replace a file that is not an earlier bundle unless ``force``."""
        check_outputs([Output(path, BUNDLE, "bundle")], force=force)

        def write(tmp: Path) -> None:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("diagnostics.json", json.dumps(logs.scrub_data(report.to_dict()), indent=2, default=str))
                z.writestr("diagnostics.txt", logs.scrub(report.text()))
                if settings_path().exists():
                    z.writestr("settings.json", logs.scrub(settings_path().read_text("utf-8", errors="replace")))
                for log_file in logs.log_files():
                    z.writestr(f"logs/{log_file.name}", logs.scrub(log_file.read_text("utf-8", errors="replace")))

        write_all([(path, write)])
        if os.name == "posix":
            path.chmod(0o600)
        return path
