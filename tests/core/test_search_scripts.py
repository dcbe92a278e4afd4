"""Names in any script are found by their name (issue 19, item 10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from c360_desktop.core.search.index import fold
from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage.cache import open_cache

C360 = str(Path(sys.executable).with_name("c360"))
NAMES = {"M1": "محمد علي", "M2": "李小龙", "M3": "Владимир Петров", "M4": "김민준", "M5": "佐藤 さくら"}


@pytest.fixture
def imported(demo_cache, tmp_path):
    sheet = tmp_path / "world.csv"
    sheet.write_text("Ref,Name,Phone\n" + "".join(f"{ref},{name},876-555-{k:04d}\n"
                                                  for k, (ref, name) in enumerate(NAMES.items(), 700)), "utf-8")
    r = subprocess.run([C360, "import", str(sheet), "--id-column", "Ref", "--map", "Name=Name", "--map", "Phone=Phone",
                        "--cache", str(demo_cache)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    cache = open_cache(demo_cache)
    yield cache
    cache.close()


@pytest.mark.parametrize("query, name", [
    ("محمد علي", "محمد علي"), ("مُحَمَّد", "محمد علي"), ("علي", "محمد علي"),  # vowel marks typed or not
    ("李小龙", "李小龙"), ("小龙", "李小龙"),
    ("владимир", "Владимир Петров"), ("ПЕТРОВ", "Владимир Петров"),
    ("김민준", "김민준"), ("민준", "김민준"),
    ("さくら", "佐藤 さくら"), ("佐藤", "佐藤 さくら"),
])
def test_a_name_in_any_script_is_found_by_that_name(imported, query, name):
    hits = CustomerSearch(imported).search(query)
    assert hits and hits[0].display_name == name, [h.display_name for h in hits[:3]]


def test_the_command_line_finds_them_too(imported):
    r = subprocess.run([C360, "search", "李小龙", "--cache", str(imported.path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "李小龙" in r.stdout


def test_latin_names_fold_as_they_always_did():
    assert fold("José O'Neil-Brown") == "jose oneil brown"
    assert fold("Søren Ünal") == "sren unal"  # ø has no plain form: dropped, as in existing indexes


def test_a_cache_indexed_before_is_reindexed_on_upgrade(tmp_path):
    """A cache at 0012 whose index was built by the ASCII-only fold: after the upgrade the
    name is found."""
    from c360_desktop.core.storage import cache as cache_mod
    from tests.core.test_storage import _cache_at

    path = tmp_path / "old.db"
    conn = _cache_at(path, "0012")
    conn.execute("INSERT INTO customer (id, row_version, kind, display_name, status, search_key) "
                 "VALUES ('c1', 1, 'individual', '李小龙', 'active', 1)")
    conn.execute("INSERT INTO customer_fts (rowid, name, other) VALUES (1, '', '')")  # what the old fold made
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    cache = open_cache(path)
    assert cache.info.upgraded_from == "0012" and cache_mod.HEAD >= "0013"
    assert [h.customer_id for h in CustomerSearch(cache).search("李小龙")] == ["c1"]
    cache.close()
