"""Data-subject requests (issue 21, item 8): the register, access exports, and erasure from this
cache, down to the bytes of the file."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from c360_desktop.core.privacy.requests import RESPONSE_DAYS, RequestError
from c360_desktop.core.privacy.service import PrivacyError, PrivacyRefused


def unique_person(path: Path) -> dict:
    """An individual whose name, phones, e-mail and TRN no other record in the cache holds, with
    notes or interactions: so after erasure none of them may be anywhere in the file."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT c.id, c.display_name, c.primary_phone, c.primary_email, c.trn FROM customer c "
            "WHERE c.kind = 'individual' AND c.trn IS NOT NULL AND c.primary_email IS NOT NULL "
            "AND c.primary_phone IS NOT NULL AND c.deleted_at IS NULL "
            "AND EXISTS (SELECT 1 FROM interaction i WHERE i.customer_id = c.id) "
            "AND (SELECT count(*) FROM identity_link l WHERE l.customer_id = c.id) >= 2 ORDER BY c.id").fetchall()
        for cid, name, phone, email, trn in rows:
            values = {name, phone[-10:], email.lower(), trn}
            others = conn.execute(
                "SELECT count(*) FROM customer WHERE id != ? AND (display_name = ? OR trn = ? OR "
                "lower(primary_email) = ? OR primary_phone = ?)", (cid, name, trn, email.lower(), phone)).fetchone()[0]
            others += conn.execute(
                "SELECT count(*) FROM contact_point WHERE customer_id != ? AND (value = ? OR lower(value) = ?)",
                (cid, phone, email.lower())).fetchone()[0]
            others += conn.execute(
                "SELECT count(*) FROM source_record s WHERE NOT EXISTS (SELECT 1 FROM identity_link l WHERE "
                "l.source_record_id = s.id AND l.customer_id = ?) AND (instr(s.fields, ?) OR instr(s.fields, ?) "
                "OR instr(lower(s.fields), ?) OR instr(s.fields, ?))", (cid, name, trn, email.lower(), phone[-7:])
            ).fetchone()[0]
            if not others:
                return {"id": cid, "name": name, "phone": phone, "email": email.lower(), "trn": trn, "values": values}
    finally:
        conn.close()
    raise AssertionError("no customer with values of their own in the demo")


def file_text(path: Path) -> str:
    """The cache file and its write-ahead log, every page, as text (case folded)."""
    data = path.read_bytes()
    wal = Path(str(path) + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data.decode("latin-1").lower()


def traces(path: Path, person: dict) -> list[str]:
    text = file_text(path)
    digits = re.sub(r"\D", "", text)  # "876-555-1234" or "(876) 555 1234" as much as "8765551234"
    found = [v for v in (person["name"].lower(), person["email"]) if v in text]
    found += [v for v in (person["phone"][-10:], person["trn"]) if v in text or v in digits]
    return found


@pytest.fixture
def steward(services):
    services.settings.role = "data_steward"
    return services


def test_a_request_is_registered_with_its_due_date_synced_and_audited(steward):
    person = steward.search.search("a")[0]
    received = date.today() - timedelta(days=3)
    req = steward.privacy.open_request(person.customer_id, "access", received, "email", "asked by e-mail")
    assert req.due_on == received + timedelta(days=RESPONSE_DAYS) and req.status == "open"
    assert req.days_left() == RESPONSE_DAYS - 3 and not req.overdue and req.pending_sync
    assert req.subject == person.display_name
    old = steward.privacy.open_request(person.customer_id, "objection", date.today() - timedelta(days=40), "letter")
    assert old.overdue
    listed = steward.privacy.requests()
    assert [r.id for r in listed] == [old.id, req.id]  # open ones first, the most urgent on top
    conn = steward.cache.reader()
    assert conn.execute("SELECT count(*) FROM outbox WHERE entity = 'subject_request'").fetchone()[0] == 2
    closed = steward.privacy.close_request(old.id, "done", "marketing stopped on every channel")
    assert closed.status == "done" and closed.closed_by == "tester"
    assert conn.execute("SELECT count(*) FROM outbox WHERE entity = 'subject_request' AND operation = 'update'"
                        ).fetchone()[0] == 1
    actions = [e.action for e in steward.audit.entries()]
    assert actions[:3] == ["privacy.request.done", "privacy.request.open", "privacy.request.open"]
    with pytest.raises(RequestError, match="already"):
        steward.privacy.close_request(old.id, "refused", "again")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("kind", "delete", "kind 'delete' is not one of"),
    ("channel", "pigeon", "channel 'pigeon' is not one of"),
    ("received_on", date.today() + timedelta(days=2), "is in the future"),
    ("customer_id", "' OR '1'='1", "no customer ' OR '1'='1 in this cache"),
])
def test_a_bad_request_is_refused_with_a_reason_and_nothing_written(steward, field, value, message):
    person = steward.search.search("a")[0]
    args = {"customer_id": person.customer_id, "kind": "access", "received_on": date.today(), "channel": "email"}
    args[field] = value
    with pytest.raises(RequestError, match=re.escape(message)):
        steward.privacy.open_request(**args)
    assert steward.cache.reader().execute("SELECT count(*) FROM subject_request").fetchone()[0] == 0


@pytest.mark.parametrize("role", ["manager", "analyst", "field_rep"])
def test_only_those_who_handle_requests_may_and_a_refusal_is_audited(services, role):
    services.settings.role = role
    person = services.search.search("a")[0]
    with pytest.raises(PrivacyRefused, match="may not handle data-subject requests"):
        services.privacy.open_request(person.customer_id, "erasure", date.today(), "email")
    with pytest.raises(PrivacyRefused):
        services.privacy.requests()
    refused = services.cache.reader().execute(
        "SELECT action FROM audit_event WHERE action LIKE '%.refused' ORDER BY occurred_at").fetchall()
    assert [r[0] for r in refused] == ["privacy.request.open.refused", "privacy.requests.refused"]


def test_an_access_export_holds_everything_about_the_person(steward, demo_cache, tmp_path):
    person = unique_person(demo_cache)
    req = steward.privacy.open_request(person["id"], "access", date.today(), "email")
    out = steward.privacy.access_export(req.id, tmp_path / "access.json")
    data = json.loads(out.read_text(encoding="utf-8"))
    conn = sqlite3.connect(demo_cache)
    for table in ("contact_point", "customer_address", "transaction", "interaction", "note", "consent", "score",
                  "lead", "sales_activity", "identity_link"):
        want = conn.execute(f'SELECT count(*) FROM "{table}" WHERE customer_id = ?', (person["id"],)).fetchone()[0]
        assert len(data[table]) == want, table
        assert data["manifest"]["sections"][table] == want
    links = conn.execute("SELECT count(*) FROM identity_link WHERE customer_id = ?", (person["id"],)).fetchone()[0]
    assert len(data["source_records"]) == links >= 2
    assert data["customer"]["trn"] == person["trn"] and data["customer"]["display_name"] == person["name"]
    assert {s["system"] for s in data["source_records"]} and all(isinstance(s["fields"], dict)
                                                               for s in data["source_records"])
    assert data["manifest"]["request_id"] == req.id
    pdf = steward.privacy.access_export(req.id, tmp_path / "access.pdf", "pdf")
    head = pdf.read_bytes()
    assert head.startswith(b"%PDF-") and head.count(b"/Type /Page\n") + head.count(b"/Type /Page ") >= 1
    with pytest.raises(PrivacyError, match="exists"):
        steward.privacy.access_export(req.id, tmp_path / "access.json")
    assert [e.action for e in steward.audit.entries(action="privacy.access")] == ["privacy.access"] * 2


def test_erasure_leaves_no_trace_of_the_person_in_the_cache_file(steward, demo_cache, tmp_path):
    person = unique_person(demo_cache)
    other = steward.search.search("a")[0]
    assert other.customer_id != person["id"]
    # Another customer's note names the person; a search for them is in the audit log;
    # the columnar reports copy and an upgrade backup hold them too.
    note = steward.profiles.add_note(other.customer_id, f"Referred by {person['name']} ({person['phone']}).", "tester")
    steward.audit.record("search", "search", None, {"query": person["name"], "hits": 1})
    from c360_desktop.core.reports.columnar import ColumnarCopy, copy_path

    copy = ColumnarCopy(steward.cache)
    copy.ready()
    assert copy_path(demo_cache).exists()
    backup = demo_cache.with_name(demo_cache.name + ".pre-0021.bak")
    backup.write_bytes(demo_cache.read_bytes())
    assert traces(demo_cache, person)  # the test can see them before
    counts = {t: steward.cache.reader().execute(
        f'SELECT count(*), sum(customer_id = ?) FROM "{t}"', (person["id"],)).fetchone()
        for t in ("transaction", "interaction", "contact_point", "consent")}
    customers = steward.cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0]
    req = steward.privacy.open_request(person["id"], "erasure", date.today(), "letter",
                                       f"{person['name']} asked by letter")
    done = steward.privacy.erase(req.id)
    assert done.rows_removed > 10 and done.mentions_redacted >= 3
    steward.cache.checkpoint_truncate()

    assert traces(demo_cache, person) == []
    assert not backup.exists() and not copy_path(demo_cache).exists()
    conn = steward.cache.reader()
    # Nobody else lost anything.
    assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == customers - 1
    for t, (total, theirs) in counts.items():
        assert conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] == total - (theirs or 0), t
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT IN ('subject_request', 'audit_event')")]
    holding = [t for t in tables if "customer_id" in {c[1] for c in conn.execute(f'PRAGMA table_info("{t}")')}]
    assert len(holding) > 15
    for table in holding:
        assert conn.execute(f'SELECT count(*) FROM "{table}" WHERE customer_id = ?', (person["id"],)
                            ).fetchone()[0] == 0, table
    assert conn.execute("SELECT body FROM note WHERE id = ?", (note.id,)).fetchone()[0] == \
        "Referred by [erased] ([erased])."
    assert steward.search.search(person["name"]) == [] or all(
        h.customer_id != person["id"] for h in steward.search.search(person["name"]))
    # What remains: the request, closed, and the tombstone (ids only); the audit chain still verifies.
    closed = steward.privacy.request(req.id)
    assert closed.status == "done" and closed.subject == "erased customer" and "erased:" in (closed.outcome or "")
    tomb = conn.execute("SELECT customer_ids, source_record_ids FROM erasure").fetchone()
    assert json.loads(tomb[0]) == [person["id"]] and len(json.loads(tomb[1])) >= 2
    verdict = steward.audit.verify()
    assert verdict.ok and verdict.redacted == 1, verdict.message
    queued = {r[0] for r in conn.execute("SELECT entity FROM outbox WHERE pushed_at IS NULL")}
    assert "erasure" in queued
    with pytest.raises(PrivacyError, match="done already"):
        steward.privacy.erase(req.id)


def test_a_request_for_access_cannot_be_used_to_erase(steward):
    person = steward.search.search("a")[0]
    req = steward.privacy.open_request(person.customer_id, "access", date.today(), "email")
    with pytest.raises(PrivacyError, match="is an access request, not an erasure"):
        steward.privacy.erase(req.id)
    assert steward.cache.reader().execute("SELECT count(*) FROM customer WHERE id = ?",
                                          (person.customer_id,)).fetchone()[0] == 1


def test_the_command_line_runs_a_request_from_register_to_erasure(demo_cache, tmp_path):
    import subprocess
    import sys

    from c360_desktop.core.settings import Settings, save_settings

    c360 = str(Path(sys.executable).with_name("c360"))
    person = unique_person(demo_cache)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([c360, "request", *args, "--cache", str(demo_cache)], capture_output=True, text=True,
                              timeout=300)

    refused = run("list")
    assert refused.returncode != 0 and "analyst role may not handle data-subject requests" in refused.stderr
    save_settings(Settings(user_name="dora", role="data_steward"))
    opened = run("open", "--customer", person["id"], "--kind", "erasure", "--channel", "letter",
                 "--received", "2026-13-01")
    assert opened.returncode != 0 and "--received '2026-13-01' is not a date" in opened.stderr
    opened = run("open", "--customer", person["id"], "--kind", "erasure", "--channel", "letter")
    assert opened.returncode == 0, opened.stderr
    rid = opened.stdout.split()[0]
    assert "30 days left" in opened.stdout and person["name"] in opened.stdout
    access = run("access", rid, "--out", str(tmp_path / "held.json"))
    assert access.returncode == 0 and json.loads((tmp_path / "held.json").read_text())["customer"]["id"] == person["id"]
    no = run("erase", rid)
    assert no.returncode != 0 and "--yes" in no.stderr
    erased = run("erase", rid, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "rows removed" in erased.stdout
    listed = json.loads(run("list", "--json").stdout)
    assert [(r["id"], r["status"], r["subject"]) for r in listed] == [(rid, "done", "erased customer")]
    assert traces(demo_cache, person) == []


def test_a_tombstone_for_someone_this_cache_never_held_leaves_the_file_alone(services):
    from c360_desktop.core.privacy.erasure import Tombstone, apply

    with services.cache.writer() as w:
        w.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('reports_copy', 'abc')")
        done = apply(w, Tombstone("t-1", ("00000000-0000-7000-8000-00000000beef",)))
    assert (done.rows_removed, done.mentions_redacted) == (0, 0)
    # no vacuum owed, the reports copy still current, nothing in the audit trail
    assert services.cache.meta("erasure_vacuum_due") is None and services.cache.meta("reports_copy") == "abc"
    assert services.cache.reader().execute(
        "SELECT count(*) FROM audit_event WHERE action = 'privacy.erasure'").fetchone()[0] == 0
