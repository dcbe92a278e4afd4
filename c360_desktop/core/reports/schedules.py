"""Scheduled reports: a saved report run daily, weekly or monthly at a time, written to a folder
and/or e-mailed, only when it has something to say.

- **Slots, not timers.** A schedule's slots are wall-clock times on this desktop (Monday 07:00).
  ``run_due(now)`` runs each schedule whose latest slot at or before ``now`` is later than the last
  one it ran, so slots missed while the laptop was closed or offline run once at the next start,
  not once each. A new schedule does not run for slots before it was made.
- **Conditions per section.** A delivery has a text section (what the report is, its period, its
  top rows, its notes) and the table (the attached file). The condition ("only when not empty",
  "only when a figure passes a threshold") applies to the table; the text goes alone when the
  schedule asks for it (``always_summary``), else nothing is sent and the run is recorded as
  skipped, with why.
- **Nothing reported as sent that was not.** A run that fails is recorded as failed with its
  reason, its slot stays due, and it is tried again (after ``RETRY_MINUTES``). E-mail waits in
  ``report_mail`` until the mail server takes it: offline, the run is "waiting", and it becomes
  "sent" when a later ``send_waiting`` gets it through.
"""

from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from c360_desktop.core.reports.semantic import ReportError

if TYPE_CHECKING:
    from c360_desktop.core.alerts.notify import SmtpConfig
    from c360_desktop.core.reports.query import ReportResult
    from c360_desktop.core.reports.saved import SavedReport
    from c360_desktop.core.reports.service import ReportService

log = logging.getLogger(__name__)

Every = Literal["daily", "weekly", "monthly"]
EVERY: tuple[Every, ...] = ("daily", "weekly", "monthly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPS = (">=", "<=", ">", "<")
RETRY_MINUTES = 10
STAMP = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Condition:
    """"not_empty": some row has a figure other than zero; "threshold": some row's ``column``
    (a measure's label, e.g. "Revenue change") compares ``op`` ``value``."""

    kind: Literal["not_empty", "threshold"] = "not_empty"
    column: str = ""
    op: str = ">="
    value: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Condition:
        """"not-empty", or "COLUMN OP NUMBER" ("Revenue change < -0.1", "Orders >= 100")."""
        text = text.strip()
        if text.replace("_", "-").lower() == "not-empty":
            return cls()
        for op in OPS:  # two-character operators first
            if op in text:
                column, _, number = text.partition(op)
                try:
                    return cls("threshold", column.strip(), op, float(number))
                except ValueError:
                    break
        raise ReportError(f"--only-when {text!r}: write not-empty, or COLUMN OP NUMBER with OP one of "
                          f"{', '.join(OPS)} (e.g. \"Revenue change < -0.1\")")

    def met(self, result: ReportResult) -> tuple[bool, str]:
        """Whether the table has something to say, and the reason in words."""
        frame = result.frame
        figures = [c for c in frame.columns if c in result.units]
        if self.kind == "not_empty":
            if len(frame) == 0:
                return False, "the report has no rows"
            if not figures:
                return True, ""
            nonzero = bool((frame[figures].fillna(0).to_numpy() != 0).any())
            return nonzero, "" if nonzero else "every figure is zero"
        if self.column not in frame.columns:
            raise ReportError(f"the condition's column {self.column!r} is not in the report "
                              f"({', '.join(map(str, figures))})")
        col = frame[self.column].astype(float)
        hit = {">=": col >= self.value, "<=": col <= self.value, ">": col > self.value, "<": col < self.value}[self.op]
        n = int(hit.sum())
        return n > 0, (f"{n} row{'s' if n != 1 else ''} with {self.column} {self.op} {self.value:g}" if n else
                       f"no row has {self.column} {self.op} {self.value:g}")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "op": self.op, "value": self.value}

    def describe(self) -> str:
        return "when not empty" if self.kind == "not_empty" else f"when {self.column} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Schedule:
    id: str
    report_id: str
    every: Every
    at: time
    weekday: int = 0  # weekly: 0 = Monday
    day: int = 1  # monthly: 1..28
    format: str = "xlsx"
    email: tuple[str, ...] = ()
    folder: str | None = None
    only_when: Condition | None = None
    always_summary: bool = False
    enabled: bool = True
    last_slot: datetime | None = None
    created_at: datetime = field(default_factory=datetime.now)

    def check(self) -> None:
        if self.every not in EVERY:
            raise ReportError(f"--every {self.every!r}: choose daily, weekly or monthly")
        if not 0 <= self.weekday <= 6:
            raise ReportError(f"weekday {self.weekday}: 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.day <= 28:
            raise ReportError(f"day {self.day}: 1 to 28 (every month has it)")
        if self.format not in ("csv", "xlsx", "pdf"):
            raise ReportError(f"format {self.format!r}: csv, xlsx or pdf")
        if not self.email and not self.folder:
            raise ReportError("a schedule needs somewhere to deliver: an e-mail address, a folder, or both")
        for address in self.email:
            if "@" not in address or address.startswith("@") or address.endswith("@") or " " in address:
                raise ReportError(f"{address!r} is not an e-mail address")

    def latest_slot(self, now: datetime) -> datetime:
        """The last slot at or before ``now``."""
        today = now.date()
        if self.every == "daily":
            slot = datetime.combine(today, self.at)
            return slot if slot <= now else slot - timedelta(days=1)
        if self.every == "weekly":
            slot = datetime.combine(today - timedelta(days=(today.weekday() - self.weekday) % 7), self.at)
            return slot if slot <= now else slot - timedelta(days=7)
        slot = datetime.combine(today.replace(day=self.day), self.at)
        if slot <= now:
            return slot
        previous = today.replace(day=1) - timedelta(days=1)
        return datetime.combine(previous.replace(day=self.day), self.at)

    def due(self, now: datetime) -> datetime | None:
        """The slot to run now, if any: at most one, however many were missed."""
        slot = self.latest_slot(now)
        if not self.enabled:
            return None
        if self.last_slot is None:
            return slot if slot >= self.created_at.replace(second=0, microsecond=0) else None
        return slot if slot > self.last_slot else None

    def describe(self) -> str:
        when = {"daily": "every day", "weekly": f"every {WEEKDAYS[self.weekday].capitalize()}",
                "monthly": f"on day {self.day} of every month"}[self.every]
        to = [*(["e-mail to " + ", ".join(self.email)] if self.email else []),
              *([f"folder {self.folder}"] if self.folder else [])]
        cond = f", {self.only_when.describe()}" if self.only_when else ""
        return f"{when} at {self.at:%H:%M}, {self.format} to {' and '.join(to)}{cond}"

    def definition(self) -> dict[str, Any]:
        return {"every": self.every, "at": self.at.strftime("%H:%M"), "weekday": self.weekday, "day": self.day,
                "format": self.format, "email": list(self.email), "folder": self.folder,
                "only_when": self.only_when.as_dict() if self.only_when else None,
                "always_summary": self.always_summary}

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Schedule:
        sid, report_id, definition, enabled, last_slot, created = row
        d = json.loads(definition) if isinstance(definition, str) else definition
        cond = d.get("only_when")
        return cls(sid, report_id, d["every"], time.fromisoformat(d["at"]), int(d.get("weekday", 0)),
                   int(d.get("day", 1)), d.get("format", "xlsx"), tuple(d.get("email") or ()), d.get("folder"),
                   Condition(cond["kind"], cond.get("column", ""), cond.get("op", ">="), float(cond.get("value", 0)))
                   if cond else None, bool(d.get("always_summary")), bool(enabled),
                   _parse(last_slot), _parse(created) or datetime.now())


@dataclass(frozen=True)
class Run:
    id: str
    schedule_id: str
    slot: datetime
    ran_at: datetime
    status: str  # written | sent | waiting | skipped | failed
    detail: str
    rows: int | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "schedule_id": self.schedule_id, "slot": self.slot.strftime(STAMP),
                "ran_at": self.ran_at.strftime(STAMP), "status": self.status, "detail": self.detail,
                "rows": self.rows, "file": self.file}


def _parse(text: Any) -> datetime | None:
    if text is None:
        return None
    return text if isinstance(text, datetime) else datetime.fromisoformat(str(text))


def _text(d: datetime) -> str:
    return d.strftime(STAMP)


# -- running -------------------------------------------------------------------------------------

def summary(report: SavedReport, result: ReportResult, data_as_of: str, note: str = "") -> str:
    """The text section: what the report is, for which days, its first rows, and its notes."""
    from c360_desktop.core.reports.export import describe
    from c360_desktop.core.reports.formatting import figure

    title, filters = describe(result)
    lines = [f"{report.name}", f"{title}; {filters}", f"Data as of {data_as_of}.", ""]
    if note:
        lines += [note, ""]
    frame = result.frame
    if len(frame):
        lines.append(f"{len(frame):,} rows; the first {min(len(frame), 10)}:")
        for row in frame.head(10).to_dict(orient="records"):
            lines.append("  " + "; ".join(f"{k}: {figure(v, result.units[k]) if k in result.units else v}"
                                          for k, v in row.items()))
    for a in report.annotations:
        where = ", ".join(f"{k} {v}" for k, v in a.point.items()) if a.point else "the report"
        lines.append(f"Note by {a.author} on {where}: {a.body}")
    lines += ["", "Sent by C360 Desktop's report schedule; open the app to change or stop it."]
    return "\n".join(lines)


def run_schedule(reports: ReportService, s: Schedule, slot: datetime, now: datetime, outbox: Path,
                 smtp: SmtpConfig | None) -> Run:
    """Run one slot: the report, the condition, the file and the e-mail; recorded either way."""
    from c360_desktop.core.ids import new_id
    from c360_desktop.core.reports.export import table_of

    run_id = new_id()
    try:
        report, result = reports.run_saved(s.report_id)
        keep, why = s.only_when.met(result) if s.only_when else (True, "")
        as_of = reports.data_as_of()
        stem = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in report.name).strip() or "report"
        name = f"{stem} {slot:%Y-%m-%d %H%M}.{s.format}"
        written = None
        if keep and s.folder:
            folder = Path(s.folder).expanduser()
            if not folder.is_dir():
                raise ReportError(f"the folder {folder} does not exist (or is not reachable)")
            reports.export(table_of(result), folder / name, s.format, scheduled=True)  # type: ignore[arg-type]
            written = str(folder / name)
        if not keep and not s.always_summary:
            return _record(reports, Run(run_id, s.id, slot, now, "skipped", f"nothing to send: {why}",
                                        len(result.frame)), s, advance=True)
        if not s.email:
            return _record(reports, Run(run_id, s.id, slot, now, "written", f"written to {written}",
                                        len(result.frame), written), s, advance=True)
        attachment = None
        if keep:
            outbox.mkdir(parents=True, exist_ok=True)
            attachment = outbox / f"{run_id}.{s.format}"
            reports.export(table_of(result), attachment, s.format, force=True,  # type: ignore[arg-type]
                           scheduled=True)
        note = "" if keep else f"No table this time: {why}."
        body = summary(report, result, as_of, note)
        subject = f"[C360] {report.name}: {result.query.start or 'the first day'} to {result.query.end or 'today'}"
        run = Run(run_id, s.id, slot, now, "waiting", "waiting for the mail server", len(result.frame), written)
        with reports.cache.writer() as conn:
            conn.execute("INSERT INTO report_mail (id, run_id, recipients, subject, body, attachment, created_at, "
                         "attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                         (new_id(), run_id, json.dumps(list(s.email)), subject, body,
                          str(attachment) if attachment else None, _text(now)))
        _record(reports, run, s, advance=True)
        send_waiting(reports, smtp, now)
        return runs(reports, s.id)[0]
    except Exception as exc:  # recorded as failed, the slot stays due, tried again later
        log.warning("scheduled report %s failed: %s", s.id, exc)
        return _record(reports, Run(run_id, s.id, slot, now, "failed", f"{type(exc).__name__}: {exc}"
                                    if not isinstance(exc, ReportError) else str(exc)), s, advance=False)


def _record(reports: ReportService, run: Run, s: Schedule, advance: bool) -> Run:
    with reports.cache.writer() as conn:
        conn.execute("INSERT INTO report_run (id, schedule_id, slot, ran_at, status, detail, rows, file) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (run.id, run.schedule_id, _text(run.slot), _text(run.ran_at), run.status, run.detail, run.rows,
                      run.file))
        if advance:
            conn.execute("UPDATE report_schedule SET last_slot = ? WHERE id = ?", (_text(run.slot), s.id))
    return run


def send_waiting(reports: ReportService, smtp: SmtpConfig | None, now: datetime | None = None) -> int:
    """Send the e-mails waiting in the outbox; the number sent. Without a mail server set up, or
    when it cannot be reached, they keep waiting with the reason."""
    now = now or datetime.now()
    waiting = reports.cache.reader().execute(
        "SELECT id, run_id, recipients, subject, body, attachment FROM report_mail WHERE sent_at IS NULL "
        "ORDER BY created_at").fetchall()
    sent = 0
    for mail_id, run_id, recipients, subject, body, attachment in waiting:
        error = None
        if smtp is None:
            error = "no mail server is set up (Settings: smtp_host)"
        else:
            try:
                _send(smtp, json.loads(recipients), subject, body, Path(attachment) if attachment else None)
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
        with reports.cache.writer() as conn:
            if error:
                conn.execute("UPDATE report_mail SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                             (error, mail_id))
                conn.execute("UPDATE report_run SET detail = ? WHERE id = ? AND status = 'waiting'",
                             (f"waiting for the mail server: {error}", run_id))
                continue
            conn.execute("UPDATE report_mail SET attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?",
                         (_text(now), mail_id))
            conn.execute("UPDATE report_run SET status = 'sent', detail = ? WHERE id = ?",
                         (f"sent to {', '.join(json.loads(recipients))} at {now:%Y-%m-%d %H:%M}", run_id))
        sent += 1
        if attachment:
            Path(attachment).unlink(missing_ok=True)
    return sent


def _send(smtp: SmtpConfig, to: list[str], subject: str, body: str, attachment: Path | None) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, smtp.sender, ", ".join(to)
    msg.set_content(body)
    if attachment is not None:
        kinds = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                 ".pdf": ("application", "pdf"), ".csv": ("text", "csv")}
        main, sub = kinds.get(attachment.suffix, ("application", "octet-stream"))
        msg.add_attachment(attachment.read_bytes(), maintype=main, subtype=sub,
                           filename=f"{subject.split(': ')[0].removeprefix('[C360] ')}{attachment.suffix}")
    from c360_desktop.core.alerts.notify import connect

    with connect(smtp) as server:
        if smtp.user:
            server.login(smtp.user, smtp.password or "")
        server.send_message(msg)


def runs(reports: ReportService, schedule_id: str | None = None, limit: int = 50) -> list[Run]:
    """The latest runs (of one schedule, or all), newest first."""
    sql = "SELECT id, schedule_id, slot, ran_at, status, detail, rows, file FROM report_run"
    rows = reports.cache.reader().execute(
        sql + (" WHERE schedule_id = ?" if schedule_id else "") + " ORDER BY ran_at DESC, rowid DESC LIMIT ?",
        (schedule_id, limit) if schedule_id else (limit,)).fetchall()
    return [Run(r[0], r[1], _parse(r[2]) or datetime.min, _parse(r[3]) or datetime.min, r[4], r[5], r[6], r[7])
            for r in rows]


def run_due(reports: ReportService, now: datetime, outbox: Path, smtp: SmtpConfig | None) -> list[Run]:
    """Run every schedule with a slot due (once each), then send what e-mail is waiting."""
    out = []
    for s in schedules(reports):
        slot = s.due(now)
        if slot is None:
            continue
        failed = [r for r in runs(reports, s.id, 5) if r.slot == slot and r.status == "failed"]
        if failed and now - failed[0].ran_at < timedelta(minutes=RETRY_MINUTES):
            continue  # failed a moment ago: try again a little later
        out.append(run_schedule(reports, s, slot, now, outbox, smtp))
    send_waiting(reports, smtp, now)
    return out


def schedules(reports: ReportService) -> list[Schedule]:
    return [Schedule.from_row(r) for r in reports.cache.reader().execute(
        "SELECT id, report_id, definition, enabled, last_slot, created_at FROM report_schedule ORDER BY created_at")]


def add_schedule(reports: ReportService, s: Schedule) -> Schedule:
    s.check()
    report = reports.saved_report(s.report_id)
    if report.definition is None:
        raise ReportError(f"{report.name!r} cannot be scheduled: {report.problem}")
    if s.only_when and s.only_when.kind == "threshold":
        from c360_desktop.core.reports.semantic import measure

        labels = {measure(m).label for m in report.definition.measures}
        labels |= {f"{lab} {suffix}" for lab in labels for suffix in ("change", "previous", "last year")}
        if s.only_when.column not in labels:
            raise ReportError(f"the condition's column {s.only_when.column!r} is not one of the report's figures "
                              f"({', '.join(sorted(labels))})")
    with reports.cache.writer() as conn:
        conn.execute("INSERT INTO report_schedule (id, report_id, definition, enabled, last_slot, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (s.id, report.id, json.dumps(s.definition()), s.enabled,
                      _text(s.last_slot) if s.last_slot else None, _text(s.created_at)))
    return s


def remove_schedule(reports: ReportService, schedule_id: str) -> None:
    with reports.cache.writer() as conn:
        if conn.execute("DELETE FROM report_schedule WHERE id = ?", (schedule_id,)).rowcount == 0:
            raise ReportError(f"no schedule {schedule_id!r}")

