"""Sync under failure: killed at random moments, or the server gone mid-sync."""

import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from c360_desktop.core.storage.cache import open_cache, sqlite_uri
from server_sync import admin
from server_sync.devserver import DevPostgres
from tests.sync.helpers import fresh_index_definitions, index_definitions, table_digests

C360 = str(Path(sys.executable).with_name("c360"))
pytestmark = pytest.mark.slow


def start_sync(url, cache, *extra):
    return subprocess.Popen([C360, "sync", "--url", url, "--cache", str(cache), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pulled_some(cache_path) -> bool:
    """Whether a first pull has written customers yet (read while the sync writes: WAL)."""
    import sqlite3

    if not cache_path.exists():
        return False
    try:
        conn = sqlite3.connect(sqlite_uri(cache_path, readonly=True), uri=True, timeout=0.1)
        try:
            return conn.execute("SELECT count(*) FROM customer").fetchone()[0] > 0
        finally:
            conn.close()
    except sqlite3.Error:
        return False  # not made yet, or still being laid out


def test_killed_at_50_random_points_the_cache_still_ends_equal_to_central(central_url, tmp_path):
    cache_path = tmp_path / "cache.db"
    rng = random.Random(2026)
    start_sync(central_url, tmp_path / "timing.db").communicate(timeout=300)
    runs = []
    for _ in range(2):  # the quicker of two runs: a run slowed by a busy machine would put kills after the end
        started = time.perf_counter()
        start_sync(central_url, tmp_path / "timing.db", "--full").communicate(timeout=300)
        runs.append(time.perf_counter() - started)
    duration = min(runs)  # kill moments are drawn across most of a --full run
    killed_mid_run = 0
    for _ in range(50):
        proc = start_sync(central_url, cache_path, "--full")
        time.sleep(rng.uniform(0.02, 0.85 * duration))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_run += 1
        proc.wait(timeout=60)
        if cache_path.exists():
            open_cache(cache_path, create=False).close()  # never corrupt, never half-made
    assert killed_mid_run >= 40  # most kills landed while a sync was running
    done = start_sync(central_url, cache_path)
    _out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    cache = open_cache(cache_path, create=False)
    want, have = table_digests(cache, central_url)
    assert have == want  # same rows, same values: nothing lost, nothing duplicated
    conn = cache.reader()
    assert conn.execute("SELECT count(*) FROM customer_fts").fetchone()[0] == want["customer"][0]
    assert cache.meta("derived_stale") is None
    assert index_definitions(cache) == fresh_index_definitions(tmp_path)  # rebuilt after every kill


def test_server_stopped_mid_sync_then_back(tmp_path):
    with DevPostgres(database="c360") as server:
        admin.init(server.url)
        admin.seed(server.url, 3_000, 9, as_of=date(2026, 11, 27))
        cache_path = tmp_path / "cache.db"
        proc = start_sync(server.url, cache_path)
        # Stop the server once the pull has begun (the first customers are in the cache), not
        # after a fixed time: on a quiet machine the whole sync can be over within a second.
        deadline = time.monotonic() + 120
        while not pulled_some(cache_path):
            assert proc.poll() is None, "the sync ended before the server could be stopped mid-pull"
            assert time.monotonic() < deadline, "the sync never started pulling"
            time.sleep(0.01)
        server.stop("immediate")
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2
        assert "sync failed: cannot reach the database server at 127.0.0.1" in err
        assert "Traceback" not in err
        cache = open_cache(cache_path, create=False)  # what was committed before the stop is intact
        server.start()
        proc = start_sync(server.url, cache_path)
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        want, have = table_digests(cache, server.url)
        assert have == want
