"""Pulling from a real PostgreSQL: complete, incremental, territory-scoped, refused when it must be."""

import pytest

from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import SyncError, sync
from tests.sync.helpers import fresh_index_definitions, index_definitions, table_digests


@pytest.fixture
def cache(tmp_path):
    c = open_cache(tmp_path / "cache.db")
    yield c
    c.close()


def test_first_pull_makes_the_cache_equal_central(cache, central_url, tmp_path):
    _pushed, result = sync(cache, central_url)
    # The secondary indexes set aside for the load are all back, as the migrations define them.
    assert index_definitions(cache) == fresh_index_definitions(tmp_path) and cache.meta("deferred_indexes") is None
    want, have = table_digests(cache, central_url)
    assert have == want
    assert result.rows == sum(n for n, _ in want.values())
    conn = cache.reader()
    n_customers = want["customer"][0]
    assert conn.execute("SELECT count(*) FROM customer_fts").fetchone()[0] == n_customers
    assert conn.execute("SELECT count(*) FROM customer_summary").fetchone()[0] == n_customers
    assert cache.meta("last_sync_at") is not None and cache.meta("derived_stale") is None
    name = conn.execute("SELECT display_name FROM customer WHERE kind = 'business' LIMIT 1").fetchone()[0]
    assert name in [h.display_name for h in CustomerSearch(cache).search(name)]


def test_incremental_pull_brings_edits_deletions_and_new_rows(cache, central_url, central):
    sync(cache, central_url)
    cur = central.cursor()
    cur.execute("""UPDATE customer SET display_name = 'Zebediah Quartermaine', given_name = 'Zebediah',
                   family_name = 'Quartermaine' WHERE id = (SELECT customer_id FROM "transaction"
                   GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1) RETURNING id""")
    cid = cur.fetchone()[0]
    cur.execute('SELECT id, total_cents FROM "transaction" WHERE customer_id = %s LIMIT 1', (cid,))
    tid, total = cur.fetchone()
    cur.execute('UPDATE "transaction" SET deleted_at = now() WHERE id = %s', (tid,))
    cur.execute("""INSERT INTO interaction (id, customer_id, occurred_at, channel, direction, subject, body,
                   sentiment, updated_by) VALUES ('01a3e000-0000-7000-8000-000000000001', %s, now(), 'call',
                   'inbound', 'Complaint', 'Order arrived late', -0.8, 'test')""", (cid,))
    central.commit()
    spend_before = cache.reader().execute(
        "SELECT lifetime_spend_cents FROM customer_summary WHERE customer_id = ?", (cid,)).fetchone()[0]
    sync(cache, central_url)
    want, have = table_digests(cache, central_url)
    assert have == want
    conn = cache.reader()
    assert [h.customer_id for h in CustomerSearch(cache).search("Zebediah Quartermaine")] == [cid]
    assert conn.execute('SELECT deleted_at IS NOT NULL FROM "transaction" WHERE id = ?', (tid,)).fetchone() == (1,)
    spend_after = conn.execute(
        "SELECT lifetime_spend_cents FROM customer_summary WHERE customer_id = ?", (cid,)).fetchone()[0]
    assert spend_after == spend_before - total  # a soft-deleted sale no longer counts
    assert conn.execute("SELECT body FROM interaction WHERE id = '01a3e000-0000-7000-8000-000000000001'").fetchone() == (
        "Order arrived late",)


def test_a_territory_holds_its_customers_and_follows_moves(cache, central_url, central):
    sync(cache, central_url, parishes=["JM-12"])
    want, have = table_digests(cache, central_url, parishes=["JM-12"])
    assert have == want
    conn = cache.reader()
    assert {p for (p,) in conn.execute("SELECT DISTINCT parish FROM customer")} == {"JM-12"}
    assert conn.execute("SELECT count(*) FROM territory").fetchone()[0] == 14  # reference data whole
    cur = central.cursor()
    cur.execute("""SELECT c.id FROM customer c WHERE c.parish = 'JM-01'
                   AND EXISTS (SELECT 1 FROM "transaction" t WHERE t.customer_id = c.id) LIMIT 1""")
    arriving = cur.fetchone()[0]
    cur.execute("SELECT id FROM customer WHERE parish = 'JM-12' ORDER BY id LIMIT 1")
    leaving = cur.fetchone()[0]
    cur.execute("UPDATE customer SET parish = 'JM-12', town = 'Mandeville' WHERE id = %s", (arriving,))
    cur.execute("UPDATE customer SET parish = 'JM-13', town = 'May Pen' WHERE id = %s", (leaving,))
    central.commit()
    sync(cache, central_url, parishes=["JM-12"])
    want, have = table_digests(cache, central_url, parishes=["JM-12"])
    assert have == want  # the newcomer arrived with all its history; the leaver is gone with its own
    assert conn.execute('SELECT count(*) FROM "transaction" WHERE customer_id = ?', (arriving,)).fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM customer WHERE id = ?", (leaving,)).fetchone()[0] == 0
    assert leaving not in [h.customer_id for h in CustomerSearch(cache).search("mandeville", limit=1000)]


def test_a_newer_central_schema_is_refused_and_nothing_written(cache, central_url, central):
    cur = central.cursor()
    cur.execute("UPDATE c360_meta SET value = '99' WHERE key = 'schema_version'")
    central.commit()
    with pytest.raises(SyncError, match="version 99, newer than this app supports"):
        sync(cache, central_url)
    assert cache.reader().execute("SELECT count(*) FROM customer").fetchone()[0] == 0
    assert cache.reader().execute("SELECT count(*) FROM sync_state").fetchone()[0] == 0


def test_not_a_central_database(cache, pg):
    url = pg.create_database("empty_db")
    with pytest.raises(SyncError, match="not a C360 central database"):
        sync(cache, url)


def test_unreachable_server_and_password_in_url(cache, pg):
    from server_sync.devserver import free_port

    with pytest.raises(SyncError, match="cannot reach the database server at 127.0.0.1"):
        sync(cache, f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/c360")
    with pytest.raises(SyncError, match="must not contain a password"):
        sync(cache, pg.url.replace("postgres@", "postgres:secret@"))
    with pytest.raises(SyncError, match="is not a database URL"):
        sync(cache, "not a url at all")
    assert cache.reader().execute("SELECT count(*) FROM sync_state").fetchone()[0] == 0


@pytest.mark.slow
def test_wrong_password_is_named(tmp_path):
    from server_sync.devserver import DevPostgres

    with DevPostgres(password="right-one") as server:
        cache = open_cache(tmp_path / "c.db")
        with pytest.raises(SyncError, match="refused the password"):
            sync(cache, server.url, password="wrong-one")
        with pytest.raises(SyncError, match="not a C360 central database"):
            sync(cache, server.url, password="right-one")  # the password was right; the schema absent


def test_a_transaction_that_commits_late_is_not_skipped(cache, central_url):
    """T1 takes a row version and stays open while T2 takes a higher one and commits; a pull in
    between must not move past T1's change, which becomes visible only later."""
    import psycopg2
    from sqlalchemy.engine import make_url

    sync(cache, central_url)
    u = make_url(central_url)
    t1 = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    t2 = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    c1, c2 = t1.cursor(), t2.cursor()
    c1.execute("SELECT id FROM customer ORDER BY id LIMIT 2")
    a, b = (r[0] for r in c1.fetchall())
    c1.execute("UPDATE customer SET display_name = 'Late Committer' WHERE id = %s", (a,))  # T1: open
    c2.execute("UPDATE customer SET display_name = 'Early Committer' WHERE id = %s", (b,))
    t2.commit()
    # pull while T1 is still open (for longer than any re-read overlap could cover)
    c2.execute("UPDATE interaction SET sentiment = sentiment WHERE id IN (SELECT id FROM interaction LIMIT 2000)")
    c2.execute("UPDATE customer SET status = status WHERE id IN (SELECT id FROM customer WHERE id <> %s LIMIT 1000)", (a,))
    t2.commit()
    sync(cache, central_url)
    t1.commit()
    sync(cache, central_url)
    names = dict(cache.reader().execute("SELECT id, display_name FROM customer WHERE id IN (?, ?)", (a, b)))
    assert names == {a: "Late Committer", b: "Early Committer"}
    want, have = table_digests(cache, central_url)
    assert have == want
    t1.close()
    t2.close()


def test_progress_counts_rows_against_what_is_pending(cache, central_url):
    from c360_desktop.core.progress import Progress

    seen = []
    _pushed, result = sync(cache, central_url, progress=Progress(lambda f, m: seen.append((f, m))))
    fractions = [f for f, _m in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    pulling = [m for _f, m in seen if " rows (" in m]
    assert pulling and all(" of " in m and "s left" in m for m in pulling)
    assert f"of {result.rows:,} rows" in pulling[-1]


def test_near_in_postgis_agrees_with_the_cache(cache, central_url):
    """'Near' asked of the central PostGIS (ST_DWithin on geography, GiST index) and of the cache's
    R*Tree find the same customers at the same distances (PostGIS measures on the spheroid, the
    cache on a sphere: they differ by up to about 0.5%). The cache also places customers with no
    coordinates at their town (geocode.py), which the centre does not: those are left out here."""
    from c360_desktop.core.geo.places import near, near_central

    sync(cache, central_url)
    conn = cache.reader()
    placed_by_town = {c for (c,) in conn.execute("SELECT customer_id FROM customer_place WHERE precision != 'exact'")}
    assert placed_by_town, "the seed has customers without coordinates: the cache places them by town"
    for lat, lon, radius in [(18.0358, -77.5050, 10), (17.9970, -76.7936, 3), (18.47, -77.92, 15)]:
        local = [n for n in near(conn, lat, lon, radius, limit=100_000) if n.customer_id not in placed_by_town]
        central = near_central(central_url, lat, lon, radius, limit=100_000)
        assert local, f"nobody near {lat}, {lon}: a useless check"
        # Only a customer within 0.5% of the edge may be on one side and not the other.
        edge = radius * 0.006
        assert {n.customer_id for n in local if n.distance_km < radius - edge} <= {n.customer_id for n in central}
        assert {n.customer_id for n in central if n.distance_km < radius - edge} <= {n.customer_id for n in local}
        both = {n.customer_id: n.distance_km for n in central}
        for n in local:
            if n.customer_id in both:
                assert abs(both[n.customer_id] - n.distance_km) <= 0.006 * n.distance_km + 0.002


def test_cli_near_asks_postgis_with_url(central_url, capsys):
    import json

    from c360_desktop.cli import main

    assert main(["near", "--url", central_url, "--lat", "18.0358", "--lon", "-77.5050", "--radius-km", "10",
                 "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found and all(f["distance_km"] <= 10 for f in found)
    assert [f["distance_km"] for f in found] == sorted(f["distance_km"] for f in found)
