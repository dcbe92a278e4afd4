"""ReportService: the reports panes, the CLI and schedules ask of the cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from c360_desktop.core.reports.export import Format, Manifest, export
from c360_desktop.core.reports.query import ReportQuery, ReportResult, run_query
from c360_desktop.core.reports.semantic import ReportError
from c360_desktop.core.security import Permission, User, can
from c360_desktop.core.storage.cache import Cache


class ReportService:
    def __init__(self, cache: Cache, user: Callable[[], User]) -> None:
        self._cache = cache
        self._user = user

    def scoped(self, q: ReportQuery) -> ReportQuery:
        """The query limited to the parishes the user may see (a field rep: their territory)."""
        user = self._user()
        if can(user, Permission.VIEW_ALL_TERRITORIES) or not user.territory:
            return q
        return replace(q, scope=tuple(user.territory))

    def query(self, q: ReportQuery) -> ReportResult:
        return run_query(self._cache.reader(), self.scoped(q))

    def data_as_of(self) -> str:
        """When the cache's data was last synced (a demo cache: the day it describes)."""
        synced = self._cache.meta("last_sync_at")
        if synced:
            return synced
        demo = self._cache.meta("demo_as_of")
        return f"{demo} (demo data)" if demo else "never synced"

    def export(self, result: ReportResult, out: Path, fmt: Format, force: bool = False) -> Manifest:
        """Write the report (CSV, xlsx or JSON) with its manifest; needs the export permission."""
        user = self._user()
        if not can(user, Permission.EXPORT):
            raise ReportError(f"the {user.role.value.replace('_', ' ')} role may not export reports")
        return export(result, out, fmt, self.data_as_of(), user.name, force)
