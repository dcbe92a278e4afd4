"""Users and roles at the centre (issue 21, items 1 and 3), enforced by PostgreSQL: a field rep's
pull holds only their parishes' customers, and no TRN, date of birth or raw source record, even
when the rep asks the server for more; the desktop takes the role from the centre, not its
settings; users are added, moved, disabled and listed with c360-server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from c360_desktop.core.services import Services
from c360_desktop.core.settings import Settings
from c360_desktop.core.sync import SyncError, sync

SERVER = str(Path(sys.executable).with_name("c360-server"))
PARISHES = ["JM-01", "JM-02"]


def _server(*args: str, password: str = "a-long-enough-secret") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "C360_NEW_USER_PASSWORD": password}
    return subprocess.run([SERVER, "user", *args], capture_output=True, text=True, timeout=120, env=env)


def _as(url: str, user: str) -> str:
    return str(make_url(url).set(username=user))


def _one(conn, sql: str, *params):
    cur = conn.cursor()
    cur.execute(sql, params)
    value = cur.fetchone()[0]
    conn.commit()
    return value


def test_a_field_rep_gets_only_their_parishes_and_no_pii_whatever_they_ask(central_url, central, tmp_path):
    rep, manager = f"rep_{uuid.uuid4().hex[:8]}", f"mgr_{uuid.uuid4().hex[:8]}"
    added = _server("add", rep, "--role", "field_rep", "--parishes", ",".join(PARISHES), "--url", central_url)
    assert added.returncode == 0 and f"added {rep}: field_rep in JM-01, JM-02" in added.stdout, added.stderr
    assert _server("add", manager, "--role", "manager", "--url", central_url).returncode == 0

    # The rep's desktop says "manager" in its settings, and asks for every parish.
    services = Services.open(tmp_path / "rep.db", Settings(user_name=rep, role="manager"), create=True)
    try:
        sync(services.cache, _as(central_url, rep), parishes=None)
        assert services.user.role.value == "field_rep" and services.user.territory == tuple(PARISHES)
        conn = services.cache.reader()
        parishes = {r[0] for r in conn.execute("SELECT DISTINCT parish FROM customer")}
        assert parishes == set(PARISHES)
        want = _one(central, "SELECT count(*) FROM customer WHERE parish = ANY(%s)", PARISHES)
        assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == want > 50
        assert conn.execute("SELECT count(*) FROM customer WHERE trn IS NOT NULL OR date_of_birth IS NOT NULL"
                            ).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM source_record WHERE fields != '{}'").fetchone()[0] == 0
        want_sales = _one(central, 'SELECT count(*) FROM "transaction" t JOIN customer c ON c.id = t.customer_id '
                                   "WHERE c.parish = ANY(%s)", PARISHES)
        assert conn.execute('SELECT count(*) FROM "transaction"').fetchone()[0] == want_sales
        assert conn.execute("SELECT count(*) FROM subject_request").fetchone()[0] == 0
        # The rep's own changes still go up: a note on one of their customers.
        cid = conn.execute("SELECT id FROM customer LIMIT 1").fetchone()[0]
        note = services.profiles.add_note(cid, "Visited the shop", rep)
        pushed, _ = sync(services.cache, _as(central_url, rep))
        assert pushed.applied >= 1
        assert _one(central, "SELECT body FROM note WHERE id = %s", note.id) == "Visited the shop"
    finally:
        services.close()

    # Asking the server directly, as the rep, gets no more.
    u = make_url(central_url)
    direct = psycopg2.connect(host=u.host, port=u.port, user=rep, dbname=u.database)
    try:
        assert _one(direct, "SELECT count(*) FROM customer WHERE parish NOT IN ('JM-01', 'JM-02')") == 0
        assert _one(direct, "SELECT count(*) FROM interaction i WHERE NOT EXISTS "
                            "(SELECT 1 FROM customer c WHERE c.id = i.customer_id)") == 0
        for sql in ("SELECT trn FROM customer", "SELECT date_of_birth FROM customer", "SELECT fields FROM source_record",
                    "SELECT * FROM subject_request", "SELECT * FROM audit_log"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                _one(direct, sql)
            direct.rollback()
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):  # cannot move a customer out of bounds
            cur = direct.cursor()
            cur.execute("UPDATE customer SET parish = 'JM-05' WHERE parish = 'JM-01'")
        direct.rollback()
    finally:
        direct.close()

    # A manager's pull is whole.
    full = Services.open(tmp_path / "mgr.db", Settings(user_name=manager, role="field_rep"), create=True)
    try:
        sync(full.cache, _as(central_url, manager))
        assert full.user.role.value == "manager"
        conn = full.cache.reader()
        assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == _one(central, "SELECT count(*) FROM customer")
        assert conn.execute("SELECT count(*) FROM customer WHERE trn IS NOT NULL").fetchone()[0] > 0
    finally:
        full.close()

    listed = _server("list", "--url", central_url)
    assert f"{rep}" in listed.stdout and "JM-01,JM-02" in listed.stdout and "active" in listed.stdout
    moved = _server("role", rep, "field_rep", "--parishes", "JM-03", "--url", central_url)
    assert moved.returncode == 0 and "is now field_rep in JM-03" in moved.stdout
    again = Services.open(tmp_path / "rep2.db", Settings(user_name=rep), create=True)
    try:
        sync(again.cache, _as(central_url, rep))
        assert {r[0] for r in again.cache.reader().execute("SELECT DISTINCT parish FROM customer")} == {"JM-03"}
    finally:
        again.close()
    assert _server("disable", rep, "--url", central_url).returncode == 0
    gone = Services.open(tmp_path / "rep3.db", Settings(user_name=rep), create=True)
    try:
        with pytest.raises(SyncError, match="not permitted to log in"):
            sync(gone.cache, _as(central_url, rep))
    finally:
        gone.close()


@pytest.mark.parametrize(("args", "message"), [
    (["add", "rep_x", "--role", "field_rep"], "a field rep needs --parishes"),
    (["add", "rep_x", "--role", "field_rep", "--parishes", "JM-99"], "parish 'JM-99' is not a parish code"),
    (["add", "rep'; DROP TABLE customer; --", "--role", "manager"], "lower-case letters"),
    (["role", "nobody_here", "manager"], "no user 'nobody_here'"),
])
def test_bad_user_commands_are_refused_with_the_reason(central_url, central, args, message):
    done = _server(*args, "--url", central_url)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert _one(central, "SELECT count(*) FROM customer") > 0  # nothing dropped
    short = _server("add", "rep_short", "--role", "manager", "--url", central_url, password="short")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr


def test_sign_in_asks_the_centre_when_it_answers_and_the_desktop_when_it_does_not(tmp_path, demo_cache):
    """Central credentials online (issue 21, item 2): a PostgreSQL with password (SCRAM) logins,
    so a wrong password is really refused by the server; a user the centre knows is enrolled on
    first sign-in with the centre's role; a disabled account loses its offline way in too; with
    the server stopped, the same password opens the cache from the desktop's own record."""
    from c360_desktop.core.security import Role, signin
    from c360_desktop.core.settings import ConnectionProfile
    from server_sync import admin
    from server_sync.devserver import DevPostgres

    with DevPostgres(password="owner-secret-123") as server:
        os.environ["PGPASSWORD"] = "owner-secret-123"
        try:
            admin.init(server.url, password="owner-secret-123")
            admin.user_add(server.url, "maria", "field_rep", ["JM-05"], "maria-central-pw", password="owner-secret-123")
        finally:
            del os.environ["PGPASSWORD"]
        settings = Settings(user_name="maria", profiles=[ConnectionProfile(name="hq", url=server.url)],
                            active_profile="hq")
        services = Services.open(demo_cache, Settings(user_name="setup"))
        try:
            services.signin.enrol("ana", "local admin password", Role.ADMIN)
        finally:
            services.close()
        with pytest.raises(signin.SignInError, match="central database refused the password for maria"):
            Services.open_signed_in(demo_cache, settings, "maria", "not maria's password")
        assert [u["name"] for u in signin.users(demo_cache)] == ["ana"]  # nobody enrolled on a refusal
        services = Services.open_signed_in(demo_cache, settings, "maria", "maria-central-pw")
        try:
            assert services.user.role is Role.FIELD_REP and services.user.territory == ("JM-05",)
            details = services.cache.reader().execute(
                "SELECT details FROM audit_event WHERE action = 'signin' ORDER BY occurred_at DESC, rowid DESC"
            ).fetchone()[0]
            assert '"checked_by": "central database"' in details
            failed = services.cache.reader().execute(
                "SELECT details FROM audit_event WHERE action = 'signin.failed'").fetchall()
            assert len(failed) == 1 and "refused by the central database" in failed[0][0]
        finally:
            services.close()
        assert {u["name"]: u["role"] for u in signin.users(demo_cache)} == {"ana": "admin", "maria": "field_rep"}
        admin.user_role(server.url, "maria", "manager", None, password="owner-secret-123")
        services = Services.open_signed_in(demo_cache, settings, "maria", "maria-central-pw")
        try:
            assert services.user.role is Role.MANAGER  # the centre's word, kept for offline sign-ins too
        finally:
            services.close()
        port = make_url(server.url).port
    # the centre is gone (a laptop in the field): the desktop's own record decides
    with pytest.raises(signin.SignInError, match="user name or password is wrong"):
        Services.open_signed_in(demo_cache, settings, "maria", "not maria's password")
    services = Services.open_signed_in(demo_cache, settings, "maria", "maria-central-pw")
    try:
        assert services.user.role is Role.MANAGER
        details = services.cache.reader().execute(
            "SELECT details FROM audit_event WHERE action = 'signin' ORDER BY occurred_at DESC, rowid DESC"
        ).fetchone()[0]
        assert '"checked_by": "this desktop"' in details and "cannot reach" in details and str(port)
    finally:
        services.close()


def test_a_user_disabled_at_the_centre_cannot_sign_in_offline_afterwards(tmp_path, demo_cache):
    from c360_desktop.core.security import Role, signin
    from c360_desktop.core.settings import ConnectionProfile
    from server_sync import admin
    from server_sync.devserver import DevPostgres

    with DevPostgres(password="owner-secret-123") as server:
        admin.init(server.url, password="owner-secret-123")
        admin.user_add(server.url, "omar", "manager", [], "omar-central-pass", password="owner-secret-123")
        settings = Settings(profiles=[ConnectionProfile(name="hq", url=server.url)], active_profile="hq")
        services = Services.open(demo_cache, Settings(user_name="setup"))
        try:
            services.signin.enrol("ana", "local admin password", Role.ADMIN)
        finally:
            services.close()
        Services.open_signed_in(demo_cache, settings, "omar", "omar-central-pass").close()
        admin.user_disable(server.url, "omar", password="owner-secret-123")
        with pytest.raises(signin.SignInError):
            Services.open_signed_in(demo_cache, settings, "omar", "omar-central-pass")
    assert [u["name"] for u in signin.users(demo_cache)] == ["ana"]
    with pytest.raises(signin.SignInError, match="user name or password is wrong"):
        Services.open_signed_in(demo_cache, settings, "omar", "omar-central-pass")


def _all(conn, sql: str, *params):
    cur = conn.cursor()
    cur.execute(sql, params)
    rows = cur.fetchall()
    conn.commit()
    return rows


OWN = ("SELECT c.id FROM customer c WHERE c.parish = ANY(%s) AND (c.rep_id = %s OR EXISTS (SELECT 1 FROM lead l "
       "WHERE l.customer_id = c.id AND l.rep_id = %s AND l.status IN ('new', 'contacted', 'qualified')))")


def test_a_rep_gets_phones_and_e_mails_of_their_own_customers_only(central_url, central, tmp_path):
    """Item 3: full phones and e-mails never reach a field rep's cache except for the customers
    they work (theirs, or with an open lead of theirs); the rest of their parishes come without."""
    (me,) = _all(central, "SELECT r.id FROM sales_rep r JOIN customer c ON c.rep_id = r.id WHERE c.parish = ANY(%s) "
                          "AND c.primary_phone IS NOT NULL GROUP BY r.id ORDER BY count(*) DESC LIMIT 1", PARISHES)[0]
    rep = f"rep_{uuid.uuid4().hex[:8]}"
    added = _server("add", rep, "--role", "field_rep", "--parishes", ",".join(PARISHES), "--sales-rep", me,
                    "--url", central_url)
    assert added.returncode == 0, added.stderr
    own = {r[0] for r in _all(central, OWN, PARISHES, me, me)}
    phones = dict(_all(central, "SELECT id, primary_phone FROM customer WHERE parish = ANY(%s)", PARISHES))
    assert 0 < len(own) < len(phones)
    services = Services.open(tmp_path / "rep.db", Settings(user_name=rep), create=True)
    try:
        sync(services.cache, _as(central_url, rep))
        conn = services.cache.reader()
        held = dict(conn.execute("SELECT id, primary_phone FROM customer").fetchall())
        assert set(held) == set(phones)  # every customer of the parishes
        with_phone = {c for c, p in held.items() if p}
        assert with_phone == {c for c in own if phones[c]} and all(held[c] == phones[c] for c in with_phone)
        others = set(phones) - own
        assert conn.execute("SELECT count(*) FROM customer WHERE primary_email IS NOT NULL AND id IN ({})".format(
            ",".join("?" * len(others))), sorted(others)).fetchone()[0] == 0
        contact_owners = {r[0] for r in conn.execute("SELECT DISTINCT customer_id FROM contact_point")}
        assert contact_owners and contact_owners <= own
        stranger = next(c for c in sorted(others) if phones[c])
        assert not [h for h in services.search.search(phones[stranger][-10:]) if h.customer_id == stranger]

        # the centre gives the rep a new customer, and takes one away: the next pull follows
        lost = next(c for c in sorted(own) if not _all(central, "SELECT 1 FROM lead WHERE customer_id = %s "
                                                                "AND rep_id = %s AND status IN ('new', 'contacted', "
                                                                "'qualified')", c, me))
        (other_rep,) = _all(central, "SELECT id FROM sales_rep WHERE id != %s LIMIT 1", me)[0]
        cur = central.cursor()
        cur.execute("UPDATE customer SET rep_id = %s WHERE id = %s", (me, stranger))
        cur.execute("UPDATE customer SET rep_id = %s WHERE id = %s", (other_rep, lost))
        central.commit()
        sync(services.cache, _as(central_url, rep))
        now = dict(conn.execute("SELECT id, primary_phone FROM customer WHERE id IN (?, ?)", (stranger, lost)))
        assert now[stranger] == phones[stranger] and now[lost] is None
        assert conn.execute("SELECT count(*) FROM contact_point WHERE customer_id = ?", (lost,)).fetchone()[0] == 0
    finally:
        services.close()
    u = make_url(central_url)
    direct = psycopg2.connect(host=u.host, port=u.port, user=rep, dbname=u.database)
    try:
        for sql in ("SELECT primary_phone FROM customer", "SELECT primary_email FROM customer"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                _one(direct, sql)
            direct.rollback()
        seen = {r[0] for r in _all(direct, "SELECT DISTINCT customer_id FROM contact_point")}
        assert seen and seen <= own | {stranger}
    finally:
        direct.close()
