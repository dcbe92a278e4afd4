"""Synchronising the cache with the central database: push the outbox, then pull changes.

The package front is light: importing it (or the conflict inbox) does not load SQLAlchemy or
the database drivers; ``sync`` loads the engine when it first runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from c360_desktop.core.progress import Progress
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.sync.errors import SyncError

if TYPE_CHECKING:
    from c360_desktop.core.sync.pull import PullResult
    from c360_desktop.core.sync.push import PushResult

log = logging.getLogger(__name__)

__all__ = ["SyncError", "account_for", "password_for", "sync", "check_connection"]


def account_for(url: str) -> str:
    """The keyring account of a database URL: user@host:port/database (no password)."""
    from sqlalchemy.engine import make_url

    u = make_url(url.strip())
    return f"{u.username or ''}@{u.host or 'localhost'}:{u.port or ''}/{u.database or ''}"


def password_for(url: str) -> str | None:
    """PGPASSWORD if set (the standard for scripts), else the keyring entry for this URL."""
    from c360_desktop.core import (  # keyring loads only when needed: never on the server
        logs,
        secrets,
    )

    if os.environ.get("PGPASSWORD"):
        logs.known_secret(os.environ["PGPASSWORD"])
        return os.environ["PGPASSWORD"]
    return secrets.get_password(account_for(url))


def sync(cache: Cache, url: str, parishes: Sequence[str] | None = None, full: bool = False,
         progress: Progress | None = None, password: str | None = None,
         tables: Sequence[str] | None = None, link_as: str | None = None) -> tuple[PushResult, PullResult]:
    """Push local changes, then pull central ones (which brings back the new row versions);
    ``tables`` limits the pull to those tables (after the first pull). With ``link_as`` (a user
    name), records imported here but left unlinked are linked first, so their links go out too."""
    from c360_desktop.core.sync.central import Central
    from c360_desktop.core.sync.pull import Puller
    from c360_desktop.core.sync.push import Pusher
    from c360_desktop.core.sync.urls import UrlError, central_url

    if cache.meta("pseudonymised"):
        raise SyncError(f"{cache.path.name} is a pseudonymised copy for analysis: it never syncs, so its "
                        "tokens cannot reach the central database")
    try:
        central_url(url)  # refused before any keyring lookup: no secret in it, a driver for it
    except UrlError as exc:
        raise SyncError(str(exc)) from None
    central = Central(url, password if password is not None else password_for(url))
    try:
        central.handshake()
        central.access()
        _remember_user(cache, central.user)
        log.info("sync with %s started%s", central.host, " (full)" if full else "")
        if link_as is not None:
            from c360_desktop.core.identity.importing import link_pending

            link_pending(cache, link_as)
        pushed = Pusher(cache, central).push(progress)
        return pushed, Puller(cache, central, parishes).pull(progress, full=full, tables=tables)
    finally:
        central.close()


def _remember_user(cache: Cache, user: dict | None) -> None:
    """Keep the centre's word on who this login is (role, parishes) in the cache, for offline
    work: the desktop takes the role from here, never from its settings."""
    import json

    with cache.writer() as conn:
        if user is None:
            conn.execute("DELETE FROM cache_meta WHERE key = 'central_user'")
        else:
            conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('central_user', ?)",
                         (json.dumps(user, sort_keys=True),))


def check_connection(url: str, password: str | None) -> str:
    """Server version and round trip, or a SyncError with a one-line reason."""
    import time

    from sqlalchemy import text

    from c360_desktop.core.sync.central import Central, tls_warning

    central = Central(url, password)
    try:
        started = time.perf_counter()
        central.handshake()
        ms = (time.perf_counter() - started) * 1000
        rows = central.run(text("SELECT version()"))
        central.rollback()
        line = f"Connected: {str(rows[0][0]).split(',')[0]}; round trip {ms:.0f} ms"
        if central.dialect.name == "postgresql":
            tls = central.run(text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            central.rollback()
            line += f"; {tls[0][1]}" if tls and tls[0][0] else "; not encrypted"
        warning = tls_warning(url)
        return line + (f"\nWarning: {warning}" if warning else "")
    finally:
        central.close()
