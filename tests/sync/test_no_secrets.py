"""No secret and no personal value outside the cache (issue 21, item 10): the main flows run
against a PostgreSQL that checks a password kept in the keyring, a crash is reported, and then
every log file, settings file, crash text and file of the repository is read for the password,
the token key, and the demo's TRNs, phones and e-mails."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.sync.test_sync_ui import keyring_memory  # noqa: F401 - the in-memory keyring fixture

PASSWORD = "pw-Lq7v2-never-written"
SIGN_IN = "sign-in-Zx81-never-written"
WRONG = "wrong-try-Qm42-never-written"
KEY = b"token-key-3f9a7c1d55e0b2a4-never-written"
REPO = Path(__file__).resolve().parents[2]


def _demo_values(path: Path) -> set[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT trn, primary_phone, primary_email FROM customer").fetchall()
        contacts = conn.execute("SELECT value FROM contact_point").fetchall()
    finally:
        conn.close()
    values = {v for row in rows for v in row if v} | {v for (v,) in contacts if v}
    return {v[-10:] if v.startswith("+") else v.lower() for v in values}


def _found(text: str, values: set[str]) -> set[str]:
    text = text.lower()
    digits = re.sub(r"\D", "", text)
    return {v for v in values if v in text or (v.isdigit() and v in digits)}


@pytest.mark.slow
def test_the_main_flows_leave_no_secret_or_personal_value_behind(tmp_path, keyring_memory,  # noqa: F811
                                                                  log_folder):
    from c360_desktop.core import logs
    from c360_desktop.core.services import Services
    from c360_desktop.core.settings import Settings, config_dir, data_dir, save_settings
    from c360_desktop.core.sync import account_for, sync
    from server_sync import admin
    from server_sync.devserver import DevPostgres

    cache_path = tmp_path / "cache.db"
    with DevPostgres(password=PASSWORD) as server:
        url = server.url
        admin.init(url, password=PASSWORD)
        admin.seed(url, 300, 7, password=PASSWORD, as_of=date(2026, 11, 27))
        keyring_memory.set_password("c360-desktop", account_for(url), PASSWORD)
        settings = Settings(user_name="dora", role="data_steward")
        save_settings(settings)
        services = Services.open(cache_path, settings, create=True)
        try:
            sync(services.cache, url)  # the password comes from the keyring
            values = _demo_values(cache_path)
            assert len(values) > 500
            conn = services.cache.reader()
            (cid, name), (other, other_name) = conn.execute(
                "SELECT id, display_name FROM customer WHERE trn IS NOT NULL ORDER BY id LIMIT 2").fetchall()
            services.search.search(name)
            services.profiles.get(cid)
            services.profiles.update_customer(cid, {"primary_email": "moved.on@example.com"}, "dora")
            services.profiles.add_note(cid, "Called from 876-555-0199 about TRN 123-456-789", "dora")
            services.privacy.pseudonymised_copy(tmp_path / "pseudo.db", KEY)
            req = services.privacy.open_request(cid, "access", date.today(), "email")
            services.privacy.access_export(req.id, tmp_path / "held.json")
            sync(services.cache, url)
            erase = services.privacy.open_request(cid, "erasure", date.today(), "letter")
            services.privacy.erase(erase.id)
            sync(services.cache, url)
        finally:
            services.close()

    # A crash whose message holds personal values and the password: the log and the dialog's text.
    crash_texts: list[str] = []
    logs.install_crash_handler(crash_texts.append)
    try:
        raise RuntimeError(f"boom for {sorted(values)[0]} with {PASSWORD} and key={KEY.decode()}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = sys.__excepthook__
    assert crash_texts and "boom for" in crash_texts[0]
    # The command line too, signed in as a script does (and once with a wrong password): a search
    # and a show print to the terminal (that is their job), and log.
    import os

    from c360_desktop.core.security import Role, signin

    signin.enrol(cache_path, "dora", SIGN_IN, Role.DATA_STEWARD, (), None)
    for args, password in ((["search", other_name], WRONG), (["search", other_name], SIGN_IN),
                           (["show", other, "--json"], SIGN_IN)):
        done = subprocess.run([str(Path(sys.executable).with_name("c360")), *args, "--cache", str(cache_path)],
                              capture_output=True, text=True, timeout=300, check=False,
                              env={**os.environ, "C360_USER": "dora", "C360_PASSWORD": password})
        assert (done.returncode == 0) == (password == SIGN_IN), done.stderr
    signin_text = signin.path_for(cache_path).read_text("utf-8")
    assert SIGN_IN not in signin_text and WRONG not in signin_text
    import sqlite3

    audit = sqlite3.connect(cache_path)
    try:  # the wrong try is in the trail, without the password tried
        (why,) = audit.execute("SELECT details FROM audit_event WHERE action = 'signin.failed'").fetchone()
    finally:
        audit.close()
    assert "wrong password" in why and WRONG not in why

    secrets = {PASSWORD, KEY.decode(), "moved.on@example.com", SIGN_IN, WRONG}
    places = {"logs": sorted(log_folder.rglob("*")), "settings": sorted(config_dir().rglob("*")),
              "data folder": sorted(p for p in data_dir().rglob("*") if ".db" not in p.name)}
    scanned = 0
    for where, files in places.items():
        for path in files:
            if not path.is_file():
                continue
            text = path.read_bytes().decode("utf-8", "replace")
            scanned += 1
            assert not {s for s in secrets if s.lower() in text.lower()}, f"a secret in {where}: {path}"
            assert not _found(text, values), f"personal data in {where}: {path}"
    assert scanned >= 2 and any(p.name.endswith(".jsonl") or ".log" in p.name for p in places["logs"])
    log_text = "".join(p.read_text("utf-8", "replace") for p in log_folder.rglob("*") if p.is_file())
    assert "uncaught exception" in log_text and "pushing" in log_text  # the flows did write logs
    for text in crash_texts:
        assert PASSWORD not in text and KEY.decode() not in text and not _found(text, values)
    settings_text = (config_dir() / "settings.json").read_text("utf-8")
    assert json.loads(settings_text)["user_name"] == "dora"


def test_the_repository_holds_no_secret_and_none_of_the_demo_s_personal_values(demo_cache):
    """Every file git tracks: no private key; outside the tests (whose made-up credentials check
    that URLs with passwords are refused), no password in a URL; in code and docs, no demo TRN,
    phone or e-mail."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    values = {v for v in _demo_values(demo_cache) if len(v) >= 9}
    private_key = re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")
    password_url = re.compile(r"\b(?:postgresql|mssql|postgres)(?:\+\w+)?://[^:/\s@]+:[^@\s/]+@")
    problems = []
    for name in filter(None, tracked.decode().split("\0")):
        path = REPO / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        if private_key.search(text):
            problems.append(f"{name}: a private key")
        if password_url.search(text) and not name.startswith("tests/"):  # tests hold made-up ones to refuse
            problems.append(f"{name}: a password in a database URL")
        hits = _found(text, values) if name.startswith(("c360_desktop", "server_sync", "docs", "README")) else set()
        if hits:
            problems.append(f"{name}: demo values {sorted(hits)[:3]}")
    assert problems == []
