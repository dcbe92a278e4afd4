"""SQL injection and script strings in the text inputs not covered where they live (issue 21, bar):
sign-in user names, alert rule values, imported cells and notes are data, stored and shown as
typed, and change nothing else. (Search: test_search.py; report filters: test_reports.py; consent
sources: test_consent_actions.py; audit filters: test_audit.py.)"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from c360_desktop.core.security import Role, signin

HOSTILE = ("x' OR '1'='1", "'); DROP TABLE customer;--", "<script>alert(1)</script>", "Robert\"; DELETE FROM lead; --")
C360 = str(Path(sys.executable).with_name("c360"))


def _counts(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(path)
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                     for t in ("customer", "lead", "alert_rule"))
    finally:
        conn.close()


def test_hostile_user_names_sign_in_as_themselves_only(demo_cache):
    signin.enrol(demo_cache, "ana", "an admin password", Role.ADMIN, (), None)
    for name in HOSTILE:
        signin.enrol(demo_cache, name, "a long password!", Role.ANALYST, (), None)
    assert {u["name"] for u in signin.users(demo_cache)} == {"ana", *HOSTILE}
    for name in HOSTILE:
        assert signin.sign_in(demo_cache, name, "a long password!").user.name == name
        with pytest.raises(signin.SignInError):
            signin.sign_in(demo_cache, name, "an admin password")  # another user's password opens nothing
    with pytest.raises(signin.SignInError, match="one line"):
        signin.enrol(demo_cache, "evil\nname", "a long password!", Role.ADMIN, (), None)
    json.loads(signin.path_for(demo_cache).read_text())  # still one well-formed file


def test_hostile_alert_rule_values_are_stored_and_matched_as_text(services):
    from c360_desktop.core.alerts.rules import AlertRule, RuleEngine, rule_errors
    from c360_desktop.core.alerts.store import AlertStore

    before = _counts(services.cache.path)
    store = AlertStore(services.cache, lambda: services.user)
    services.settings.role = "manager"
    rules = store.rules()
    hostile = AlertRule.model_validate({"name": HOSTILE[0], "event_types": ["interaction.logged"],
                                        "conditions": [{"field": "payload.text", "op": "contains", "value": v}
                                                       for v in HOSTILE[:1]], "title": "{customer}: " + HOSTILE[2]})
    store.save_rules([*rules, hostile])
    again = {r.id: r for r in store.rules()}[hostile.id]
    assert again == hostile and again.conditions[0].value == HOSTILE[0]
    assert _counts(services.cache.path)[:2] == before[:2]
    errors = rule_errors({"name": "r", "event_types": ["interaction.logged"],
                          "conditions": [{"field": "payload.text'); DROP TABLE alert;--", "op": "contains",
                                          "value": "x"}]})
    assert errors and "payload.text'); DROP TABLE alert;--" in " ".join(errors)  # an unknown field, named
    assert RuleEngine([again]).rules == [again]


def test_hostile_cells_in_an_imported_file_are_names_and_notes_are_text(demo_cache, tmp_path, services):
    before = _counts(demo_cache)
    import csv

    with open(tmp_path / "hostile.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["Ref", "Full name", "Mobile", "E-mail"])
        out.writerows([f"H-{i}", f"{name} Brown", f"876-555-01{i:02d}", f"h{i}@example.com"]
                      for i, name in enumerate(HOSTILE))
    r = subprocess.run([C360, "import", "hostile.csv", "--id-column", "Ref", "--map", "Full name=Name", "--map",
                        "Mobile=Phone", "--map", "E-mail=Email", "--cache", str(demo_cache)],
                       capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    conn = sqlite3.connect(demo_cache)
    names = {n for (n,) in conn.execute("SELECT display_name FROM customer WHERE primary_email LIKE 'h_@example.com'")}
    conn.close()
    assert names == {f"{h} Brown" for h in HOSTILE}
    after = _counts(demo_cache)
    assert after[0] == before[0] + len(HOSTILE) and after[1] == before[1]
    cid = services.cache.reader().execute("SELECT id FROM customer LIMIT 1").fetchone()[0]
    for text in HOSTILE:
        note = services.profiles.add_note(cid, text, HOSTILE[1])
        assert note.body == text
    hits = services.search.search(HOSTILE[0])  # the query parser treats it as words, not SQL
    assert isinstance(hits, list)
    assert _counts(demo_cache)[0] == after[0]
