"""A cache synced from a real PostgreSQL is encrypted (issue 21, item 4): equal to the centre when
decrypted with its key, and its file read raw holds none of the centre's names, phones or e-mails."""

from __future__ import annotations

import sqlite3

import pytest

from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import sync
from tests.core.test_encryption import _scan
from tests.sync.helpers import table_digests


def test_a_synced_cache_is_encrypted_and_equal_to_the_centre(keyring_store, central_url, central, tmp_path):
    path = tmp_path / "rep.db"
    cache = open_cache(path)
    try:
        assert cache.encrypted
        sync(cache, central_url)
        want, have = table_digests(cache, central_url)
        assert have == want
        cur = central.cursor()
        cur.execute("SELECT display_name, primary_phone, primary_email FROM customer")
        rows = cur.fetchall()
        central.commit()
        assert cache.checkpoint_truncate()
    finally:
        cache.close()
    names = {r[0] for r in rows if r[0] and " " in r[0]}
    phones = {r[1][-10:] for r in rows if r[1]}
    emails = {r[2] for r in rows if r[2]}
    assert len(names) > 1000
    raw = path.read_bytes()
    found = _scan(raw)
    assert not names & found["names"] and not phones & found["phones"] and not emails & found["emails"]
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        sqlite3.connect(path).execute("SELECT count(*) FROM customer").fetchone()
