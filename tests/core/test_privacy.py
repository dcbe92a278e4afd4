"""Pseudonymised copies (issue 21, item 9): no personal value survives anywhere in the file,
tokens are consistent, figures are kept, and the copy never syncs."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from c360_desktop.core.privacy.service import PrivacyRefused
from c360_desktop.core.storage.cache import open_cache

C360 = str(Path(sys.executable).with_name("c360"))


def _originals(path: Path) -> dict[str, set[str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT display_name, primary_phone, primary_email, trn, street FROM customer").fetchall()
        contacts = conn.execute("SELECT kind, value FROM contact_point").fetchall()
    finally:
        conn.close()
    phones = {r[1] for r in rows if r[1]} | {v for k, v in contacts if k == "phone"}
    return {
        "names": {r[0] for r in rows if r[0] and " " in r[0]},
        "digits": {p[-10:] for p in phones} | {p[-7:] for p in phones} | {r[3] for r in rows if r[3]},
        "emails": {r[2].lower() for r in rows if r[2]} | {v.lower() for k, v in contacts if k == "email"},
        "streets": {r[4] for r in rows if r[4]},
    }


def _export(cache: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([C360, "export", "--pseudonymise", "--cache", str(cache), "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=300)


def test_no_name_phone_email_trn_or_street_is_left_in_the_file(demo_cache, tmp_path):
    before = _originals(demo_cache)
    assert len(before["names"]) > 2000 and len(before["digits"]) > 4000
    out = tmp_path / "pseudo.db"
    done = _export(demo_cache, out)
    assert done.returncode == 0, done.stderr
    assert "customers, pseudonymised" in done.stdout
    raw = out.read_bytes()  # every page, free or not
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "-", raw.decode("latin-1"))  # row ids
    names = set(re.findall(r"[A-Z][A-Za-z'\-]+(?: [A-Z][A-Za-z'\-&]+)+", text))
    digits = {m[i:i + n] for m in re.findall(r"\d{7,}", text) for n in (7, 9, 10) for i in range(len(m) - n + 1)}
    emails = {m.lower() for m in re.findall(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", text)}
    assert names & before["names"] == set()
    assert digits & before["digits"] == set()
    assert emails & before["emails"] == set()
    assert {s for s in before["streets"] if s in text} == set()
    assert not list(tmp_path.glob("pseudo.db.*"))  # no working copy left behind


def test_tokens_are_consistent_and_the_figures_are_kept(demo_cache, tmp_path):
    out = tmp_path / "pseudo.db"
    key = tmp_path / "key"
    key.write_bytes(b"0123456789abcdef-team-key")
    assert _export(demo_cache, out, "--key-file", str(key)).returncode == 0
    src, dst = sqlite3.connect(demo_cache), sqlite3.connect(out)
    figures = ("SELECT count(*), sum(total_cents) FROM \"transaction\"",
               "SELECT parish, count(*) FROM customer GROUP BY parish ORDER BY parish",
               "SELECT model, count(*), round(sum(value), 6) FROM score GROUP BY model ORDER BY model",
               "SELECT substr(date_of_birth, 1, 4), count(*) FROM customer GROUP BY 1 ORDER BY 1")
    for sql in figures:
        assert src.execute(sql).fetchall() == dst.execute(sql).fetchall(), sql
    # one phone, one token: a customer's primary phone and the same number among their contacts
    pairs = src.execute("SELECT c.id, cp.id FROM customer c JOIN contact_point cp ON cp.customer_id = c.id "
                        "AND cp.value = c.primary_phone LIMIT 50").fetchall()
    assert len(pairs) == 50
    for cid, cpid in pairs:
        (tok,) = dst.execute("SELECT primary_phone FROM customer WHERE id = ?", (cid,)).fetchone()
        assert dst.execute("SELECT value FROM contact_point WHERE id = ?", (cpid,)).fetchone() == (tok,)
    # the same key gives the same tokens in a second export
    again = tmp_path / "again.db"
    assert _export(demo_cache, again, "--key-file", str(key)).returncode == 0
    second = sqlite3.connect(again)
    sql = "SELECT id, display_name, trn, primary_email FROM customer ORDER BY id"
    assert dst.execute(sql).fetchall() == second.execute(sql).fetchall()
    assert dst.execute("SELECT value FROM cache_meta WHERE key = 'pseudonymised'").fetchone()
    for c in (src, dst, second):
        c.close()


def test_the_copy_opens_searches_by_token_and_never_syncs(demo_cache, tmp_path):
    from c360_desktop.core.search.service import CustomerSearch
    from c360_desktop.core.sync import SyncError, sync

    name = sqlite3.connect(demo_cache).execute(
        "SELECT display_name FROM customer WHERE kind = 'individual' ORDER BY id LIMIT 1").fetchone()[0]
    out = tmp_path / "pseudo.db"
    assert _export(demo_cache, out).returncode == 0
    cache = open_cache(out, create=False)
    try:
        (cid, shown) = cache.reader().execute(
            "SELECT id, display_name FROM customer WHERE kind = 'individual' ORDER BY id LIMIT 1").fetchone()
        search = CustomerSearch(cache)
        assert cid in [h.customer_id for h in search.search(shown.split()[1])]
        assert search.search(name) == []
        with pytest.raises(SyncError, match="pseudonymised copy"):
            sync(cache, "postgresql://rep@127.0.0.1:1/c360")
    finally:
        cache.close()


def test_a_role_without_export_is_refused_and_an_existing_file_is_kept(services, tmp_path):
    services.settings.role = "field_rep"
    with pytest.raises(PrivacyRefused, match="may not export"):
        services.privacy.pseudonymised_copy(tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()
    mine = tmp_path / "mine.xlsx"
    mine.write_bytes(b"PK\x03\x04 someone's workbook")
    done = _export(services.cache.path, mine)
    assert done.returncode == 2 and "mine.xlsx" in done.stderr
    assert mine.read_bytes() == b"PK\x03\x04 someone's workbook"
