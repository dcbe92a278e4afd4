"""Roles and permissions as data, applied inside the services (issue 19, Part 2 item 5)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from c360_desktop.core.security import ROLE_PERMISSIONS, Permission, Role, User, can, redact

C360 = str(Path(sys.executable).with_name("c360"))


def test_every_role_has_its_permissions_and_field_reps_no_pii():
    assert set(ROLE_PERMISSIONS) == set(Role)
    rep, analyst = User("rep", Role.FIELD_REP), User("ana", Role.ANALYST)
    assert not can(rep, Permission.VIEW_PII) and not can(rep, Permission.ASSIGN_LEADS)
    assert can(analyst, Permission.VIEW_PII) and can(analyst, Permission.TRAIN_MODELS)
    assert all(can(User("root", Role.ADMIN), p) for p in Permission)
    assert not can(User("dee", Role.DATA_STEWARD), Permission.ASSIGN_LEADS)


def test_redact_masks_trn_and_birth_date_everywhere_in_a_profile(services):
    cid = services.cache.reader().execute(
        "SELECT id FROM customer WHERE trn IS NOT NULL AND date_of_birth IS NOT NULL LIMIT 1").fetchone()[0]
    services.settings.role = "analyst"
    full = services.profiles.get(cid)
    services.settings.role = "field_rep"
    masked = services.profiles.get(cid)
    assert full.trn and masked.trn == f"***-***-{full.trn[-3:]}" and masked.date_of_birth is None
    assert full.date_of_birth is not None  # the original is untouched
    raw = [r.fields.get("Tax ID") for r in masked.source_records if r.fields.get("Tax ID")]
    assert all(v.startswith("***-***-") for v in raw)
    assert redact(full, User("a", Role.MANAGER)) is full


@pytest.mark.parametrize("role, masked", [("field_rep", True), ("analyst", False)])
def test_show_json_masks_as_the_360_pane_does(demo_cache, tmp_path, role, masked):
    conn = sqlite3.connect(demo_cache)
    cid, trn = conn.execute("SELECT id, trn FROM customer WHERE trn IS NOT NULL LIMIT 1").fetchone()
    conn.close()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text(json.dumps({"role": role}))
    r = subprocess.run([C360, "show", cid, "--cache", str(demo_cache), "--json"], capture_output=True, text=True,
                       timeout=120, env={"PATH": "/usr/bin:/bin", "C360_CONFIG_DIR": str(tmp_path / "config"),
                                         "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["trn"] == (f"***-***-{trn[-3:]}" if masked else trn)
    assert (trn in r.stdout) is (not masked)


def test_a_masked_trn_finds_nothing_and_phones_still_do(services):
    """Searching by a TRN is no way around its masking (issue 21, item 3)."""
    rows = services.cache.reader().execute(
        "SELECT id, trn, primary_phone FROM customer WHERE trn IS NOT NULL AND primary_phone IS NOT NULL "
        "AND deleted_at IS NULL LIMIT 30").fetchall()
    services.settings.role = "manager"
    assert all(cid in [h.customer_id for h in services.search.search(trn)] for cid, trn, _p in rows)
    services.settings.role = "field_rep"
    for cid, trn, phone in rows:
        for typed in (trn, f"{trn[:3]}-{trn[3:6]}-{trn[6:]}", trn[:6]):
            hits = services.search.search(typed)
            assert all(h.customer_id != cid for h in hits) or phone.replace("+", "")[1:].startswith(
                "".join(ch for ch in typed if ch.isdigit())), (typed, hits[:1])
        assert cid in [h.customer_id for h in services.search.search(phone[-10:])]
