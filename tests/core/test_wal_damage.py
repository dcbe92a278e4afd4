"""A cache whose write-ahead log lost committed transactions says so on opening (issue 19, item 12)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from c360_desktop.core.storage import wal
from c360_desktop.core.storage.cache import open_cache


def crashed_copy(tmp_path: Path, commits: int = 3) -> Path:
    """A cache as a crash leaves it: three committed transactions still only in the WAL (the
    files are copied while the writer still holds them open, so nothing was checkpointed)."""
    src = tmp_path / "live.db"
    open_cache(src).close()
    conn = sqlite3.connect(src, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    for k in range(commits):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO cache_meta (key, value) VALUES (?, ?)", (f"edit{k}", "x" * 3000))
        conn.execute("COMMIT")
    dst = tmp_path / "crashed.db"
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")
    conn.close()
    return dst


def edits(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT key FROM cache_meta WHERE key LIKE 'edit%' ORDER BY key")]
    finally:
        conn.close()


def test_a_clean_crash_recovers_everything_and_says_nothing(tmp_path):
    path = crashed_copy(tmp_path)
    found = wal.check(path)
    assert found is not None and found.replayed_commits == 3 and found.lost_commits == 0
    cache = open_cache(path)
    assert cache.info.wal_warning is None
    cache.close()
    assert edits(path) == ["edit0", "edit1", "edit2"]


def test_a_damaged_log_that_drops_committed_work_is_reported(tmp_path, caplog):
    path = crashed_copy(tmp_path)
    log_file = Path(f"{path}-wal")
    data = bytearray(log_file.read_bytes())
    page_size = int.from_bytes(data[8:12], "big")
    frames = (len(data) - 32) // (24 + page_size)
    # Damage one byte of the page in the middle frame, as a bad sector would.
    middle = 32 + (frames // 2) * (24 + page_size) + 24 + 100
    data[middle] ^= 0xFF
    log_file.write_bytes(bytes(data))
    found = wal.check(path)
    assert found is not None and found.lost_commits >= 1 and found.damaged_frame == frames // 2 + 1
    with caplog.at_level("WARNING"):
        cache = open_cache(path)
    assert cache.info.wal_warning == (f"{found.lost_commits} recent change set(s) were lost from a damaged log "
                                      "file; sync restores what the centre has")
    logged = [r.getMessage() for r in caplog.records if "write-ahead log is damaged" in r.getMessage()]
    assert len(logged) == 1 and f"damaged at frame {frames // 2 + 1} of {frames}" in logged[0]
    cache.close()
    assert len(edits(path)) == 3 - found.lost_commits  # what SQLite kept: the check was right
    # Reported once: the log was replayed and checkpointed, so the next open is quiet.
    again = open_cache(path)
    assert again.info.wal_warning is None
    again.close()


def test_no_log_or_not_a_log_is_no_finding(tmp_path):
    path = tmp_path / "c.db"
    open_cache(path).close()
    assert wal.check(path) is None
    Path(f"{path}-wal").write_bytes(b"not a log at all" * 10)
    assert wal.check(path) is None
