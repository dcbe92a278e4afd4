"""ReportService: the reports panes, the CLI and schedules ask of the cache."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.progress import Progress
from c360_desktop.core.reports import analyses, campaigns
from c360_desktop.core.reports.columnar import ColumnarCopy, CopyUnavailable
from c360_desktop.core.reports.export import Format, Manifest, Table, export
from c360_desktop.core.reports.query import ReportQuery, ReportResult, run_query
from c360_desktop.core.reports.saved import Annotation, Definition, SavedReport, renamed_copy
from c360_desktop.core.reports.semantic import Dialect, ReportError
from c360_desktop.core.security import Permission, User, can, refusal, require_fresh
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
        self._copy_made = threading.Lock()  # two workers preparing at once share one copy
        self.unavailable = ""  # why the columnar copy is not used, if it is not

    @property
    def cache(self) -> Cache:
        return self._cache

    def prepare(self, progress: Progress | None = None) -> bool:
        """Open (building if need be) and refresh the columnar copy; whether it is in use."""
        if self.engine == "sqlite":
            return False
        with self._copy_made:
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

    def scope(self) -> tuple[str, ...] | None:
        """The parishes the user may see (a field rep: their territory; None: all)."""
        user = self._user()
        if can(user, Permission.VIEW_ALL_TERRITORIES) or not user.territory:
            return None
        return tuple(user.territory)

    def scoped(self, q: ReportQuery) -> ReportQuery:
        """The query limited to the parishes the user may see."""
        scope = self.scope()
        return q if scope is None else replace(q, scope=scope)

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

    def correlations(self, as_of: date, days: int = 90, where: analyses.Filters = (),
                     progress: Progress | None = None) -> analyses.Correlations:
        with self.reader(progress) as (conn, dialect):
            return analyses.correlations(conn, dialect, as_of, days, where, self.scope())

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

    # -- saved reports and annotations (core.reports.saved), synced through the outbox -----------
    def saved(self) -> list[SavedReport]:
        """Every saved report (the user's and colleagues'), by name, with its annotations."""
        conn = self._cache.reader()
        rows = conn.execute(
            "SELECT r.id, r.name, r.owner, r.updated_at, r.definition, EXISTS (SELECT 1 FROM outbox o WHERE "
            "o.entity = 'saved_report' AND o.entity_id = r.id AND o.pushed_at IS NULL) FROM saved_report r "
            "WHERE r.deleted_at IS NULL ORDER BY lower(r.name), r.id").fetchall()
        notes: dict[str, list[Annotation]] = {}
        for aid, rid, point, body, author, created in conn.execute(
                "SELECT id, report_id, point, body, author, created_at FROM report_annotation "
                "WHERE deleted_at IS NULL ORDER BY created_at, id"):
            notes.setdefault(rid, []).append(Annotation(aid, rid, json.loads(point) if point else None, body,
                                                        author, created))
        out = []
        for rid, name, owner, updated, text, pending in rows:
            try:
                definition, problem = Definition.from_json(text), ""
            except ReportError as exc:
                definition, problem = None, str(exc)
            out.append(SavedReport(rid, name, owner, updated or "", definition, problem, bool(pending),
                                   notes.get(rid, [])))
        return out

    def saved_report(self, name_or_id: str) -> SavedReport:
        """One saved report by its name (any case) or id; ReportError naming the saved ones if none."""
        reports = self.saved()
        for r in reports:
            if r.id == name_or_id or r.name.lower() == name_or_id.strip().lower():
                return r
        names = ", ".join(repr(r.name) for r in reports) or "none yet"
        raise ReportError(f"no saved report {name_or_id!r}; saved: {names}")

    def save(self, name: str, definition: Definition, report_id: str | None = None) -> SavedReport:
        """Save a new report, or a new definition for ``report_id``; queued for sync."""
        from c360_desktop.core.ids import new_id
        from c360_desktop.core.profile.service import queue_change
        from c360_desktop.core.timestamps import db_now

        name = self._valid_name(name, report_id)
        definition.check()
        user, now, text = self._user().name, db_now(), definition.as_json()
        with self._cache.writer() as conn:
            if report_id is None:
                report_id = new_id()
                conn.execute("INSERT INTO saved_report (id, row_version, updated_at, updated_by, name, definition, "
                             "owner, created_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?)",
                             (report_id, now, user, name, text, user, now))
                queue_change(conn, "saved_report", report_id, "insert", {
                    "id": report_id, "name": name, "definition": text, "owner": user, "created_at": now,
                    "updated_at": now, "updated_by": user})
            else:
                self._update(conn, report_id, {"name": name, "definition": text}, user)
        return self.saved_report(report_id)

    def rename(self, report_id: str, name: str) -> SavedReport:
        name = self._valid_name(name, report_id)
        with self._cache.writer() as conn:
            self._update(conn, report_id, {"name": name}, self._user().name)
        return self.saved_report(report_id)

    def duplicate(self, report_id: str, name: str | None = None) -> SavedReport:
        original = self.saved_report(report_id)
        if original.definition is None:
            raise ReportError(f"{original.name!r} cannot be copied: {original.problem}")
        taken = {r.name for r in self.saved()}
        return self.save(name or renamed_copy(original.name, taken), original.definition)

    def delete(self, report_id: str) -> None:
        """Delete a saved report (and its annotations) here and, after sync, for everyone."""
        from c360_desktop.core.timestamps import db_now

        user, now = self._user().name, db_now()
        with self._cache.writer() as conn:
            self._update(conn, report_id, {"deleted_at": now}, user)
            for (aid,) in conn.execute("SELECT id FROM report_annotation WHERE report_id = ? AND deleted_at IS NULL",
                                       (report_id,)).fetchall():
                self._update(conn, aid, {"deleted_at": now}, user, entity="report_annotation")

    def annotate(self, report_id: str, body: str, point: dict[str, str] | None = None) -> Annotation:
        """Pin a note to a saved report, or to one of its data points (its labels)."""
        from c360_desktop.core.ids import new_id
        from c360_desktop.core.profile.service import queue_change
        from c360_desktop.core.timestamps import db_now

        body = body.strip()
        if not body:
            raise ReportError("an annotation needs some text")
        report = self.saved_report(report_id)
        user, now = self._user().name, db_now()
        aid, point_text = new_id(), json.dumps(point, sort_keys=True) if point else None
        with self._cache.writer() as conn:
            conn.execute("INSERT INTO report_annotation (id, row_version, updated_at, updated_by, report_id, point, "
                         "body, author, created_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                         (aid, now, user, report.id, point_text, body, user, now))
            queue_change(conn, "report_annotation", aid, "insert", {
                "id": aid, "report_id": report.id, "point": point_text, "body": body, "author": user,
                "created_at": now, "updated_at": now, "updated_by": user})
        return Annotation(aid, report.id, point, body, user, now)

    def run_saved(self, name_or_id: str, today: date | None = None,
                  progress: Progress | None = None) -> tuple[SavedReport, ReportResult]:
        """A saved report's figures, its relative period resolved against ``today`` (default:
        the data's last day)."""
        report = self.saved_report(name_or_id)
        if report.definition is None:
            raise ReportError(f"{report.name!r} cannot be run: {report.problem}")
        self.prepare(progress)
        day = today or self.last_sale_day() or date.today()
        return report, self.query(report.definition.query(day), progress)

    def _valid_name(self, name: str, report_id: str | None) -> str:
        name = " ".join(name.split())
        if not name:
            raise ReportError("a saved report needs a name")
        if len(name) > 200:
            raise ReportError(f"a report's name is at most 200 characters, not {len(name)}")
        for r in self.saved():
            if r.name.lower() == name.lower() and r.id != report_id:
                raise ReportError(f"a report named {r.name!r} exists already (by {r.owner}); choose another name")
        return name

    def _update(self, conn: Any, row_id: str, changes: dict[str, Any], user: str,
                entity: str = "saved_report") -> None:
        from c360_desktop.core.profile.service import queue_change
        from c360_desktop.core.timestamps import db_now

        cols = ", ".join(changes)
        row = conn.execute(f"SELECT row_version, {cols} FROM {entity} WHERE id = ? AND deleted_at IS NULL",
                           (row_id,)).fetchone()
        if row is None:
            raise ReportError(f"no saved report {row_id!r} (deleted meanwhile?)")
        base = dict(zip(changes, row[1:], strict=True))
        sets = ", ".join(f"{c} = ?" for c in changes)
        conn.execute(f"UPDATE {entity} SET {sets}, updated_at = ?, updated_by = ? WHERE id = ?",
                     (*changes.values(), db_now(), user, row_id))
        queue_change(conn, entity, row_id, "update", {"changes": changes, "base": base, "updated_by": user},
                     base_row_version=row[0])

    def customers_behind(self, q: ReportQuery, cell: dict[str, str], limit: int = 500) -> Any:
        """Drill-down: the customers behind one cell of a report (a DataFrame; see
        core.reports.query.customers_behind), within the user's parishes."""
        from c360_desktop.core.reports.query import customers_behind

        return customers_behind(self._cache.reader(), self.scoped(q), cell, limit)

    def lines_behind(self, q: ReportQuery, cell: dict[str, str], limit: int = 1000) -> tuple[Any, int]:
        """Drill-down: the sales lines (or leads) behind one cell, newest first, and how many
        there are in all (see core.reports.query.lines_behind), within the user's parishes."""
        from c360_desktop.core.reports.query import lines_behind

        return lines_behind(self._cache.reader(), self.scoped(q), cell, limit)

    def campaign_list(self, channel: str, parishes: Sequence[str] | None = None, segment: str | None = None,
                      include_unrecorded: bool = False) -> tuple[Table, Any]:
        """The customers a marketing campaign by ``channel`` may reach (core.reports.audience:
        consent granted, no objection, an address), within the user's parishes, as a Table to
        export and the Audience with what was left out and why."""
        from c360_desktop.core.models import CHANNEL_WORDS
        from c360_desktop.core.reports.audience import audience

        scope = self.scope()
        if scope is not None:
            parishes = [p for p in (parishes or scope) if p in scope]
            if not parishes:
                raise ReportError("those parishes are outside your territory")
        found = audience(self._cache.reader(), channel, parishes, segment, include_unrecorded)
        basis = ("consent granted, or no record (legitimate interests)" if include_unrecorded
                 else "consent granted")
        where = ", ".join(filter(None, [", ".join(parishes) if parishes else "all parishes", segment]))
        table = Table(f"Campaign list: marketing by {CHANNEL_WORDS[channel]}", f"{where}; {basis}; {found.summary()}",
                      found.frame.drop(columns=["customer_id"]))
        return table, found

    # -- targets (core.reports.targets), synced like saved reports -------------------------------
    def targets(self) -> list[Any]:
        from c360_desktop.core.reports import targets

        return targets.load(self._cache.reader())

    def import_targets(self, path: Path) -> tuple[int, int]:
        """Read a targets file and store it, all or nothing; (added, replaced)."""
        from c360_desktop.core.reports import targets

        user = self._user()
        if not can(user, Permission.VIEW_ALL_TERRITORIES):
            raise ReportError(f"the {user.role.value.replace('_', ' ')} role may not set targets")
        found = targets.read_targets(path)
        return targets.store(self._cache, found, path.name, user.name)

    def target_for(self, measure: str, start: date, end: date) -> float | None:
        """The target for a measure over [start, end], for the parishes the user may see."""
        from c360_desktop.core.reports import targets

        return targets.target_for(self.targets(), measure, start, end, self.scope())

    def import_ads(self, path: Path) -> tuple[str, dict[str, int]]:
        """Spend from a Google Ads or Meta Ads export (core.reports.ads); (which, counts)."""
        from c360_desktop.core.reports import ads

        user = self._user()
        if not can(user, Permission.VIEW_ALL_TERRITORIES):
            raise ReportError(f"the {user.role.value.replace('_', ' ')} role may not import campaign spend")
        source, rows = ads.read_ads(path)
        return source, ads.store(self._cache, source, rows, user.name)

    # -- schedules (core.reports.schedules): this desktop's, run while the app runs or by the CLI --
    def schedules(self) -> list[Any]:
        from c360_desktop.core.reports import schedules

        return schedules.schedules(self)

    def add_schedule(self, schedule: Any) -> Any:
        from c360_desktop.core.reports import schedules

        return schedules.add_schedule(self, schedule)

    def remove_schedule(self, schedule_id: str) -> None:
        from c360_desktop.core.reports import schedules

        schedules.remove_schedule(self, schedule_id)

    def runs(self, schedule_id: str | None = None, limit: int = 50) -> list[Any]:
        from c360_desktop.core.reports import schedules

        return schedules.runs(self, schedule_id, limit)

    def run_due(self, now: Any, smtp: Any) -> list[Any]:
        """Run the schedules with a slot due at ``now`` (each once), and send waiting e-mail.
        Attachments wait beside the cache (CACHE.report-mail/) until sent."""
        from c360_desktop.core.reports import schedules

        outbox = self._cache.path.with_name(self._cache.path.name + ".report-mail")
        return schedules.run_due(self, now, outbox, smtp)

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
               progress: Progress | None = None, scheduled: bool = False) -> Manifest:
        """Write the report or table (CSV, xlsx, PDF or JSON) with its manifest; needs the export
        permission, and a recent sign-in unless ``scheduled`` (a schedule's run: the user set it
        up, and nobody is there to ask)."""
        user = self._user()
        if not can(user, Permission.EXPORT):
            audit_log.record_now(self._cache, user.name, "export.refused", "report", None,
                                 {"format": fmt, "file": out.name})
            raise ReportError(refusal(user, Permission.EXPORT))
        if not scheduled:
            require_fresh(user, "Exporting")
        info = export(result, out, fmt, self.data_as_of(), user.name, force, progress)
        audit_log.record_now(self._cache, user.name, "export", "report", None,
                             {"format": fmt, "file": out.name, "title": info.title, "rows": info.rows})
        return info
