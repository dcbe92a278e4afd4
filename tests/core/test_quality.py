"""Data quality on a demo cache with planted defects: every figure equals an independent recount
(pandas, regular expressions and the shared data files, not the app's validators), the history
and alerts follow, and the stewardship workflow fixes rows through the outbox with an audit."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from c360_desktop.core.quality.service import QualityError, QualityService
from c360_desktop.core.security import Role, User
from c360_desktop.core.storage.cache import open_cache

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "resources" / "jamaica"  # the shipped copy of ../shared/data
E164_JM = re.compile(r"\+1(876|658)\d{7}")
PARISHES = {f"JM-{i:02d}" for i in range(1, 15)}


def _local(e164: str) -> str:
    d = e164[2:]
    return f"({d[:3]}) {d[3:6]}-{d[6:]}"


def plant(path: Path) -> dict:
    """Defects as a careless import leaves them; returns what was planted, by kind."""
    conn = sqlite3.connect(path)
    ids = [r[0] for r in conn.execute("SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id")]
    towns = {}
    for row in csv.DictReader((SHARED / "jamaica_towns_geonames.csv").open(encoding="utf-8")):
        towns.setdefault(row["name"].replace("\u2019", "'").casefold(), set()).add(row["parish_iso"])
    planted = {"local_phone": ids[0:40], "bad_phone": ids[40:55], "bad_parish": ids[55:80],
               "no_parish": ids[80:90], "dashed_trn": [], "wrong_parish": [], "business_no_name": []}
    for cid in planted["local_phone"]:
        conn.execute("UPDATE customer SET primary_phone = ? WHERE id = ?",
                     (_local(conn.execute("SELECT primary_phone FROM customer WHERE id = ?", (cid,)).fetchone()[0]),
                      cid))
    for i, cid in enumerate(planted["bad_phone"]):
        conn.execute("UPDATE customer SET primary_phone = ? WHERE id = ?", (f"12{i:03d}", cid))
    for i, cid in enumerate(planted["bad_parish"]):
        conn.execute("UPDATE customer SET parish = ? WHERE id = ?", ("JM-99" if i % 2 else "St. Elsewhere", cid))
    for cid in planted["no_parish"]:
        conn.execute("UPDATE customer SET parish = NULL WHERE id = ?", (cid,))
    for cid, trn in conn.execute("SELECT id, trn FROM customer WHERE trn IS NOT NULL ORDER BY id DESC LIMIT 8").fetchall():
        conn.execute("UPDATE customer SET trn = ? WHERE id = ?", (f"{trn[:3]}-{trn[3:6]}-{trn[6:]}", cid))
        planted["dashed_trn"].append(cid)
    for cid, town, parish in conn.execute(
            "SELECT id, town, parish FROM customer WHERE parish IS NOT NULL ORDER BY id DESC LIMIT 200").fetchall():
        codes = towns.get((town or "").casefold())
        if codes and len(codes) == 1 and parish in PARISHES and cid not in planted["dashed_trn"]:
            wrong = "JM-01" if parish != "JM-01" else "JM-02"
            conn.execute("UPDATE customer SET parish = ? WHERE id = ?", (wrong, cid))
            planted["wrong_parish"].append(cid)
            if len(planted["wrong_parish"]) == 5:
                break
    for (cid,) in conn.execute("SELECT id FROM customer WHERE kind = 'business' ORDER BY id LIMIT 6").fetchall():
        conn.execute("UPDATE customer SET business_name = NULL WHERE id = ?", (cid,))
        planted["business_no_name"].append(cid)
    conn.execute("UPDATE source_record SET imported_at = '2026-06-01 09:00:00' WHERE system = 'spreadsheet'")
    conn.commit()
    conn.close()
    return planted


def recount(path: Path) -> dict[str, tuple[int, int]]:
    """(checked, failing) per rule, counted from the raw tables with pandas."""
    conn = sqlite3.connect(path)
    cu = pd.read_sql("SELECT * FROM customer WHERE deleted_at IS NULL", conn)
    cp = pd.read_sql("SELECT * FROM contact_point WHERE deleted_at IS NULL", conn)
    src = pd.read_sql("SELECT system, max(imported_at) AS newest FROM source_record WHERE deleted_at IS NULL "
                      "GROUP BY system", conn)
    pairs = pd.read_sql("SELECT customer_a, customer_b FROM review_pair WHERE status = 'pending'", conn)
    conn.close()
    towns: dict[str, set[str]] = {}
    for row in csv.DictReader((SHARED / "jamaica_towns_geonames.csv").open(encoding="utf-8")):
        towns.setdefault(row["name"].replace("\u2019", "'").casefold(), set()).add(row["parish_iso"])

    def filled(s):
        return s.notna() & (s.astype(str).str.strip() != "")

    def validity(series, ok):
        vals = series[filled(series)].astype(str)
        return len(vals), int((~vals.map(ok)).sum())

    def shared(series):
        vals = series[filled(series)].astype(str).str.strip().str.casefold()
        return len(vals), int(vals.duplicated(keep=False).sum())

    email = re.compile(r"[a-z0-9._%+'-]+@[a-z0-9.-]+\.[a-z]{2,}")

    def dob_ok(v):
        born = datetime.strptime(v[:10], "%Y-%m-%d").date()
        return born <= NOW.date() and NOW.year - born.year <= 120

    known = cu[cu.town.fillna("").str.casefold().isin(towns) & cu.parish.isin(PARISHES)]
    in_parish = known.apply(lambda r: r.parish in towns[r.town.casefold()], axis=1)
    biz = cu[cu.kind == "business"]
    stale = src.newest.map(lambda v: (NOW.replace(tzinfo=None) - datetime.fromisoformat(v[:19])).days > 30)
    in_pairs = set(pairs.customer_a) | set(pairs.customer_b)
    return {
        "customer.phone.complete": (len(cu), int((~filled(cu.primary_phone)).sum())),
        "customer.phone.valid": validity(cu.primary_phone, lambda v: E164_JM.fullmatch(v) is not None),
        "customer.email.valid": validity(cu.primary_email, lambda v: email.fullmatch(v) is not None),
        "customer.trn.valid": validity(cu.trn, lambda v: re.fullmatch(r"\d{9}", v) is not None),
        "customer.parish.complete": (len(cu), int((~filled(cu.parish)).sum())),
        "customer.parish.valid": validity(cu.parish, lambda v: v in PARISHES),
        "customer.dob.valid": validity(cu.date_of_birth, dob_ok),
        "contact.value.valid": (len(cp), int((~cp.apply(
            lambda r: (E164_JM if r.kind == "phone" else email).fullmatch(r.value) is not None, axis=1)).sum())),
        "customer.trn.unique": shared(cu.trn),
        "customer.email.unique": shared(cu.primary_email),
        "customer.duplicates": (len(cu), int(cu.id.isin(in_pairs).sum())),
        "source.fresh": (len(src), int(stale.sum())),
        "customer.town_in_parish": (len(known), int((~in_parish).sum())),
        "customer.business_name": (len(biz), int((~filled(biz.business_name)).sum())),
    }


@pytest.fixture
def planted(demo_cache):
    found = plant(demo_cache)
    cache = open_cache(demo_cache)
    yield cache, found, demo_cache
    cache.close()


def steward_of(cache, role=Role.DATA_STEWARD, name="sam.steward"):
    return QualityService(cache, lambda: User(name, role, ()))


def test_the_monitor_counts_equal_an_independent_recount(planted):
    cache, found, path = planted
    run = steward_of(cache).measure(now=NOW)
    got = {r.rule_id: (r.checked, r.failing) for r in run.results}
    assert got == recount(path)
    # and the planted defects are what it found
    assert got["customer.phone.valid"][1] == 55
    assert got["customer.parish.valid"][1] == 25 and got["customer.parish.complete"][1] == 10
    assert got["customer.trn.valid"][1] == 8 and got["customer.town_in_parish"][1] == 5
    assert got["customer.business_name"][1] == 6 and got["source.fresh"] == (4, 1)
    status = {r.rule_id: r.status for r in run.results}
    assert status["source.fresh"] == "amber"  # one source in four stale: above amber 1%, below red 50%
    assert "spreadsheet" in next(r.detail for r in run.results if r.rule_id == "source.fresh")


def test_drill_down_lists_the_offending_rows_with_the_fix_suggested(planted):
    cache, found, path = planted
    quality = steward_of(cache)
    rows = {f.entity_id: f for f in quality.failures("customer.phone.valid")}
    assert set(rows) == set(found["local_phone"]) | set(found["bad_phone"])
    conn = sqlite3.connect(path)
    for cid in found["local_phone"]:
        digits = re.sub(r"\D", "", rows[cid].value)
        assert rows[cid].suggestion == f"+1{digits}"
    assert all(rows[cid].suggestion is None for cid in found["bad_phone"])
    wrong = {f.entity_id: f for f in quality.failures("customer.town_in_parish")}
    assert set(wrong) == set(found["wrong_parish"])
    for cid, f in wrong.items():
        (town,) = conn.execute("SELECT town FROM customer WHERE id = ?", (cid,)).fetchone()
        assert f.suggestion != f.value and f.suggestion.startswith("JM-"), (town, f)
    trns = {f.entity_id: f.suggestion for f in quality.failures("customer.trn.valid")}
    assert set(trns) == set(found["dashed_trn"]) and all(re.fullmatch(r"\d{9}", t) for t in trns.values())
    stale = quality.failures("source.fresh")
    assert [(f.entity_id, f.value) for f in stale] == [("spreadsheet", "2026-06-01 09:00:00")]
    conn.close()


def test_a_role_without_personal_data_sees_trns_masked_in_the_drill_down(planted):
    cache, found, _path = planted
    rep = QualityService(cache, lambda: User("rep", Role.FIELD_REP, ()))
    values = [f.value for f in rep.failures("customer.trn.valid")]
    assert values and all(v.startswith("***-***-") for v in values)


def test_history_keeps_each_run_and_a_rule_turning_red_raises_one_alert(planted):
    cache, found, path = planted
    quality = steward_of(cache)
    first = quality.measure("import", now=NOW)
    first_phone = next(r for r in first.results if r.rule_id == "customer.phone.valid")
    assert first_phone.failing == 55 and first_phone.status == "amber"  # 55 of 3,000: amber (1% to 10%)
    assert {a.title.split(":")[1].split(",")[0].strip() for a in first.alerts} == {
        r.title.lower() for r in first.results if r.status == "red"}
    conn = sqlite3.connect(path)
    conn.execute("UPDATE customer SET primary_phone = 'unknown' WHERE rowid % 5 = 0")
    conn.commit()
    second = quality.measure("sync", now=NOW)
    assert [a.title for a in second.alerts] == [
        f"Data quality: phones in e.164 and valid, {next(r.share for r in second.results if r.rule_id == 'customer.phone.valid'):.1%} failing"]
    assert quality.measure("manual", now=NOW).alerts == ()  # still red: no second alert
    trend = quality.history("customer.phone.valid")
    assert [s for _at, _share, s in trend] == ["amber", "red", "red"]
    assert trend[0][1] == pytest.approx(55 / first_phone.checked)
    (stored,) = conn.execute("SELECT count(*) FROM alert WHERE type = 'data_quality'").fetchone()
    assert stored == len(first.alerts) + 1
    assert [r.rule_id for r in quality.latest()] == [r.rule_id for r in second.results]
    conn.close()


def test_the_companys_own_rules_apply_and_a_bad_one_is_named(planted, tmp_path):
    cache, found, _path = planted
    rules = tmp_path / "quality_rules.json"
    rules.write_text(json.dumps([
        {"id": "individual.family_name", "title": "Individuals with a family name", "kind": "consistency",
         "check": "requires", "when": {"kind": "individual"}, "require": "family_name"},
        {"id": "x", "title": "Broken", "kind": "validity", "field": "colour", "check": "phone"},
        {"id": "y", "title": "Too strict", "kind": "completeness", "field": "street", "amber": 0.5, "red": 0.1},
    ]))
    quality = QualityService(cache, lambda: User("sam", Role.DATA_STEWARD, ()), rules)
    run = quality.measure(now=NOW)
    ids = [r.rule_id for r in run.results]
    assert "individual.family_name" in ids and "x" not in ids and "y" not in ids
    assert run.problems == ("quality_rules.json, rule 2 (x): field 'colour' is not a field of customer",
                            "quality_rules.json, rule 3 (y): amber (0.5) is above red (0.1)")
    rules.write_text("{not json")
    _rules, problems = quality.rules()
    assert problems[0].startswith("quality_rules.json: not readable as JSON")


def test_a_steward_approves_a_fix_which_is_queued_for_the_centre_and_audited(planted):
    cache, found, path = planted
    quality = steward_of(cache)
    raised = quality.raise_issues("customer.phone.valid", assignee="sam.steward")
    assert raised == 55 and quality.raise_issues("customer.phone.valid") == 0  # no second issue per row
    issues = {i.entity_id: i for i in quality.issues(assignee="sam.steward")}
    cid = found["local_phone"][0]
    issue = issues[cid]
    assert issue.suggested_value and issue.found_value.startswith("(")
    applied = quality.approve(issue.id, note="checked with the customer")
    assert applied == {"primary_phone": issue.suggested_value}
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT primary_phone FROM customer WHERE id = ?", (cid,)).fetchone()[0] == issue.suggested_value
    outbox = conn.execute("SELECT entity, operation, payload FROM outbox WHERE pushed_at IS NULL ORDER BY seq").fetchall()
    kinds = [(e, op) for e, op, _p in outbox]
    assert kinds.count(("quality_issue", "insert")) == 55
    assert kinds[-3:] == [("quality_issue", "update"), ("customer", "update"), ("audit_event", "insert")]
    audit = json.loads(outbox[-1][2])["details"]  # one shape for every audit event (core.audit.log)
    assert audit["from"] == issue.found_value and audit["to"] == issue.suggested_value
    assert audit["note"] == "checked with the customer"
    with pytest.raises(QualityError, match="approved already by sam.steward"):
        quality.approve(issue.id)
    after = {r.rule_id: r.failing for r in quality.measure(now=NOW).results}
    assert after["customer.phone.valid"] == 54
    conn.close()


def test_a_fix_that_cannot_apply_changes_nothing(planted):
    cache, found, path = planted
    quality = steward_of(cache)
    quality.raise_issues("customer.phone.valid")
    no_fix = next(i for i in quality.issues() if i.entity_id == found["bad_phone"][0])
    before = sqlite3.connect(path).execute("SELECT count(*) FROM outbox").fetchone()[0]
    with pytest.raises(QualityError, match="no suggested fix"):
        quality.approve(no_fix.id)
    with pytest.raises(QualityError, match="not a phone number|not a valid phone"):
        quality.approve(no_fix.id, value="call me")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == before
    assert conn.execute("SELECT status FROM quality_issue WHERE id = ?", (no_fix.id,)).fetchone()[0] == "open"
    quality.approve(no_fix.id, value="876 555 0199", note="from the customer's letterhead")
    assert conn.execute("SELECT primary_phone FROM customer WHERE id = ?",
                        (found["bad_phone"][0],)).fetchone()[0] == "+18765550199"
    conn.close()


def test_rejecting_and_assigning_are_audited_and_only_stewards_may(planted):
    cache, found, path = planted
    quality = steward_of(cache)
    quality.raise_issues("customer.trn.valid")
    first, second = quality.issues()[:2]
    assert quality.assign([first.id, second.id], "dee.steward") == 2
    assert {i.id for i in quality.issues(assignee="dee.steward")} == {first.id, second.id}
    quality.reject(first.id, note="the dashes are how the source writes it")
    assert [i.status for i in quality.issues(status="rejected")] == ["rejected"]
    conn = sqlite3.connect(path)
    actions = [a for (a,) in conn.execute("SELECT action FROM audit_event ORDER BY occurred_at, rowid")]
    assert actions == ["quality.assign", "quality.assign", "quality.reject"]
    analyst = QualityService(cache, lambda: User("ana", Role.ANALYST, ()))
    for action in (lambda: analyst.approve(second.id), lambda: analyst.reject(second.id),
                   lambda: analyst.assign([second.id], "ana"), lambda: analyst.raise_issues("customer.trn.valid")):
        with pytest.raises(QualityError, match="the analyst role may not steward data"):
            action()
    with pytest.raises(QualityError, match="fixed at its source"):
        quality.raise_issues("source.fresh")
    conn.close()


def test_the_cli_measures_lists_rows_and_refuses_a_non_steward(planted, tmp_path, monkeypatch):
    import subprocess
    import sys

    cache, found, path = planted
    c360 = str(Path(sys.executable).with_name("c360"))
    r = subprocess.run([c360, "quality", "--json", "--strict", "--cache", str(path)], capture_output=True, text=True)
    report = json.loads(r.stdout)
    counts = {x["rule_id"]: (x["checked"], x["failing"]) for x in report["results"]}
    assert counts["customer.phone.valid"] == (recount(path)["customer.phone.valid"])
    assert r.returncode == (1 if any(x["status"] == "red" for x in report["results"]) else 0)
    r = subprocess.run([c360, "quality", "rows", "customer.phone.valid", "--json", "--cache", str(path)],
                       capture_output=True, text=True)
    assert {x["entity_id"] for x in json.loads(r.stdout)} == set(found["local_phone"]) | set(found["bad_phone"])
    r = subprocess.run([c360, "quality", "raise", "customer.phone.valid", "--cache", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "the analyst role may not steward data" in r.stderr  # the default role
    r = subprocess.run([c360, "quality", "rows", "no.such.rule", "--cache", str(path)], capture_output=True, text=True)
    assert r.returncode == 2 and "no quality rule 'no.such.rule'" in r.stderr
