"""The c360 command, run as a user runs it: a real process, real files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

C360 = str(Path(sys.executable).with_name("c360"))


def run(*args, timeout=300):
    return subprocess.run([C360, *args], capture_output=True, text=True, timeout=timeout)


def test_demo_data_search_and_show(tmp_path):
    out = tmp_path / "demo.db"
    r = run("demo-data", "--customers", "800", "--seed", "4", "--as-of", "2026-06-30", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Demo cache ready" in r.stderr and out.exists()
    r = run("search", "smith", "--cache", str(out), "--json", "--limit", "5")
    hits = json.loads(r.stdout)
    assert r.returncode == 0 and 0 < len(hits) <= 5 and all("smith" in h["display_name"].lower() for h in hits)
    r = run("show", hits[0]["customer_id"], "--cache", str(out), "--json")
    profile = json.loads(r.stdout)
    assert profile["id"] == hits[0]["customer_id"] and profile["display_name"] == hits[0]["display_name"]
    assert "transactions" in profile and "source_records" in profile


@pytest.mark.parametrize("args, message", [
    (["search", "x", "--cache", "/nonexistent/c.db"], "no cache at /nonexistent/c.db"),
    (["demo-data", "--customers", "0", "--out", "x.db"], "must be at least 1"),
    (["demo-data", "--customers", "ten", "--out", "x.db"], "'ten' is not a whole number"),
    (["demo-data", "--customers", "5", "--out", "x.db", "--as-of", "yesterday"], "not a date"),
    (["frobnicate"], "invalid choice"),
    (["demo-data", "--customers", "999999999999", "--out", "x.db"], "'999999999999' is too many; at most 5,000,000"),
    (["search", "x", "--limit", "99999999999999999999"], "is too many; at most 100,000"),
    (["leads", "--limit", "99999999999999999999"], "is too many; at most 100,000"),
])
def test_bad_input_is_one_clear_line(args, message):
    r = run(*args, timeout=30)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [
    ["search", "x", "--cache", "{dir}"],
    ["show", "someone", "--cache", "{dir}"],
    ["leads", "--cache", "{dir}"],
    ["demo-data", "--customers", "100", "--out", "{dir}"],
    ["demo-data", "--force", "--customers", "100", "--out", "{dir}"],
])
def test_a_folder_where_a_file_belongs_is_one_line(tmp_path, args):
    folder = tmp_path / "folder"
    (folder / "keep.txt").parent.mkdir()
    (folder / "keep.txt").write_text("mine")
    r = run(*[a.format(dir=folder) for a in args], timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "is a folder" in r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    assert not list(tmp_path.glob("*.partial*"))


def test_unknown_customer_and_foreign_file(demo_cache, tmp_path):
    r = run("show", "nope", "--cache", str(demo_cache))
    assert r.returncode == 2 and r.stderr.strip() == "c360: error: no customer with id 'nope' in this cache"
    bad = tmp_path / "notes.db"
    bad.write_text("not a database")
    r = run("search", "x", "--cache", str(bad))
    assert r.returncode == 2 and "not an SQLite database" in r.stderr and r.stderr.count("\n") == 1
    assert bad.read_text() == "not a database"


def test_demo_data_refuses_to_overwrite(demo_cache):
    size = demo_cache.stat().st_size
    r = run("demo-data", "--customers", "10", "--out", str(demo_cache))
    assert r.returncode == 2 and "already exists" in r.stderr
    assert demo_cache.stat().st_size == size


def test_demo_data_into_a_name_with_a_hash_writes_that_file(tmp_path):
    """``sales#3.db`` is the file written and read, not an unrelated file called ``sales``."""
    out = tmp_path / "sales#3.db"
    r = run("demo-data", "--customers", "30", "--seed", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == ["sales#3.db"]
    r = run("search", "a", "--cache", str(out), "--json", "--limit", "3")
    assert r.returncode == 0 and len(json.loads(r.stdout)) > 0, r.stderr


def test_terminal_output_carries_no_escape_sequences(demo_cache, tmp_path):
    """An imported name holding ESC[2J (clear screen) and an 8-bit CSI reaches the terminal as text."""
    (tmp_path / "evil.csv").write_text("Ref,Name,Phone\nE1,\x1b[2J\x1b]0;pwned\x07Mallory \x9b31mQuist,876-555-0123\n")
    r = run("import", str(tmp_path / "evil.csv"), "--id-column", "Ref", "--map", "Name=Name",
            "--map", "Phone=Phone", "--cache", str(demo_cache))
    assert r.returncode == 0, r.stderr
    r = run("search", "Mallory", "--cache", str(demo_cache))
    assert r.returncode == 0 and "Mallory" in r.stdout
    assert not any(ch in r.stdout + r.stderr for ch in "\x1b\x07\x9b")
    hits = json.loads(run("search", "Mallory", "--cache", str(demo_cache), "--json").stdout)
    assert "\x1b[2J" in hits[0]["display_name"]  # the data is kept as it was; only the terminal is spared
    r = run("show", hits[0]["customer_id"], "--cache", str(demo_cache))
    assert r.returncode == 0 and "Mallory" in r.stdout and "\x1b" not in r.stdout


def test_result_files_cannot_run_formulas_in_a_spreadsheet(tmp_path):
    import csv

    import pandas as pd

    from c360_desktop.core.identity.files import _csv_writer

    (tmp_path / "in.csv").write_text('id,name\n=1+2,Ann Brown\n"@SUM(A1)",Ann Brown\n-3,Bob Chin\n4,Cy Dunn\n')
    r = run("resolve", "--input", str(tmp_path / "in.csv"), "--id-column", "id", "--field", "name:full_name",
            "--out", str(tmp_path / "pairs.csv"), "--clusters", str(tmp_path / "clusters.csv"))
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "clusters.csv", newline="") as f:
        clusters = list(csv.DictReader(f))
    assert sorted(c["id"] for c in clusters) == ["'-3", "'=1+2", "'@SUM(A1)", "4"]
    assert all(not c["cluster_id"].startswith(("=", "+", "-", "@")) for c in clusters)
    # The pairs file's writer: text cells neutralised, numbers (negative evidence too) left as numbers.
    frame = pd.DataFrame({"id_l": ["=cmd|' /C calc'!A0", "+1"], "id_r": ["\tx", "ok"],
                          "probability": [0.95, 0.91], "name": [-1.5, 2.0]})
    _csv_writer(frame)(tmp_path / "pairs2.csv")
    assert (tmp_path / "pairs2.csv").read_text().splitlines() == [
        "id_l,id_r,probability,name", "'=cmd|' /C calc'!A0,'\tx,0.95,-1.5", "'+1,ok,0.91,2"]


def test_signin_users_and_every_command_asks_for_a_sign_in(tmp_path, demo_cache):
    """c360 signin (issue 21, item 2): the first user is an admin; then every command needs a
    password, from C360_PASSWORD in scripts; a rep may not add users."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("C360_USER")}

    def c360(*args, **extra):
        return subprocess.run([C360, *args, "--cache", str(demo_cache)], capture_output=True, text=True,
                              timeout=120, env={**env, **extra}, stdin=subprocess.DEVNULL)

    r = c360("signin", "add", "ana", "--role", "manager", C360_NEW_PASSWORD="manager password")
    assert r.returncode == 2 and "first user of a cache must be an admin" in r.stderr
    r = c360("signin", "add", "ana", "--role", "admin", C360_NEW_PASSWORD="short")
    assert r.returncode == 2 and "at least 10 characters" in r.stderr
    r = c360("signin", "add", "ana", "--role", "admin", C360_NEW_PASSWORD="admin password 1")
    assert r.returncode == 0, r.stderr
    r = c360("search", "smith")
    assert r.returncode == 2 and "needs a sign-in" in r.stderr and "C360_PASSWORD" in r.stderr
    r = c360("sync", "--url", "postgresql://127.0.0.1:9/c360")  # sync signs in too, before any connection
    assert r.returncode == 2 and "needs a sign-in" in r.stderr
    r = c360("search", "smith", C360_USER="ana", C360_PASSWORD="not the password")
    assert r.returncode == 2 and "sign-in refused: the user name or password is wrong" in r.stderr
    admin = {"C360_USER": "ana", "C360_PASSWORD": "admin password 1"}
    r = c360("search", "smith", "--json", **admin)
    assert r.returncode == 0 and json.loads(r.stdout), r.stderr
    r = c360("signin", "add", "ricky", "--role", "field_rep", "--parishes", "Kingston,St Andrew",
             C360_NEW_PASSWORD="rep password 22", **admin)
    assert r.returncode == 0, r.stderr
    r = c360("signin", "list", "--json", **admin)
    users = {u["name"]: u for u in json.loads(r.stdout)}
    assert users["ricky"]["role"] == "field_rep" and users["ricky"]["parishes"] == ["JM-01", "JM-02"]
    assert users["ana"]["failed_in_a_row"] == 0  # cleared by the sign-in that followed
    rep = {"C360_USER": "ricky", "C360_PASSWORD": "rep password 22"}
    r = c360("signin", "add", "mallory", "--role", "admin", C360_NEW_PASSWORD="mallory password", **rep)
    assert r.returncode == 2 and "may not manage users" in r.stderr
    r = c360("audit", "list", "--action", "signin.failed", "--json", **admin)
    assert r.returncode == 0, r.stderr
    failed = json.loads(r.stdout)
    assert len(failed) == 1 and failed[0]["actor"] == "ana"
    assert "admin password 1" not in (demo_cache.parent / "cache.db.signin.json").read_text()
