"""Central database URLs: parsed once, with no secret in them, for a driver that is installed."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

EXAMPLE = "postgresql://user@host:5432/c360"
# Query options that carry a secret: libpq's password and sslpassword, ODBC's PWD, and an ODBC
# connection string passed whole (it may hold PWD=...). Compared without case.
SECRET_OPTIONS = frozenset({"password", "pwd", "passwd", "sslpassword", "odbc_connect"})
# Backends the sync engine speaks, and the drivers it can use for each, preferred first.
DRIVERS = {"postgresql": ("psycopg2", "psycopg", "pyodbc"), "mssql": ("pyodbc",)}
_MODULES = {"psycopg2": "psycopg2", "psycopg": "psycopg", "pyodbc": "pyodbc"}


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (no host at all: a local socket)."""
    host = (host or "").lower()
    return host in ("", "localhost", "::1") or host.startswith("127.")


class UrlError(ValueError):
    """A one-line reason a database URL cannot be used."""


def central_url(text: str) -> URL:
    """The SQLAlchemy URL of a central database typed by a user, with its driver chosen.

    Refuses what ``check_secret_free`` refuses and drivers that are not installed; a plain
    ``postgresql://`` (as libpq and psql write it) gets the first installed PostgreSQL driver.
    """
    url = check_secret_free(text)
    backend = url.get_backend_name()
    driver = url.get_driver_name() if "+" in url.drivername else ""
    if driver:
        if not _installed(driver):
            raise UrlError(f"the {driver} driver is missing from this installation: reinstall C360 Desktop")
    else:
        # pyodbc is only taken when named: it needs an ODBC driver set up for the server.
        found = [d for d in DRIVERS[backend] if _installed(d) and (d != "pyodbc" or backend == "mssql")]
        if not found:
            raise UrlError(f"no {backend} driver is installed: reinstall C360 Desktop")
        driver = found[0]
    return url.set(drivername=f"{backend}+{driver}")


def check_secret_free(text: str) -> URL:
    """The URL parsed, if it holds no secret (user:secret@ or ?password=...) and names a backend
    and driver sync can use (whether the driver is installed is not checked: settings may name a
    server this machine cannot reach yet)."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(text.strip())
    except Exception:
        raise UrlError(f"{text!r} is not a database URL (e.g. {EXAMPLE})") from None
    if url.password:
        raise UrlError("the URL must not contain a password; it is kept in the OS keyring (or PGPASSWORD)")
    secret = sorted(k for k in url.query if k.lower() in SECRET_OPTIONS)
    if secret:
        raise UrlError(f"the URL must not carry {secret[0]}= in its query; "
                       "passwords are kept in the OS keyring (or PGPASSWORD)")
    backend = "postgresql" if url.get_backend_name() in ("postgres", "postgresql") else url.get_backend_name()
    if backend not in DRIVERS:
        raise UrlError(f"{backend}: URLs are not a central database; use {EXAMPLE} "
                       "or mssql+pyodbc://user@host/c360?driver=...")
    driver = url.drivername.partition("+")[2]
    if driver and driver not in DRIVERS[backend]:
        raise UrlError(f"{backend}+{driver} is not supported; use one of "
                       + ", ".join(f"{backend}+{d}" for d in DRIVERS[backend]))
    return url.set(drivername=f"{backend}+{driver}" if driver else backend)


def _installed(driver: str) -> bool:
    """Whether the driver imports (an installed one whose C library is missing does not)."""
    try:
        importlib.import_module(_MODULES[driver])
    except ImportError:
        return False
    return True
