"""Erasure through a real PostgreSQL (issue 21, item 8): one desktop erases a person; the centre
deletes them and their history; a second desktop's next sync leaves no trace of them in its file."""

from __future__ import annotations

import json
from datetime import date

from c360_desktop.core.privacy.erasure import CUSTOMER_SCOPED
from c360_desktop.core.services import Services
from c360_desktop.core.settings import Settings
from c360_desktop.core.sync import sync
from tests.core.test_erasure import traces, unique_person


def _open(path, role: str, name: str) -> Services:
    return Services.open(path, Settings(user_name=name, role=role), create=True)


def test_an_erasure_reaches_the_centre_and_every_other_cache(central_url, central, tmp_path):
    a = _open(tmp_path / "a.db", "data_steward", "steward")
    b = _open(tmp_path / "b.db", "manager", "manager")
    try:
        sync(a.cache, central_url)
        sync(b.cache, central_url)
        person = unique_person(tmp_path / "b.db")
        other = next(h for h in b.search.search("a") if h.customer_id != person["id"])
        # On the second desktop: a note about someone else that names the person, and a search for
        # them, both pushed to the centre before the erasure.
        mention = b.profiles.add_note(other.customer_id, f"Came in with {person['name']}, {person['email']}", "manager")
        b.audit.record("search", "search", None, {"query": person["name"], "hits": 1})
        sync(b.cache, central_url)
        cur = central.cursor()  # an edit at the centre: its audit history holds the row before and after
        cur.execute("UPDATE customer SET postal_zone = 'Kingston 5' WHERE id = %s", (person["id"],))
        central.commit()
        cur.execute("SELECT count(*) FROM audit_log WHERE row_id = %s AND before::text ILIKE %s",
                    (person["id"], f"%{person['name']}%"))
        assert cur.fetchone()[0] == 1
        central.commit()

        req = a.privacy.open_request(person["id"], "erasure", date.today(), "email")
        a.privacy.erase(req.id)
        pushed, _ = sync(a.cache, central_url)
        assert pushed.applied >= 1

        # The centre: no row of theirs, no history of those rows, mentions redacted, the tombstone.
        for table in CUSTOMER_SCOPED:
            cur.execute(f'SELECT count(*) FROM "{table}" WHERE customer_id = %s', (person["id"],))
            assert cur.fetchone()[0] == 0, table
        cur.execute("SELECT count(*) FROM customer WHERE id = %s", (person["id"],))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM audit_log WHERE row_id = %s OR before::text ILIKE %s OR after::text ILIKE %s",
                    (person["id"], f"%{person['name']}%", f"%{person['name']}%"))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT body FROM note WHERE id = %s", (mention.id,))
        assert cur.fetchone()[0] == "Came in with [erased], [erased]"
        cur.execute("SELECT count(*) FROM audit_event WHERE details::text ILIKE %s", (f"%{person['name']}%",))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT customer_ids, source_record_ids, request_id FROM erasure")
        (ids, srids, request_id), = cur.fetchall()
        assert ids == [person["id"]] and len(srids) >= 2 and request_id == req.id
        cur.execute("SELECT count(*) FROM source_record WHERE id = ANY(%s)", (srids,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT status FROM subject_request WHERE id = %s", (req.id,))
        assert cur.fetchone()[0] == "done"
        central.commit()

        # Meanwhile the second desktop wrote a note about the person; its next sync drops it, applies
        # the tombstone, and no byte of the file (free pages, the log) names them.
        b.profiles.add_note(person["id"], "Call back about the order", "manager")
        assert traces(tmp_path / "b.db", person)
        pushed, pulled = sync(b.cache, central_url)
        assert pushed.dropped == 1 and pulled.erasures == 1
        b.cache.checkpoint_truncate()
        assert traces(tmp_path / "b.db", person) == []
        conn = b.cache.reader()
        assert conn.execute("SELECT count(*) FROM customer WHERE id = ?", (person["id"],)).fetchone()[0] == 0
        assert conn.execute("SELECT body FROM note WHERE id = ?", (mention.id,)).fetchone()[0] == \
            "Came in with [erased], [erased]"
        assert b.search.search(person["name"]) == [] or person["id"] not in {
            h.customer_id for h in b.search.search(person["name"])}
        verdict = b.audit.verify()
        assert verdict.ok and verdict.redacted == 1, verdict.message
        # The steward's desktop agrees with the centre after its own next sync; a third sync is a no-op.
        sync(a.cache, central_url)
        assert a.audit.verify().ok
        again, pulled = sync(b.cache, central_url)
        assert pulled.erasures == 0 and again.dropped == 0
        tomb = json.loads(conn.execute("SELECT redacted_events FROM erasure").fetchone()[0])
        assert len(tomb) >= 1
        # A desktop made afterwards gets the tombstone, finds nothing of the person, and so has
        # nothing to clean: no erasure entry of its own, no vacuum pending.
        c = _open(tmp_path / "c.db", "manager", "late")
        try:
            _, pulled = sync(c.cache, central_url)
            assert pulled.erasures == 1 and c.cache.meta("erasure_vacuum_due") is None
            assert c.cache.reader().execute("SELECT count(*) FROM audit_chain").fetchone()[0] == 0  # none of its own
        finally:
            c.close()
    finally:
        a.close()
        b.close()
