"""Scheduled reports with a controlled clock: missed slots run once at the next start, conditions
hold back what has nothing to say, e-mail goes through a real SMTP server (aiosmtpd) with the
file attached, waits while the server is away, and a failed run is retried, never called sent."""

from __future__ import annotations

import email
import io
from datetime import datetime, time

import pytest

from c360_desktop.core.alerts.notify import SmtpConfig
from c360_desktop.core.reports import schedules as S
from c360_desktop.core.reports.saved import Definition
from c360_desktop.core.reports.semantic import ReportError
from server_sync.devserver import free_port

FRIDAY = datetime(2026, 11, 20, 17, 30)
MONDAY_9 = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received = []

    class Keep(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpConfig("127.0.0.1", port, "reports@bluemahoe.com.jm", timeout=5), received
    controller.stop()


def _weekly(services, tmp_path, **kw):
    report = services.reports.save("Weekly revenue", Definition(("revenue", "orders"), ("parish",), "last_week"))
    fields = {"every": "weekly", "at": time(7, 0), "weekday": 0, "email": ("manager@bluemahoe.com.jm",),
              "created_at": FRIDAY, **kw}
    return S.add_schedule(services.reports, S.Schedule("s1", report.id, **fields))


def test_slots(tmp_path):
    s = S.Schedule("x", "r", "weekly", time(7, 0), weekday=0, folder="/tmp", created_at=FRIDAY)
    assert s.latest_slot(MONDAY_9) == datetime(2026, 11, 23, 7, 0)
    assert s.latest_slot(datetime(2026, 11, 23, 6, 59)) == datetime(2026, 11, 16, 7, 0)
    assert s.due(datetime(2026, 11, 22, 12, 0)) is None, "the slot before the schedule was made is not run"
    monthly = S.Schedule("m", "r", "monthly", time(8, 0), day=1, folder="/tmp", created_at=FRIDAY)
    assert monthly.latest_slot(datetime(2026, 12, 1, 7, 0)) == datetime(2026, 11, 1, 8, 0)
    assert monthly.latest_slot(datetime(2026, 12, 1, 8, 0)) == datetime(2026, 12, 1, 8, 0)
    daily = S.Schedule("d", "r", "daily", time(6, 0), folder="/tmp", created_at=FRIDAY,
                       last_slot=datetime(2026, 11, 20, 6, 0))
    assert daily.due(MONDAY_9) == datetime(2026, 11, 23, 6, 0), "three missed days: one run, the latest"


def test_a_weekly_report_missed_over_a_closed_weekend_runs_once_at_start(services, tmp_path, smtp):
    config, received = smtp
    _weekly(services, tmp_path)
    assert S.run_due(services.reports, FRIDAY, tmp_path / "outbox", config) == []
    ran = S.run_due(services.reports, MONDAY_9, tmp_path / "outbox", config)  # the app opens on Monday
    assert [(r.slot, r.status) for r in ran] == [(datetime(2026, 11, 23, 7, 0), "sent")]
    assert S.run_due(services.reports, MONDAY_9.replace(minute=5), tmp_path / "outbox", config) == []
    assert len(received) == 1
    msg = email.message_from_bytes(received[0].as_bytes())
    assert msg["To"] == "manager@bluemahoe.com.jm" and msg["Subject"].startswith("[C360] Weekly revenue: ")
    parts = {p.get_content_type(): p for p in msg.walk()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert "Weekly revenue" in text and "14 rows" in text
    from openpyxl import load_workbook

    book = parts["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    ws = load_workbook(io.BytesIO(book.get_payload(decode=True)))["Report"]
    _report, result = services.reports.run_saved("Weekly revenue")
    assert result.query.start.isoformat() == "2026-11-16" and result.query.end.isoformat() == "2026-11-22"
    assert [ws.cell(r + 2, 2).value for r in range(14)] == pytest.approx(result.frame["Revenue"].tolist())
    assert not list((tmp_path / "outbox").iterdir()), "the attachment goes once it is sent"


def test_only_when_not_empty_sends_nothing_for_an_empty_result(services, tmp_path, smtp):
    config, received = smtp
    report = services.reports.save("Nowhere", Definition(("revenue",), ("parish",), "last_week",
                                                       where=(("town", "Nowhere At All"),)))
    S.add_schedule(services.reports, S.Schedule("s2", report.id, "weekly", time(7, 0), email=("m@x.jm",),
                                                folder=str(tmp_path), only_when=S.Condition(), created_at=FRIDAY))
    (run,) = S.run_due(services.reports, MONDAY_9, tmp_path / "outbox", config)
    assert run.status == "skipped" and "nothing to send: the report has no rows" in run.detail
    assert received == [] and [p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx"] == []
    # with the text section kept, the summary goes alone, saying why there is no table
    S.remove_schedule(services.reports, "s2")
    S.add_schedule(services.reports, S.Schedule("s3", report.id, "weekly", time(7, 0), email=("m@x.jm",),
                                                only_when=S.Condition(), always_summary=True, created_at=FRIDAY))
    (run,) = S.run_due(services.reports, MONDAY_9, tmp_path / "outbox", config)
    assert run.status == "sent" and len(received) == 1
    msg = email.message_from_bytes(received[0].as_bytes())
    assert not any(p.get_filename() for p in msg.walk())
    assert "No table this time: the report has no rows." in msg.get_payload()


def test_a_threshold_condition(services, tmp_path, smtp):
    config, received = smtp
    with pytest.raises(ReportError, match="not one of the report's figures"):
        _weekly(services, tmp_path, only_when=S.Condition.parse("Profit > 5"))
    services.reports.delete(services.reports.saved_report("Weekly revenue").id)
    _weekly(services, tmp_path, only_when=S.Condition.parse("Orders >= 1000000"))
    (run,) = S.run_due(services.reports, MONDAY_9, tmp_path / "outbox", config)
    assert run.status == "skipped" and "no row has Orders >= 1e+06" in run.detail and received == []
    with pytest.raises(ReportError, match="write not-empty, or COLUMN OP NUMBER"):
        S.Condition.parse("Revenue is big")


def test_mail_waits_for_the_server_and_a_failed_run_is_retried_never_sent(services, tmp_path, smtp):
    config, received = smtp
    _weekly(services, tmp_path)
    away = SmtpConfig("127.0.0.1", free_port(), timeout=2)  # nothing listens there
    (run,) = S.run_due(services.reports, MONDAY_9, tmp_path / "outbox", away)
    assert run.status == "waiting" and "waiting for the mail server: ConnectionRefusedError" in run.detail
    assert S.run_due(services.reports, MONDAY_9.replace(hour=10), tmp_path / "outbox", away) == []
    assert S.runs(services.reports)[0].status == "waiting"
    S.send_waiting(services.reports, config, MONDAY_9.replace(hour=11))
    assert S.runs(services.reports)[0].status == "sent" and len(received) == 1

    report = services.reports.saved_report("Weekly revenue")
    S.add_schedule(services.reports, S.Schedule("f", report.id, "daily", time(8, 0), folder=str(tmp_path / "gone"),
                                                created_at=FRIDAY))
    (failed,) = S.run_due(services.reports, MONDAY_9, tmp_path / "outbox", config)
    assert failed.status == "failed" and "does not exist" in failed.detail
    assert S.run_due(services.reports, MONDAY_9.replace(minute=5), tmp_path / "outbox", config) == [], \
        "not hammered: tried again after a pause"
    (tmp_path / "gone").mkdir()
    (again,) = S.run_due(services.reports, MONDAY_9.replace(minute=15), tmp_path / "outbox", config)
    assert again.status == "written" and again.slot == failed.slot and (tmp_path / "gone").iterdir()
    assert [r.status for r in S.runs(services.reports, "f")] == ["written", "failed"]


def test_bad_schedules_are_named(services):
    report = services.reports.save("R", Definition(("revenue",)))
    for fields, message in (({"email": ()}, "somewhere to deliver"), ({"email": ("boss",)}, "not an e-mail address"),
                            ({"day": 31, "every": "monthly"}, "1 to 28"), ({"format": "docx"}, "csv, xlsx or pdf")):
        args = {"every": "weekly", "at": time(7, 0), "email": ("a@b.jm",), **fields}
        with pytest.raises(ReportError, match=message):
            S.add_schedule(services.reports, S.Schedule("x", report.id, **args))


def test_cli_schedule_list_and_run_due_to_a_folder(demo_cache, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    c360 = str(Path(sys.executable).with_name("c360"))

    def run(*args, ok=True):
        r = subprocess.run([c360, *args, "--cache", str(demo_cache)], capture_output=True, text=True, timeout=120)
        assert (r.returncode == 0) == ok, r.stderr
        return r

    run("report", "save", "Daily parish", "--measure", "revenue", "--by", "parish", "--period", "last_7_days")
    out = tmp_path / "reports"
    out.mkdir()
    r = run("report", "schedule", "Daily parish", "--every", "daily", "--at", "00:00", "--format", "csv",
            "--folder", str(out))
    assert "every day at 00:00, csv to folder" in r.stderr
    assert "not an e-mail address" in run("report", "schedule", "Daily parish", "--every", "daily",
                                          "--email", "boss", ok=False).stderr
    assert "HH:MM" in run("report", "schedule", "Daily parish", "--every", "daily", "--at", "7am",
                          "--folder", str(out), ok=False).stderr
    # made just now, today's 00:00 slot is before it: nothing is due yet
    run("report", "run-due")
    assert list(out.iterdir()) == []
    (listed,) = json.loads(run("report", "schedules", "--json").stdout)
    assert listed["report"] == "Daily parish" and listed["last_run"] is None
