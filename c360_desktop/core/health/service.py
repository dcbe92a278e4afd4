"""Health checks for a desktop: the central database, Kafka, the cache, sync, models, disk.

Each check gives green (fine), amber (works, but look) or red (broken, or about to be), with a
reason a person can act on, so the Health pane, ``c360 health`` and a monitoring script read
the same verdicts. Thresholds are module constants, documented in the user guide.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from c360_desktop.core import logs
from c360_desktop.core.progress import Progress
from c360_desktop.core.settings import Settings
from c360_desktop.core.storage.cache import Cache

GREEN, AMBER, RED = "green", "amber", "red"
ORDER = {GREEN: 0, AMBER: 1, RED: 2}

SLOW_CENTRAL_MS = 500          # a round trip above this is amber
SYNC_AMBER_HOURS = 24          # no sync for a day: amber; for a week: red
SYNC_RED_HOURS = 7 * 24
OUTBOX_AMBER_HOURS = 1         # a change waiting longer than this to be pushed: amber
LAG_AMBER = 1_000              # Kafka messages this desktop has not stored yet
MODEL_AMBER_DAYS = 35          # a model older than this: amber
DRIFT_AMBER, DRIFT_RED = 0.1, 0.25   # PSI of the most shifted feature (core.analytics.registry)
FREE_RED_BYTES = 1_000_000_000       # under 1 GB free, or under the cache's own size: red
FREE_AMBER_BYTES = 5_000_000_000
SLACK_AMBER = 0.25             # a quarter of the cache file is free pages: VACUUM would shrink it


@dataclass(frozen=True)
class Check:
    """One verdict: what was checked, green/amber/red, why, and the measured value."""

    name: str
    status: str
    reason: str
    value: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def overall(checks: list[Check]) -> str:
    """The worst status among the checks (green for none)."""
    return max((c.status for c in checks), key=ORDER.__getitem__, default=GREEN)


def _hours_since(stamp: str | None, now: datetime) -> float | None:
    if not stamp:
        return None
    try:
        then = datetime.fromisoformat(stamp.replace(" ", "T")[:19]).replace(tzinfo=UTC)
    except ValueError:
        return None
    return (now - then).total_seconds() / 3600


def _age(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


class HealthService:
    """The checks for one cache and its settings. Network checks time out in a few seconds."""

    def __init__(self, cache: Cache, settings: Settings, timeout: float = 5.0) -> None:
        self.cache, self.settings, self.timeout = cache, settings, timeout

    def checks(self, integrity: bool = True, progress: Progress | None = None,
               now: datetime | None = None) -> list[Check]:
        """Every check, in the order the pane shows them."""
        progress = progress or Progress()
        now = now or datetime.now(UTC)
        steps: list[tuple[str, Callable[[], list[Check]]]] = [
            ("the central database", self.central), ("Kafka", self.kafka),
            ("the cache", lambda: self.cache_checks(integrity, progress)),
            ("sync", lambda: self.sync_checks(now)), ("the models", lambda: self.model_checks(now)),
            ("disk space", self.disk)]
        out: list[Check] = []
        for i, (what, step) in enumerate(steps):
            progress.update(i / len(steps), f"Checking {what}")
            out += step()
        progress.update(1.0, "Health checked")
        return out

    # -- the centre ---------------------------------------------------------------------------
    def central(self) -> list[Check]:
        profile = self.settings.profile()
        if profile is None:
            return [Check("central database", AMBER, "no connection profile: this cache does not sync "
                          "(Sync > Connections… adds one)")]
        from c360_desktop.core.sync import SyncError, password_for
        from c360_desktop.core.sync.central import Central

        started = time.perf_counter()
        try:
            central = Central(profile.url, password_for(profile.url), connect_timeout=int(self.timeout))
        except SyncError as exc:
            return [Check("central database", RED, str(exc)),
                    Check("schema compatibility", AMBER, "not checked: the central database is unreachable")]
        try:
            from c360_desktop.core.sync.central import tls_warning

            ms = (time.perf_counter() - started) * 1000
            in_clear = tls_warning(profile.url)
            status = AMBER if ms > SLOW_CENTRAL_MS or in_clear else GREEN
            reach = Check("central database", status, f"reachable at {central.host}"
                          + (f"; slow (over {SLOW_CENTRAL_MS} ms)" if ms > SLOW_CENTRAL_MS else "")
                          + (f"; {in_clear}" if in_clear else ""), f"{ms:.0f} ms")
            try:
                version = central.handshake()
            except SyncError as exc:
                return [reach, Check("schema compatibility", RED, str(exc))]
            return [reach, Check("schema compatibility", GREEN, f"central schema version {version} is supported",
                                 str(version))]
        finally:
            central.close()

    def kafka(self) -> list[Check]:
        from c360_desktop.core.alerts import kafka_config

        config = kafka_config(self.settings, create_id=False)
        if config is None:
            return [Check("Kafka", AMBER, "not configured: no live alerts (add Kafka to the connection)")]
        from c360_desktop.core.alerts.listener import consumer_lag, probe_kafka

        try:
            line = probe_kafka(config, self.timeout)
        except RuntimeError as exc:
            return [Check("Kafka", RED, str(exc)), Check("alert listener lag", AMBER, "not measured: Kafka is unreachable")]
        from c360_desktop.core.alerts.listener import kafka_tls_warning

        in_clear = kafka_tls_warning(config.bootstrap, config.security_protocol)
        reach = Check("Kafka", AMBER if "missing" in line or in_clear else GREEN,
                      line.removeprefix("Kafka: ") + (f"; {in_clear}" if in_clear else ""))
        try:
            lag = consumer_lag(config, self.timeout)
        except RuntimeError as exc:
            return [reach, Check("alert listener lag", AMBER, f"not measured: {exc}")]
        total = sum(lag.values())
        worst = max(lag, key=lag.__getitem__, default="")
        status = AMBER if total > LAG_AMBER else GREEN
        reason = ("every message is stored" if total == 0 else
                  f"{total:,} messages not yet stored (most on {worst})"
                  + ("; the listener is behind" if status == AMBER else ""))
        return [reach, Check("alert listener lag", status, reason, f"{total:,}")]

    # -- the cache ------------------------------------------------------------------------------
    def cache_checks(self, integrity: bool, progress: Progress) -> list[Check]:
        from c360_desktop.core.diagnostics.service import DiagnosticsService, human_bytes

        path = self.cache.path
        size = path.stat().st_size
        conn = self.cache.reader()
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])  # SQLCipher answers in text
        free_pages = conn.execute("PRAGMA freelist_count").fetchone()[0]
        slack = free_pages * page_size / size if size else 0.0
        out = [Check("cache size", AMBER if slack > SLACK_AMBER else GREEN,
                     (f"{human_bytes(free_pages * page_size)} of it is free pages" if free_pages else "no free pages")
                     + ("; compacting (VACUUM) would give it back" if slack > SLACK_AMBER else ""),
                     human_bytes(size))]
        out.append(self._encryption())
        if integrity:
            found, ms = DiagnosticsService(self.cache, self.settings).integrity(progress)
            out.append(Check("cache integrity", GREEN if found == "ok" else RED,
                             "SQLite's quick check found no damage" if found == "ok" else
                             f"damaged: {found}; sync from the centre into a new cache", f"{ms:,} ms"))
        else:
            out.append(Check("cache integrity", AMBER, "not checked this time"))
        return out

    def _encryption(self) -> Check:
        from c360_desktop.core.storage import keys

        if self.cache.encrypted:
            return Check("cache encryption", GREEN, "SQLCipher 4 with a random key kept in "
                         + ("C360_CACHE_KEY" if os.environ.get(keys.ENV_KEY) else "the OS keyring"), "encrypted")
        demo = self.cache.meta("demo_seed") is not None and self.cache.meta("last_sync_at") is None
        why = keys.available() or "opened plain"
        return Check("cache encryption", AMBER if demo else RED,
                     f"not encrypted ({why})" + ("; demo data only" if demo else
                                                 "; anyone with the file can read the customers"), "plain")

    def sync_checks(self, now: datetime) -> list[Check]:
        conn = self.cache.reader()
        profile = self.settings.profile()
        last = self.cache.meta("last_sync_at")
        hours = _hours_since(last, now)
        if profile is None:
            sync = Check("last sync", GREEN if last is None else AMBER,
                         "an offline cache: nothing to sync" if last is None else
                         f"synced {_age(hours or 0)} ago, but no connection profile is set now", last or "never")
        elif hours is None:
            sync = Check("last sync", AMBER, "never synced: press F5", "never")
        else:
            status = RED if hours > SYNC_RED_HOURS else AMBER if hours > SYNC_AMBER_HOURS else GREEN
            sync = Check("last sync", status, f"{_age(hours)} ago" + ("" if status == GREEN else
                         "; data may be out of date"), last or "")
        pending, failing, oldest = conn.execute(
            "SELECT count(*), sum(last_error IS NOT NULL), min(created_at) FROM outbox WHERE pushed_at IS NULL"
        ).fetchone()
        waited = _hours_since(oldest, now)
        if failing:
            backlog = Check("outbox backlog", RED, f"{failing:,} of {pending:,} local changes were refused by the "
                            "centre; see the sync details", f"{pending:,}")
        elif pending and waited is not None and waited > OUTBOX_AMBER_HOURS:
            backlog = Check("outbox backlog", AMBER, f"{pending:,} local changes waiting, the oldest for "
                            f"{_age(waited)}; they go out at the next sync", f"{pending:,}")
        else:
            backlog = Check("outbox backlog", GREEN, "no local change waiting" if not pending else
                            f"{pending:,} local changes go out at the next sync", f"{pending:,}")
        return [sync, backlog]

    def model_checks(self, now: datetime) -> list[Check]:
        conn = self.cache.reader()
        rows = conn.execute(
            "SELECT v.model, v.trained_at, (SELECT d.worst FROM model_drift d WHERE d.version = v.version "
            "ORDER BY d.checked_at DESC LIMIT 1) FROM model_version v WHERE v.trained_at = "
            "(SELECT max(w.trained_at) FROM model_version w WHERE w.model = v.model) ORDER BY v.model").fetchall()
        if not rows:
            return [Check("models", AMBER, "no model trained yet: Tools > Retrain all models (Ctrl+Shift+R), or c360 train all")]
        out = []
        for model, trained_at, worst in rows:
            hours = _hours_since(trained_at, now) or 0.0
            stale = hours > MODEL_AMBER_DAYS * 24
            drift = "drift not checked yet" if worst is None else f"drift (PSI) {worst:.2f}"
            status = (RED if worst is not None and worst > DRIFT_RED else
                      AMBER if stale or (worst is not None and worst > DRIFT_AMBER) else GREEN)
            why = [f"trained {_age(hours)} ago", drift]
            if stale:
                why.append(f"older than {MODEL_AMBER_DAYS} days: retrain")
            if worst is not None and worst > DRIFT_AMBER:
                why.append("today's customers differ from the training data: retrain")
            out.append(Check(f"model: {model}", status, "; ".join(why), trained_at))
        return out

    def disk(self) -> list[Check]:
        from c360_desktop.core.diagnostics.service import human_bytes

        free = shutil.disk_usage(self.cache.path.parent).free
        size = self.cache.path.stat().st_size
        folder = logs.log_dir()
        if free < FREE_RED_BYTES or free < size:
            return [Check("disk space", RED, "too little room for the cache to grow or for an upgrade's backup copy "
                          f"(the cache is {human_bytes(size)}); free some space", human_bytes(free))]
        status = AMBER if free < FREE_AMBER_BYTES else GREEN
        return [Check("disk space", status, f"free beside the cache; logs in {folder}", human_bytes(free))]


def as_text(checks: list[Check]) -> str:
    """One line per check (ok / warn / FAIL, name, value, reason) and the overall status."""
    marks = {GREEN: "ok  ", AMBER: "warn", RED: "FAIL"}
    width = max((len(c.name) for c in checks), default=0)
    lines = [f"{marks[c.status]}  {c.name:{width}}  {c.value:>10}  {c.reason}" for c in checks]
    return "\n".join([*lines, f"overall: {overall(checks)}"])


def report(checks: list[Check]) -> dict[str, Any]:
    """The JSON ``c360 health --json`` prints."""
    return {"status": overall(checks), "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "checks": [c.to_dict() for c in checks]}
