"""The core services for one open cache, built once and handed to the UI and the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c360_desktop.core.profile.service import ProfileService
from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.security import Role, User
from c360_desktop.core.settings import Settings
from c360_desktop.core.storage.cache import (
    HEAD,
    Cache,
    CacheError,
    open_cache,
    pending_encryption,
    pending_upgrade,
)

__all__ = ["HEAD", "CacheError", "CacheStats", "Services", "pending_encryption", "pending_upgrade", "user_of"]  # the UI's door to storage


@dataclass(frozen=True, slots=True)
class CacheStats:
    path: Path
    customers: int
    last_sync_at: str | None
    demo: bool


if TYPE_CHECKING:
    from c360_desktop.core.analytics.service import ModelService
    from c360_desktop.core.audit.service import AuditService
    from c360_desktop.core.diagnostics.service import DiagnosticsService
    from c360_desktop.core.geo.service import MapService
    from c360_desktop.core.health.service import HealthService
    from c360_desktop.core.identity.service import ReviewService
    from c360_desktop.core.leads.service import LeadService
    from c360_desktop.core.privacy.service import PrivacyService
    from c360_desktop.core.quality.service import QualityService
    from c360_desktop.core.reports.service import ReportService
    from c360_desktop.core.security.service import SignInService
    from c360_desktop.core.security.signin import Session
    from c360_desktop.core.updates.service import UpdateService


def user_of(settings: Settings) -> User:
    profile = settings.profile()
    return User(settings.user_name, Role(settings.role), tuple(profile.territory) if profile else ())


@dataclass
class Services:
    """One object per open cache holding each feature's service; panes and the CLI use these."""

    cache: Cache
    search: CustomerSearch
    profiles: ProfileService
    settings: Settings
    # Who signed in (security.signin), None for the demo user of a cache without users.
    signed_in: User | None = None
    session: Session | None = None

    # The feature services load their modules (numpy, pandas, folium...) on first use, not at
    # start-up: the window must not wait for the map's or the models' imports.
    @cached_property
    def audit(self) -> AuditService:
        from c360_desktop.core.audit.service import AuditService

        return AuditService(self.cache, lambda: self.user)

    @cached_property
    def diagnostics(self) -> DiagnosticsService:
        from c360_desktop.core.diagnostics.service import DiagnosticsService

        return DiagnosticsService(self.cache, self.settings)

    @cached_property
    def health(self) -> HealthService:
        from c360_desktop.core.health.service import HealthService

        return HealthService(self.cache, self.settings)

    @cached_property
    def leads(self) -> LeadService:
        from c360_desktop.core.leads.service import LeadService

        return LeadService(self.cache, lambda: self.user)

    @cached_property
    def maps(self) -> MapService:
        from c360_desktop.core.geo.service import MapService

        return MapService(self.cache)

    @cached_property
    def models(self) -> ModelService:
        from c360_desktop.core.analytics.service import ModelService

        return ModelService(self.cache, lambda: self.user)

    @cached_property
    def privacy(self) -> PrivacyService:
        from c360_desktop.core.privacy.service import PrivacyService

        return PrivacyService(self.cache, lambda: self.user)

    @cached_property
    def quality(self) -> QualityService:
        from c360_desktop.core.quality.service import QualityService
        from c360_desktop.core.settings import config_dir

        return QualityService(self.cache, lambda: self.user, config_dir() / "quality_rules.json")

    @cached_property
    def reports(self) -> ReportService:
        from c360_desktop.core.reports.service import ReportService

        return ReportService(self.cache, lambda: self.user)

    @property
    def updates(self) -> UpdateService:
        """Update checks at the location in the settings (read each time: the user may change it)."""
        from c360_desktop.core.updates.service import UpdateService

        return UpdateService(self.settings.update_location)

    @cached_property
    def signin(self) -> SignInService:
        from c360_desktop.core.security.service import SignInService

        return SignInService(self)

    @cached_property
    def review(self) -> ReviewService:
        from c360_desktop.core.identity.service import ReviewService

        return ReviewService(self.cache, lambda: self.user)

    @classmethod
    def open_signed_in(cls, path: str | Path, settings: Settings, name: str, password: str,
                       code: str | None = None) -> Services:
        """Sign ``name`` in to the cache at ``path`` and open it with the key their password
        unwraps (security.signin.SignInError if the sign-in is refused: nothing is opened)."""
        from c360_desktop.core.security.service import opened_by_sign_in

        return opened_by_sign_in(cls, Path(path).expanduser(), settings, name, password, code)

    @classmethod
    def open(cls, path: str | Path, settings: Settings, create: bool = False, key: bytes | None = None) -> Services:
        cache = open_cache(path, create=create, key=key)
        if cache.meta("deferred_indexes"):  # a first sync died before building them: build them now
            from c360_desktop.core.sync.pull import restore_indexes

            restore_indexes(cache)
        if cache.meta("erasure_vacuum_due") == "1":  # an erasure whose file clean-up did not finish
            from c360_desktop.core.privacy.erasure import finish

            finish(cache)
        if cache.meta("places_at") is None:  # a cache from before customer places: place them once
            from c360_desktop.core.geo.places import refresh_geo

            with cache.writer() as conn:
                refresh_geo(conn)
        if cache.meta("lead_ranks_at") is None:  # a cache from before the lead queue: rank once
            from c360_desktop.core.leads.queue import refresh_lead_ranks

            with cache.writer() as conn:
                refresh_lead_ranks(conn)
        profiles = ProfileService(cache)
        services = cls(cache=cache, search=CustomerSearch(cache), profiles=profiles, settings=settings)
        profiles._user = lambda: services.user  # the centre's role once known, as every service sees it
        services.search._user = lambda: services.user  # TRNs are not searchable without view_pii
        return services

    @property
    def user(self) -> User:
        """Who is working: name, role and territory. Once this cache has synced as a user the
        centre knows (central schema 5), the role and parishes are the centre's, whatever the
        settings say; before that (a demo cache, an owner's login), the settings'."""
        central = self.cache.meta("central_user")
        who = self._central(central) if central else None
        signed = self.signed_in
        if signed is not None:
            if who is not None and who.get("name") == signed.name:
                return User(signed.name, Role(who["role"]), tuple(who.get("parishes") or ()), self.session)
            return User(signed.name, signed.role, signed.territory, self.session)
        if who is not None:
            return User(self.settings.user_name, Role(who["role"]), tuple(who.get("parishes") or ()))
        return user_of(self.settings)

    def _central(self, raw: str) -> dict[str, Any]:
        import json

        if getattr(self, "_central_raw", None) != raw:  # parsed once per change, not on every call
            self._central_raw, self._central_who = raw, json.loads(raw)
        who: dict[str, Any] = self._central_who
        return who

    def smtp(self) -> Any:
        """The mail server from the settings (core.alerts.notify.SmtpConfig), or None."""
        from c360_desktop.core.alerts.notify import smtp_config

        return smtp_config(self.settings)

    def stats(self) -> CacheStats:
        conn = self.cache.reader()
        (count,) = conn.execute("SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()
        return CacheStats(path=self.cache.path, customers=count,
                          last_sync_at=self.cache.meta("last_sync_at"),
                          demo=self.cache.meta("demo_seed") is not None)

    def encryption(self) -> dict[str, Any]:
        """Whether the cache is encrypted, and its key's id, last unlock and wipe limit (no secret)."""
        from c360_desktop.core.storage import keys

        if not self.cache.encrypted:
            return {"encrypted": False, "why_not": keys.available() or "the cache was opened plain"}
        info = keys.read_info(self.cache.path)
        return {"encrypted": True, "cipher": "SQLCipher 4 (AES-256, a random raw key)", "key_id": info.key_id,
                "key_kept": "C360_CACHE_KEY" if os.environ.get(keys.ENV_KEY) else "the OS keyring",
                "unlocked_at": info.unlocked_at, "wipe_after_days": info.wipe_after_days or None}

    def rekey_cache(self) -> None:
        """A new key for the cache (suspected compromise), audited."""
        from c360_desktop.core.audit import log as audit_log

        self.cache.rekey()
        audit_log.record_now(self.cache, self.user.name, "cache.rekey", "cache", None, {})

    def set_wipe_after(self, days: int) -> None:
        """Wipe this cache at a start after ``days`` days without an unlock (0: never), audited."""
        from c360_desktop.core.audit import log as audit_log
        from c360_desktop.core.storage import keys

        if not self.cache.encrypted:
            raise ValueError("the cache is not encrypted, so it has no wipe limit")
        if days < 0 or days > 3650:
            raise ValueError(f"{days} days: give 0 (never) to 3650")
        keys.set_wipe_after(self.cache.path, days)
        audit_log.record_now(self.cache, self.user.name, "cache.wipe_after", "cache", None, {"days": days})

    def retention_local(self, dry_run: bool = False) -> Any:
        """Drop this cache's local-only records past their age (core.privacy.retention), audited;
        returns the report."""
        from c360_desktop.core.audit import log as audit_log
        from c360_desktop.core.privacy import retention

        with self.cache.writer() as w:
            report = retention.run_local(w, dry_run=dry_run)
            if not dry_run:
                audit_log.record(w, self.user.name, "retention.local", "cache", None,
                                 {o.table: o.rows for o in report.outcomes})
        return report

    def source_systems(self) -> list[tuple[str, int]]:
        """Each source system in the cache and how many live records it holds, largest first."""
        return self.cache.reader().execute(
            "SELECT system, count(*) FROM source_record WHERE deleted_at IS NULL GROUP BY system "
            "ORDER BY count(*) DESC, system").fetchall()

    def close(self) -> None:
        if "reports" in self.__dict__:  # opened (cached_property): its columnar copy too
            self.reports.close()
        self.cache.close()
