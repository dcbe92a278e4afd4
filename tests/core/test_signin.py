"""Sign-in (issue 21, item 2): users of a cache, the key wrapped under their passwords, failed
tries rate-limited and audited, TOTP, the idle lock and re-authentication before sensitive work.
Real scrypt, AES-GCM and SQLCipher throughout; the keyring is an in-memory backend."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from c360_desktop.core.security import Permission, Refused, Role, can, signin
from c360_desktop.core.services import Services
from c360_desktop.core.settings import Settings
from c360_desktop.core.storage import keys
from c360_desktop.core.storage.cache import CacheError, open_cache

ADMIN_PW = "correct horse battery"
REP_PW = "rep password 2026"


def _audit(services: Services, action: str) -> list[tuple[str, dict]]:
    rows = services.cache.reader().execute(
        "SELECT actor, details FROM audit_event WHERE action = ? ORDER BY occurred_at, rowid", (action,)).fetchall()
    return [(actor, json.loads(details)) for actor, details in rows]


@pytest.fixture
def encrypted_cache(keyring_store, demo_cache: Path) -> Path:
    open_cache(demo_cache).close()  # converted on open
    assert keys.is_encrypted(demo_cache)
    return demo_cache


def _enrol_admin(path: Path) -> None:
    services = Services.open(path, Settings(user_name="setup"))
    try:
        services.signin.enrol("ana", ADMIN_PW, Role.ADMIN)
    finally:
        services.close()


def test_a_cache_without_users_opens_as_the_demo_user_and_never_asks_again(services):
    assert not services.signin.required()
    assert services.user.name == "tester" and services.user.session is None
    from c360_desktop.core.security import require_fresh

    require_fresh(services.user, "Exporting")  # nothing to ask for


def test_the_first_user_must_be_an_admin_and_only_admins_add_more(demo_cache):
    services = Services.open(demo_cache, Settings(user_name="setup"))
    try:
        with pytest.raises(signin.SignInError, match="first user of a cache must be an admin"):
            services.signin.enrol("ana", ADMIN_PW, Role.MANAGER)
        with pytest.raises(signin.SignInError, match="at least 10 characters"):
            services.signin.enrol("ana", "short", Role.ADMIN)
        services.signin.enrol("ana", ADMIN_PW, Role.ADMIN)
        assert services.signin.required()
    finally:
        services.close()
    rep = Services.open_signed_in(demo_cache, Settings(), "ana", ADMIN_PW)
    try:
        rep.signin.enrol("ricky", REP_PW, Role.FIELD_REP, ("JM-01",))
    finally:
        rep.close()
    ricky = Services.open_signed_in(demo_cache, Settings(), "ricky", REP_PW)
    try:
        assert ricky.user.role is Role.FIELD_REP and ricky.user.territory == ("JM-01",)
        assert not can(ricky.user, Permission.EXPORT)
        with pytest.raises(Refused, match="may not manage users"):
            ricky.signin.enrol("mallory", "mallory password", Role.ADMIN)
        assert _audit(ricky, "signin.enrol.refused")[0][0] == "ricky"
    finally:
        ricky.close()
    assert [u["name"] for u in signin.users(demo_cache)] == ["ana", "ricky"]
    if os.name == "posix":
        assert stat.S_IMODE(signin.path_for(demo_cache).stat().st_mode) == 0o600


def test_the_password_unwraps_the_key_and_protect_takes_it_out_of_the_keyring(encrypted_cache, keyring_store):
    _enrol_admin(encrypted_cache)
    services = Services.open_signed_in(encrypted_cache, Settings(), "ana", ADMIN_PW)
    try:
        services.signin.protect()
    finally:
        services.close()
    assert not any(account.startswith("cache-key:") for _service, account in keyring_store)
    with pytest.raises(CacheError, match="kept only under its users' passwords: sign in"):
        open_cache(encrypted_cache)  # the computer's account alone no longer opens it
    with pytest.raises(signin.SignInError, match="user name or password is wrong"):
        Services.open_signed_in(encrypted_cache, Settings(), "ana", "not the password")
    services = Services.open_signed_in(encrypted_cache, Settings(), "ana", ADMIN_PW)
    try:
        assert services.cache.encrypted
        assert services.stats().customers > 2000
        assert services.user.name == "ana" and services.user.role is Role.ADMIN
        # the wrong try above is in the audit log now, with when it happened
        (actor, details), = _audit(services, "signin.failed")
        assert actor == "ana" and details["attempted_at"] and details["why"].startswith("wrong password")
        assert _audit(services, "signin")[-1][1]["failed_before"] == 1
        with pytest.raises(CacheError, match="unprotect"):
            services.cache.rekey()  # would lock out the other users' wraps: refused before any change
    finally:
        services.close()


def test_after_a_rekey_the_next_sign_in_wraps_the_new_key(encrypted_cache):
    _enrol_admin(encrypted_cache)
    services = Services.open_signed_in(encrypted_cache, Settings(), "ana", ADMIN_PW)
    try:
        old = services.cache.key
        services.rekey_cache()
        new = services.cache.key
        assert new != old
    finally:
        services.close()
    services = Services.open_signed_in(encrypted_cache, Settings(), "ana", ADMIN_PW)  # old wrap: keyring key
    try:
        assert services.cache.key == new
    finally:
        services.close()
    assert signin.sign_in(encrypted_cache, "ana", ADMIN_PW).secret == new  # wrapped again


def test_failed_sign_ins_wait_longer_each_time_even_across_restarts(demo_cache):
    _enrol_admin(demo_cache)
    t = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    for i in range(signin.FREE_TRIES - 1):
        with pytest.raises(signin.SignInError) as caught:
            signin.sign_in(demo_cache, "ana", f"guess number {i}", now=t)
        assert caught.value.wait_s == 0
    with pytest.raises(signin.SignInError, match="try again in 30 s"):
        signin.sign_in(demo_cache, "ana", "guess number five", now=t)
    # the right password is refused too until the wait is over: guessing gains nothing
    with pytest.raises(signin.SignInError, match="too many failed sign-ins"):
        signin.sign_in(demo_cache, "ana", ADMIN_PW, now=t + timedelta(seconds=10))
    with pytest.raises(signin.SignInError, match="try again in 60 s"):
        signin.sign_in(demo_cache, "ana", "guess six", now=t + timedelta(seconds=31))
    signed = signin.sign_in(demo_cache, "ana", ADMIN_PW, now=t + timedelta(seconds=31 + 61))
    assert len(signed.failures) == 6 and signed.user.role is Role.ADMIN
    # unknown names share one counter, so guessing names is limited as well
    for i in range(signin.FREE_TRIES):
        with pytest.raises(signin.SignInError, match="user name or password is wrong"):
            signin.sign_in(demo_cache, f"nobody{i}", "whatever it is", now=t)
    with pytest.raises(signin.SignInError, match="too many failed"):
        signin.sign_in(demo_cache, "somebody", "whatever it is", now=t)


def test_an_edited_role_or_cheaper_cost_in_the_file_makes_the_sign_in_fail(demo_cache):
    _enrol_admin(demo_cache)
    services = Services.open_signed_in(demo_cache, Settings(), "ana", ADMIN_PW)
    try:
        services.signin.enrol("ricky", REP_PW, Role.FIELD_REP, ("JM-01",))
    finally:
        services.close()
    path = signin.path_for(demo_cache)
    data = json.loads(path.read_text())
    data["users"]["ricky"]["role"] = "admin"  # self-promotion by editing the file
    path.write_text(json.dumps(data))
    with pytest.raises(signin.SignInError, match="wrong"):
        signin.sign_in(demo_cache, "ricky", REP_PW)
    data["users"]["ricky"]["role"] = "field_rep"
    data["users"]["ana"]["kdf"]["n"] = 2**4  # make guessing cheap
    path.write_text(json.dumps(data))
    with pytest.raises(signin.SignInError):
        signin.sign_in(demo_cache, "ana", ADMIN_PW)
    assert signin.sign_in(demo_cache, "ricky", REP_PW).user.role is Role.FIELD_REP
    path.write_text("{ not json")
    with pytest.raises(signin.SignInError, match=r"cache.db.signin.json beside the cache cannot be read"):
        signin.sign_in(demo_cache, "ricky", REP_PW)


def test_totp_is_asked_for_once_enabled_and_a_code_works_once(demo_cache):
    _enrol_admin(demo_cache)
    services = Services.open_signed_in(demo_cache, Settings(), "ana", ADMIN_PW)
    try:
        secret, uri = services.signin.totp_begin()
        assert uri.startswith("otpauth://totp/C360%20Desktop:ana?secret=" + secret)
        with pytest.raises(signin.SignInError, match="does not match"):
            services.signin.totp_enable(ADMIN_PW, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        services.signin.totp_enable(ADMIN_PW, secret, pyotp.TOTP(secret).now())
    finally:
        services.close()
    with pytest.raises(signin.SignInError, match="6-digit code"):
        signin.sign_in(demo_cache, "ana", ADMIN_PW)
    t = datetime.now(UTC) + timedelta(minutes=2)  # a step no code was used in yet
    code = pyotp.TOTP(secret).at(t)
    assert signin.sign_in(demo_cache, "ana", ADMIN_PW, code, now=t).user.name == "ana"
    with pytest.raises(signin.SignInError, match="authenticator code is wrong"):
        signin.sign_in(demo_cache, "ana", ADMIN_PW, code, now=t)  # seen over a shoulder: refused
    # a new password keeps the second factor
    signin.change_password(demo_cache, "ana", ADMIN_PW, "another long password")
    later = t + timedelta(minutes=1)
    assert signin.sign_in(demo_cache, "ana", "another long password", pyotp.TOTP(secret).at(later), now=later)


def test_sensitive_work_asks_for_the_password_again_after_five_minutes(demo_cache):
    _enrol_admin(demo_cache)
    services = Services.open_signed_in(demo_cache, Settings(), "ana", ADMIN_PW)
    try:
        assert services.session is not None
        services.session.authenticated_at -= timedelta(minutes=6)
        reps = list(services.leads.reps())
        leads = [lid for (lid,) in services.cache.reader().execute(
            "SELECT id FROM lead WHERE deleted_at IS NULL LIMIT 3")]
        with pytest.raises(signin.ReauthNeeded, match="Assigning leads in bulk"):
            services.leads.assign({lid: reps[0] for lid in leads})
        assert services.leads.assign({leads[0]: reps[1]}) == 1  # one lead: no prompt
        req = services.privacy.open_request(services.cache.reader().execute(
            "SELECT id FROM customer LIMIT 1").fetchone()[0], "erasure", datetime.now(UTC).date(), "email", "")
        with pytest.raises(signin.ReauthNeeded, match="Erasing a customer"):
            services.privacy.erase(req.id)
        with pytest.raises(signin.ReauthNeeded, match="Exporting a person's data"):
            services.privacy.access_export(req.id, demo_cache.with_name("access.json"))
        assert not demo_cache.with_name("access.json").exists()
        with pytest.raises(signin.SignInError, match="wrong"):
            services.signin.reauthenticate("not my password")
        assert _audit(services, "reauth.failed")[0][0] == "ana"
        services.signin.reauthenticate(ADMIN_PW)
        assert services.leads.assign({lid: reps[0] for lid in leads}) >= 2
        services.privacy.access_export(req.id, demo_cache.with_name("access.json"))
        assert demo_cache.with_name("access.json").exists()
        assert [a for a, _d in _audit(services, "reauth")] == ["ana"]
    finally:
        services.close()
    # the failure written straight to the log is not written again at the next sign-in
    assert signin.sign_in(demo_cache, "ana", ADMIN_PW).failures == ()


def test_the_idle_lock_needs_the_password_and_is_audited(demo_cache):
    _enrol_admin(demo_cache)
    services = Services.open_signed_in(demo_cache, Settings(), "ana", ADMIN_PW)
    try:
        services.signin.lock()
        assert services.session is not None and services.session.locked and not services.session.fresh()
        with pytest.raises(signin.SignInError):
            services.signin.unlock("a wrong password")
        assert services.session.locked
        services.signin.unlock(ADMIN_PW)
        assert not services.session.locked and services.session.fresh()
        assert [len(_audit(services, a)) for a in ("session.lock", "session.unlock.failed", "session.unlock")] == [1, 1, 1]
    finally:
        services.close()


def test_the_centres_role_wins_over_the_enrolled_one(demo_cache):
    _enrol_admin(demo_cache)
    services = Services.open_signed_in(demo_cache, Settings(role="admin"), "ana", ADMIN_PW)
    try:
        with services.cache.writer() as w:
            w.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('central_user', ?)",
                      (json.dumps({"name": "ana", "role": "field_rep", "parishes": ["JM-14"]}),))
        assert services.user.role is Role.FIELD_REP and services.user.territory == ("JM-14",)
        assert services.user.session is services.session
    finally:
        services.close()


def test_repeated_failures_and_an_odd_hour_sign_in_alert_the_admins(demo_cache):
    from c360_desktop.core.audit import anomaly

    _enrol_admin(demo_cache)
    for i in range(signin.FREE_TRIES):
        with pytest.raises(signin.SignInError):
            signin.sign_in(demo_cache, "ana", f"a guess, number {i}")
    path = signin.path_for(demo_cache)
    data = json.loads(path.read_text())
    data["counts"]["ana"]["last"] = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()  # the wait is over
    path.write_text(json.dumps(data))
    services = Services.open_signed_in(demo_cache, Settings(), "ana", ADMIN_PW)
    try:
        titles = [t for (t,) in services.cache.reader().execute(
            "SELECT title FROM alert WHERE type = 'audit_anomaly' AND title LIKE '%failed%'")]
        assert titles == ["5 failed sign-ins for ana"]  # one alert, raised as the fifth was written
        with services.cache.writer() as w:
            assert anomaly.check(w, "ana", "signin", {}, "2026-12-08 15:00:00") == []  # 10:00 in Kingston
            (odd,) = anomaly.check(w, "ana", "signin", {}, "2026-12-08 07:30:00")
            assert odd.title == "ana signed in at 02:30 Jamaica time"
            for day in (1, 2, 3):  # a night-shift habit: no alert
                w.execute("INSERT INTO audit_event (id, row_version, updated_at, updated_by, actor, action, entity, "
                          "occurred_at, details) VALUES (?, 0, ?, 'bo', 'bo', 'signin', 'session', ?, '{}')",
                          (f"night-{day}", f"2026-12-0{day} 08:00:00", f"2026-12-0{day} 08:00:00"))
            assert anomaly.check(w, "bo", "signin", {}, "2026-12-08 07:30:00") == []
    finally:
        services.close()


def test_a_schedule_runs_unattended_though_a_manual_export_asks_again(demo_cache, tmp_path):
    from datetime import time as clock

    from c360_desktop.core.reports import schedules as S
    from c360_desktop.core.reports.saved import Definition

    _enrol_admin(demo_cache)
    services = Services.open_signed_in(demo_cache, Settings(), "ana", ADMIN_PW)
    try:
        report = services.reports.save("Weekly revenue", Definition(("revenue",), ("parish",), "last_week"))
        friday = datetime(2026, 11, 20, 17, 0)
        S.add_schedule(services.reports, S.Schedule("s1", report.id, every="weekly", at=clock(7, 0), weekday=0,
                                                     folder=str(tmp_path), created_at=friday))
        assert services.session is not None
        services.session.authenticated_at -= timedelta(hours=3)  # signed in this morning, idle since
        _r, result = services.reports.run_saved("Weekly revenue")
        with pytest.raises(signin.ReauthNeeded):
            services.reports.export(result, tmp_path / "now.csv", "csv")
        (ran,) = S.run_due(services.reports, datetime(2026, 11, 23, 9, 0), tmp_path / "outbox", None)
        assert ran.status == "written" and list(tmp_path.glob("Weekly revenue *.xlsx"))
    finally:
        services.close()
