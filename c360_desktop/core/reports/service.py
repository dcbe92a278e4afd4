"""ReportService: the reports panes, the CLI and schedules ask of the cache."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from c360_desktop.core.progress import Progress
from c360_desktop.core.reports import analyses, campaigns
from c360_desktop.core.reports.columnar import ColumnarCopy, CopyUnavailable
from c360_desktop.core.reports.export import Format, Manifest, Table, export
from c360_desktop.core.reports.query import ReportQuery, ReportResult, run_query
from c360_desktop.core.reports.semantic import Dialect, ReportError
from c360_desktop.core.security import Permission, User, can
from c360_desktop.core.storage.cache import Cache

log = logging.getLogger(__name__)


Engine = Literal["auto", "columnar", "sqlite"]


class ReportService:
    """Reports from the columnar copy (core.reports.columnar) when it can be used, else from the
    cache itself (the same figures, slower)."""

    def __init__(self, cache: Cache, user: Callable[[], User], engine: Engine = "auto") -> None:
        self._cache = cache
        self._user = user
        self.engine: Engine = engine
        self._copy: ColumnarCopy | None = None
        self.unavailable = ""  # why the columnar copy is not used, if it is not

    def prepare(self, progress: Progress | None = None) -> bool:
        """Open (building if need be) and refresh the columnar copy; whether it is in use."""
        if self.engine == "sqlite":
            return False
        if self._copy is None:
            self._copy = ColumnarCopy(self._cache)
        try:
            self._copy.ready(progress)
        except CopyUnavailable as exc:
            if self.engine == "columnar":
                raise ReportError(f"the reports copy cannot be used: {exc}") from None
            self.unavailable = str(exc)
            log.warning("reports from the cache itself: %s", exc)
            self.engine = "sqlite"
            return False
        return True

    def refresh(self) -> int:
        """Bring the columnar copy up to date with the cache's changes; rows copied again."""
        return self._copy.refresh() if self._copy is not None and self.engine != "sqlite" else 0

    def close(self) -> None:
        if self._copy is not None:
            self._copy.close()

    def scoped(self, q: ReportQuery) -> ReportQuery:
        """The query limited to the parishes the user may see (a field rep: their territory)."""
        user = self._user()
        if can(user, Permission.VIEW_ALL_TERRITORIES) or not user.territory:
            return q
        return replace(q, scope=tuple(user.territory))

    @contextlib.contextmanager
    def reader(self, progress: Progress | None = None) -> Iterator[tuple[Any, Dialect]]:
        """A connection to read reports from and its SQL dialect: a cursor on the columnar copy
        ("duckdb"), or the cache's own reader ("sqlite") when the copy cannot be used."""
        if self.prepare(progress):
            assert self._copy is not None
            with self._copy.cursor() as cur:
                yield cur, "duckdb"
        else:
            yield self._cache.reader(), "sqlite"

    def scope(self) -> tuple[str, ...] | None:
        """The parishes the user may see (None: all)."""
        return self.scoped(ReportQuery(("revenue",))).scope

    def query(self, q: ReportQuery, progress: Progress | None = None) -> ReportResult:
        q = self.scoped(q)
        q.check()
        with self.reader(progress) as (conn, dialect):
            return run_query(conn, q, dialect)

    # -- the ready-made analyses (core.reports.analyses), limited to the user's parishes ----------
    def cohorts(self, start: date, end: date, months: int = 12, where: analyses.Filters = (),
                progress: Progress | None = None) -> analyses.Cohorts:
        with self.reader(progress) as (conn, dialect):
            return analyses.cohorts(conn, dialect, start, end, months, where, self.scope())

    def rfm(self, as_of: date, where: analyses.Filters = (), progress: Progress | None = None) -> analyses.RfmDistribution:
        with self.reader(progress) as (conn, dialect):
            return analyses.rfm(conn, dialect, as_of, where, self.scope())

    def affinity(self, start: date, end: date, window_days: int = 30, where: analyses.Filters = (),
                 min_customers: int = 5, progress: Progress | None = None) -> analyses.Affinity:
        with self.reader(progress) as (conn, dialect):
            return analyses.affinity(conn, dialect, start, end, window_days, where, self.scope(), min_customers)

    def journey(self, as_of: date, lapse_days: int = 180, where: analyses.Filters = (),
                progress: Progress | None = None) -> analyses.Journey:
        with self.reader(progress) as (conn, dialect):
            return analyses.journey(conn, dialect, as_of, lapse_days, where, self.scope())

    def seasonality(self, start: date, end: date, where: analyses.Filters = (),
                    progress: Progress | None = None) -> analyses.Seasonality:
        with self.reader(progress) as (conn, dialect):
            return analyses.seasonality(conn, dialect, start, end, where, self.scope())

    def campaigns(self, as_of: date, start: date | None = None, end: date | None = None, window_days: int = 30,
                  progress: Progress | None = None) -> campaigns.CampaignReport:
        """Spend, leads, conversions, revenue, CPA, ROAS, ROI and budget per campaign (see
        core.reports.campaigns for the attribution rule)."""
        with self.reader(progress) as (conn, dialect):
            return campaigns.campaign_report(conn, dialect, as_of, start, end, window_days, self.scope())

    def raise_budget_alerts(self, as_of: date | None = None) -> list[Any]:
        """Store a budget alert for each campaign that will pass its budget and was not alerted
        before; the new alerts (core.alerts.pipeline.NewAlert), for the Alerts pane and e-mail."""
        from c360_desktop.core.alerts.pipeline import store_alert

        report = self.campaigns(as_of or self.last_sale_day() or date.today())
        new = []
        with self._cache.writer() as conn:
            for alert in campaigns.budget_alerts(report):
                if store_alert(conn, alert, "local:budget"):
                    new.append(alert)
        return new

    def last_sale_day(self) -> date | None:
        """The day of the latest sale (one MAX over the copy's dates, or over the cache)."""
        with self.reader() as (conn, dialect):
            if dialect == "duckdb":
                (day,) = conn.execute('SELECT max(day) FROM "transaction" WHERE deleted_at IS NULL').fetchone()
                return day  # type: ignore[no-any-return]
            (text,) = conn.execute('SELECT max(occurred_at) FROM "transaction" WHERE deleted_at IS NULL').fetchone()
        return date.fromisoformat(text[:10]) if text else None

    def data_as_of(self) -> str:
        """When the cache's data was last synced (a demo cache: the day it describes)."""
        synced = self._cache.meta("last_sync_at")
        if synced:
            return synced
        demo = self._cache.meta("demo_as_of")
        return f"{demo} (demo data)" if demo else "never synced"

    def export(self, result: ReportResult | Table, out: Path, fmt: Format, force: bool = False,
               progress: Progress | None = None) -> Manifest:
        """Write the report or table (CSV, xlsx, PDF or JSON) with its manifest; needs the export
        permission."""
        user = self._user()
        if not can(user, Permission.EXPORT):
            raise ReportError(f"the {user.role.value.replace('_', ' ')} role may not export reports")
        return export(result, out, fmt, self.data_as_of(), user.name, force, progress)
