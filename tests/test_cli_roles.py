"""Every role against the permission-guarded ``c360`` commands (issue 21, bar): each user signs in
as a script does (C360_USER / C360_PASSWORD) to a cache with one user per role; what the role may
do exits 0, what it may not exits 2 with a message saying who can, and the refusal is audited."""

from __future__ import annotations

import json
import sqlite3

import pytest

from c360_desktop import cli
from c360_desktop.core.security import ROLE_PERMISSIONS, Permission, Role, signin

PASSWORD = "role matrix password"


@pytest.fixture(scope="module")
def matrix_cache(demo_template, tmp_path_factory):
    import shutil

    path = tmp_path_factory.mktemp("roles") / "cache.db"
    shutil.copyfile(demo_template, path)
    for role in Role:
        signin.enrol(path, role.value, PASSWORD, role, ("JM-01",) if role is Role.FIELD_REP else (), None)
    return path


def _c360(monkeypatch, capsys, user: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("C360_USER", user)
    monkeypatch.setenv("C360_PASSWORD", PASSWORD)
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _customer(path) -> tuple[str, str]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, trn FROM customer WHERE trn IS NOT NULL LIMIT 1").fetchone()
    finally:
        conn.close()


def _refusals(path, user: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [a for (a,) in conn.execute(
            "SELECT action FROM audit_event WHERE actor = ? AND action LIKE '%.refused'", (user,))]
    finally:
        conn.close()


def _commands(path, tmp, role: Role) -> dict[Permission, tuple[str, ...]]:
    cache = ("--cache", str(path))
    return {
        Permission.EXPORT: ("report", "query", "--measure", "revenue", "--by", "parish", "--format", "csv",
                            "--out", str(tmp / f"revenue-{role.value}.csv"), *cache),
        Permission.VIEW_AUDIT: ("audit", "list", "--limit", "3", *cache),
        Permission.HANDLE_REQUESTS: ("request", "list", *cache),
        Permission.TRAIN_MODELS: ("train", "segments", *cache),
        Permission.MANAGE_USERS: ("signin", "add", f"added_by_{role.value}", "--role", "analyst", *cache),
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_runs_the_commands_it_may_and_no_others(matrix_cache, tmp_path, monkeypatch, capsys, role):
    monkeypatch.setenv("C360_NEW_PASSWORD", "a brand new password")
    allowed = ROLE_PERMISSIONS[role]
    outcome = {}
    for permission, args in _commands(matrix_cache, tmp_path, role).items():
        before = len(_refusals(matrix_cache, role.value))
        code, _out, err = _c360(monkeypatch, capsys, role.value, *args)
        if code == 0:
            outcome[permission] = "allowed"
            assert len(_refusals(matrix_cache, role.value)) == before
        else:
            outcome[permission] = "refused"
            assert code == 2 and "may not" in err and (" can" in err or "open to" in err), (permission, err)
            assert len(_refusals(matrix_cache, role.value)) == before + 1, (permission, err)
    assert outcome == {p: "allowed" if p in allowed else "refused" for p in outcome}
    if Permission.EXPORT in allowed:
        assert (tmp_path / f"revenue-{role.value}.csv").stat().st_size > 0
    else:
        assert not (tmp_path / f"revenue-{role.value}.csv").exists()  # nothing half-written either


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_show_masks_the_trn_for_roles_without_view_pii(matrix_cache, monkeypatch, capsys, role):
    cid, trn = _customer(matrix_cache)
    code, out, err = _c360(monkeypatch, capsys, role.value, "show", cid, "--json", "--cache", str(matrix_cache))
    assert code == 0, err
    shown = json.loads(out)
    digits = "".join(ch for ch in trn if ch.isdigit())
    if Permission.VIEW_PII in ROLE_PERMISSIONS[role]:
        assert shown["trn"] == trn
    else:
        assert shown["trn"].startswith("***") and digits not in out
