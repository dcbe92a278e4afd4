"""AuditService: record what the current user does, verify the chain, and list entries for
those allowed to read the trail (``Permission.VIEW_AUDIT``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from c360_desktop.core.audit import log
from c360_desktop.core.security import Permission, User, can
from c360_desktop.core.storage.cache import Cache


class AuditRefused(PermissionError):
    """The user may not read the audit trail; the message says so."""


class AuditService:
    def __init__(self, cache: Cache, user: Callable[[], User]) -> None:
        self._cache = cache
        self._user = user

    def record(self, action: str, entity: str = "customer", entity_id: str | None = None,
               details: Mapping[str, Any] | None = None) -> str:
        return log.record_now(self._cache, self._user().name, action, entity, entity_id, details)

    def verify(self) -> log.Verdict:
        """Anyone may check the chain: the verdict names entries, not what they hold."""
        conn = self._cache.connect(readonly=True)
        try:
            return log.verify(conn)
        finally:
            conn.close()

    def entries(self, **filters: Any) -> list[log.Entry]:
        user = self._user()
        if not can(user, Permission.VIEW_AUDIT):
            log.record_now(self._cache, user.name, "audit.refused", "audit", None, {"role": user.role.value})
            raise AuditRefused(f"{user.name} ({user.role.value}) may not read the audit trail; "
                               "it is open to data stewards and admins")
        return log.entries(self._cache.reader(), **filters)
