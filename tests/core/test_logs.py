"""Logs: JSON lines with correlation ids, private and rotated; secrets and personal data masked;
crashes logged; the diagnostics report and bundle."""

import json
import logging
import os
import stat
import threading
import zipfile

import pytest

from c360_desktop.core import logs


def entries(folder):
    return [json.loads(line) for line in (folder / logs.LOG_FILE).read_text("utf-8").splitlines()]


@pytest.mark.parametrize("text, hidden, kept", [
    ("connecting to postgresql://rep:s3cret@db.example:5432/c360", "s3cret", "db.example:5432/c360"),
    ("login failed: password=hunter2; retry", "hunter2", "retry"),
    ('config {"sasl.password": "p@ss"}', "p@ss", "config"),
    ("mail for ann.brown@example.com bounced", "ann.brown@example.com", "bounced"),
    ("called +1 876 555 0100, (876) 555-0101 and 555-0102", "555", "called"),
    ("TRN 123-456-789 or 123456789 refused", "456", "refused"),
])
def test_scrub_masks_secrets_and_personal_data(text, hidden, kept):
    out = logs.scrub(text)
    assert hidden not in out and kept in out


def test_scrub_keeps_counts_times_and_ids_readable():
    text = "pulled 1500000 rows in 1234 ms at 2026-12-07 12:30:45 for 018f3c2a-1234-7abc-8def-123456789012 on 127.0.0.1:5432"
    assert logs.scrub(text) == text


def test_lines_are_json_with_the_correlation_id_and_private(log_folder):
    log = logging.getLogger("c360_desktop.test")
    log.info("outside any action")
    with logs.correlated() as cid:
        log.info("inside: %d rows", 12)
        with logs.correlated("abc123def456"):
            log.warning("nested")
        log.info("back")
    found = entries(log_folder)
    assert [(e["msg"], e["cid"]) for e in found] == [
        ("outside any action", "-"), ("inside: 12 rows", cid), ("nested", "abc123def456"), ("back", cid)]
    assert found[2]["level"] == "WARNING" and found[1]["logger"] == "c360_desktop.test"
    assert len(cid) == 12 and logs.current() == ""
    if os.name == "posix":
        assert stat.S_IMODE((log_folder / logs.LOG_FILE).stat().st_mode) == 0o600
        assert stat.S_IMODE(log_folder.stat().st_mode) == 0o700


def test_a_traceback_in_the_log_is_scrubbed_too(log_folder):
    try:
        raise ValueError("no customer with phone 876-555-0199 or e-mail x.y@example.com")
    except ValueError:
        logging.getLogger("c360_desktop.test").exception("lookup failed for TRN 987654321")
    (entry,) = entries(log_folder)
    assert "ValueError" in entry["exc"] and "lookup failed" in entry["msg"]
    text = json.dumps(entry)
    assert "555-0199" not in text and "x.y@example.com" not in text and "987654321" not in text


def test_the_log_rotates_and_recent_reads_across_files(log_folder, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    logs.setup(console=False)
    log = logging.getLogger("c360_desktop.test")
    for n in range(100):
        log.info("line %d of the rotation test", n)
    files = logs.log_files()
    assert len(files) >= 3 and all(f.stat().st_size <= 2_000 for f in files)
    last = logs.recent(40)
    assert [e["msg"] for e in last] == [f"line {n} of the rotation test" for n in range(60, 100)]


def test_an_uncaught_exception_in_a_thread_is_logged_and_reported(log_folder, monkeypatch):
    import sys

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    shown = []
    logs.install_crash_handler(shown.append)

    def broken():
        raise RuntimeError("a bug for the crash handler, phone 876-555-0123")

    worker = threading.Thread(target=broken, name="worker-x")
    worker.start()
    worker.join()
    (entry,) = [e for e in entries(log_folder) if e["level"] == "CRITICAL"]
    assert "thread worker-x" in entry["msg"] and "RuntimeError: a bug for the crash handler" in entry["exc"]
    assert len(shown) == 1 and "RuntimeError" in shown[0] and "555-0123" not in shown[0]


# -- diagnostics -----------------------------------------------------------------------------------

def test_diagnostics_report_counts_and_checks_the_cache(services, log_folder):
    logging.getLogger("c360_desktop.test").info("something happened")
    report = services.diagnostics.collect()
    (customers,) = services.cache.reader().execute(
        "SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()
    assert report.cache["customers"] == customers
    assert report.cache["integrity"] == "ok"
    assert report.cache["size_bytes"] == services.cache.path.stat().st_size
    assert report.sync["outbox_pending"] == 0 and report.sync["last_sync_at"] == "never"
    assert report.paths["log folder"] == str(log_folder)
    assert any(e["msg"] == "something happened" for e in report.log)
    text = report.text()
    assert "Cache" in text and f"customers: {customers:,}" in text and "integrity: ok" in text


def test_a_damaged_cache_fails_the_integrity_check(demo_cache, tmp_path):
    from c360_desktop.core.diagnostics.service import DiagnosticsService
    from c360_desktop.core.settings import Settings
    from c360_desktop.core.storage.cache import open_cache

    size = demo_cache.stat().st_size
    with demo_cache.open("r+b") as f:  # garbage over pages in the middle of the file
        f.seek(size // 2 // 4096 * 4096)
        f.write(os.urandom(4096 * 8))
    cache = open_cache(demo_cache)
    try:
        found, _ms = DiagnosticsService(cache, Settings()).integrity()
    finally:
        cache.close()
    assert found != "ok" and found


def test_the_bundle_holds_the_report_and_logs_without_personal_data(services, log_folder, tmp_path):
    from c360_desktop.core.outputs import OutputError

    trn, phone, email = services.cache.reader().execute(
        "SELECT trn, primary_phone, primary_email FROM customer WHERE trn IS NOT NULL AND primary_email IS NOT NULL "
        "AND primary_phone IS NOT NULL LIMIT 1").fetchone()
    # a careless line that leaked personal data would still be masked in the bundle
    logging.getLogger("c360_desktop.test").info("careless: %s %s %s", trn, phone, email)
    report = services.diagnostics.collect(integrity=False)
    out = tmp_path / "bundle.zip"
    services.diagnostics.save_bundle(out, report)
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"diagnostics.json", "diagnostics.txt", f"logs/{logs.LOG_FILE}"} <= names
        body = {n: z.read(n).decode("utf-8") for n in names}
    assert json.loads(body["diagnostics.json"])["cache"]["customers"] == report.cache["customers"]
    assert "careless" in body[f"logs/{logs.LOG_FILE}"]
    for text in body.values():
        assert trn not in text and phone not in text and email not in text
    other = tmp_path / "notes.txt"
    other.write_text("my notes")
    with pytest.raises(OutputError, match="not a diagnostics bundle"):
        services.diagnostics.save_bundle(other, report)
    assert other.read_text() == "my notes"
