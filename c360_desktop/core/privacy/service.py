"""PrivacyService: pseudonymised copies of the open cache, for those allowed to export; each is
audited."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.privacy.pseudonymise import Pseudonymised, pseudonymise
from c360_desktop.core.progress import Progress
from c360_desktop.core.security import Permission, User, can
from c360_desktop.core.storage.cache import Cache


class PrivacyError(Exception):
    """The copy could not be made; the message is meant for the user."""


class PrivacyRefused(PermissionError):
    """The user may not do this; the message says why."""


class PrivacyService:
    def __init__(self, cache: Cache, user: Callable[[], User]) -> None:
        self._cache = cache
        self._user = user

    def pseudonymised_copy(self, out: Path, key: bytes | None = None, force: bool = False,
                           progress: Progress | None = None) -> Pseudonymised:
        """Write a pseudonymised copy to ``out``. ``key`` (at least 16 bytes) makes tokens agree
        across exports; without it each export gets a fresh random key, which is not kept."""
        user = self._user()
        if not can(user, Permission.EXPORT):
            audit_log.record_now(self._cache, user.name, "export.refused", "cache", None, {"pseudonymised": True})
            raise PrivacyRefused(f"the {user.role.value.replace('_', ' ')} role may not export data")
        if key is not None and len(key) < 16:
            raise ValueError("the token key must be at least 16 bytes")
        source = self._cache.connect(readonly=True)
        try:
            made = pseudonymise(source, out, key or secrets.token_bytes(32), force, progress)
        except sqlite3.Error as exc:
            raise PrivacyError(f"could not write the pseudonymised copy {out} ({exc}); nothing was written") from None
        finally:
            source.close()
        audit_log.record_now(self._cache, user.name, "export.pseudonymised", "cache", None,
                             {"file": made.path.name, "customers": made.customers, "same_key": key is not None})
        return made
