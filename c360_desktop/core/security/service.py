"""SignInService: users of a cache, sign-in, the idle lock and re-authentication, audited.

``opened_by_sign_in`` is how a cache with users is opened: the password is checked (and the key
unwrapped) first, then the cache opens with that key, the failed tries since the last sign-in go
into its audit log, and a key the cache no longer uses (after its encryption or a rekey) is
wrapped again under the password just given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.security import Permission, Refused, Role, User, can, refusal, signin

if TYPE_CHECKING:
    from c360_desktop.core.services import Services
    from c360_desktop.core.settings import Settings


CENTRE_TIMEOUT_S = 4  # a laptop in the field must not wait long for a centre it cannot reach


def ask_centre(settings: Settings, name: str, password: str) -> tuple[str, dict[str, Any] | None, str]:
    """Whether the central database (the active PostgreSQL profile) accepts ``name`` and
    ``password``: ("ok", its c360_user row or None, ""), ("refused", None, why), ("offline",
    None, why) when it cannot be asked, or ("none", None, "") without a PostgreSQL profile."""
    from c360_desktop.core.sync.central import Central
    from c360_desktop.core.sync.errors import SyncError
    from c360_desktop.core.sync.urls import UrlError, central_url

    profile = settings.profile()
    if profile is None:
        return "none", None, ""
    try:
        url = central_url(profile.url)
    except UrlError as exc:
        return "offline", None, str(exc)
    if url.get_backend_name() != "postgresql":  # SQL Server logins are not people (yet): offline rules
        return "none", None, ""
    try:
        central = Central(url.set(username=name).render_as_string(hide_password=False), password,
                          connect_timeout=CENTRE_TIMEOUT_S)
    except SyncError as exc:
        if "not permitted to log in" in str(exc):  # c360-server user disable: NOLOGIN
            return "ok", {"name": name, "disabled": True}, ""
        return ("refused" if "refused the password" in str(exc) else "offline"), None, str(exc)
    try:
        central.access()
        return "ok", central.user, ""
    except SyncError as exc:
        return "offline", None, str(exc)
    finally:
        central.close()


def opened_by_sign_in(cls: type[Services], path: Path, settings: Settings, name: str, password: str,
                      code: str | None) -> Services:
    """Central credentials when the centre answers (it may enrol a user it knows, record a
    password changed there, refuse a disabled account); the local record otherwise."""
    from c360_desktop.core.storage import keys

    signin.check_wait(path, name)  # guessing through the centre is limited too
    state, who, why = ask_centre(settings, name, password)
    if state == "refused":
        raise signin.refused_elsewhere(path, name, "refused by the central database")
    if state == "ok" and who is not None and who.get("disabled"):
        if any(u["name"] == name for u in signin.users(path)):
            signin.remove(path, name)  # no offline way in either
        raise signin.SignInError(f"{name}'s account is disabled at the central database")
    if state == "ok" and who is not None and not signin.opens(path, name, password):
        _enrol_from_centre(path, name, password, who)  # a user new to this desktop, or a new password
    signed = signin.sign_in(path, name, password, code)
    user = signed.user
    if state == "ok" and who is not None:
        user = User(name, Role(who["role"]), tuple(who.get("parishes") or ()))
        signin.update_role(path, name, password, user.role, user.territory)
    key = signed.secret if keys.is_encrypted(path) and keys.matches(path, signed.secret) else None
    services = cls.open(path, settings, key=key)
    try:
        services.signed_in = user
        services.session = signin.Session(signed.user.name, signin.path_for(path))
        if services.cache.key is not None and services.cache.key != signed.secret:
            signin.rewrap(path, name, password, services.cache.key)
        with services.cache.writer() as w:
            for failure in signed.failures:  # tries made while the cache was locked
                audit_log.record(w, str(failure.get("name") or "?")[:64], "signin.failed", "session", None,
                                 {"attempted_at": failure.get("at"), "why": failure.get("why")})
            audit_log.record(w, signed.user.name, "signin", "session", None,
                             {"totp": signin.has_totp(path, name), "failed_before": len(signed.failures),
                              "checked_by": "central database" if state == "ok" else "this desktop",
                              "centre": why[:200] if state == "offline" else state})
        signin.clear_failures(path, len(signed.failures))
    except BaseException:
        services.close()
        raise
    return services


def _enrol_from_centre(path: Path, name: str, password: str, who: dict[str, Any]) -> None:
    """The centre vouches for ``name``: enrol them here (a new user of this desktop) or wrap the
    key under the password they now have at the centre."""
    from c360_desktop.core.storage import keys

    if signin.has_totp(path, name):  # re-enrolling would drop the second factor: not on the centre's word
        raise signin.SignInError("your password changed at the central database: sign in here once with the "
                                 "previous one, or ask an admin to enrol you again")
    try:
        key = keys.key_for(path) if keys.is_encrypted(path) else None
    except keys.KeyProblem:
        raise signin.SignInError(f"this desktop's key is kept only under its users' passwords, so {name} must be "
                                 "enrolled here by an admin first") from None
    signin.enrol(path, name, password, who["role"], tuple(who.get("parishes") or ()), key)


class SignInService:
    """What the window and ``c360 signin`` ask about users and the signed-in session."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._cache = services.cache

    @property
    def _path(self) -> Path:
        return self._cache.path

    def required(self) -> bool:
        return signin.required(self._path)

    def users(self) -> list[dict[str, Any]]:
        return signin.users(self._path)

    def has_totp(self) -> bool:
        session = self._services.session
        return session is not None and signin.has_totp(self._path, session.name)

    def _manager(self, action: str) -> User:
        """The current user, if they may manage users (anyone may add the first user)."""
        user = self._services.user
        if signin.required(self._path) and not can(user, Permission.MANAGE_USERS):
            audit_log.record_now(self._cache, user.name, f"{action}.refused", "user", None, {})
            raise Refused(refusal(user, Permission.MANAGE_USERS))
        return user

    def enrol(self, name: str, password: str, role: Role | str, parishes: tuple[str, ...] = ()) -> None:
        """Add or reset user ``name`` (the first user of a cache should be an admin: only admins
        add more once there are users)."""
        from c360_desktop.core.validation import InvalidValue, normalize_parish

        by = self._manager("signin.enrol")
        role = Role(role)
        try:
            parishes = tuple(normalize_parish(p, "parishes") for p in parishes)
        except InvalidValue as exc:
            raise signin.SignInError(str(exc)) from None
        if not signin.required(self._path) and role is not Role.ADMIN:
            raise signin.SignInError("the first user of a cache must be an admin, who then adds the others")
        signin.enrol(self._path, name, password, role, parishes, self._cache.key)
        audit_log.record_now(self._cache, by.name, "signin.enrol", "user", name, {"role": role.value,
                                                                                  "parishes": list(parishes)})

    def remove(self, name: str) -> None:
        by = self._manager("signin.remove")
        remaining = [u for u in signin.users(self._path) if u["name"] != name]
        if remaining and not any(u["role"] == Role.ADMIN.value for u in remaining):
            raise signin.SignInError(f"{name} is the last admin; add another admin first")
        if not remaining and self._protected():
            raise signin.SignInError("the key is kept only under the users' passwords; keep it in the keyring "
                                     "again before removing the last user")
        signin.remove(self._path, name)
        audit_log.record_now(self._cache, by.name, "signin.remove", "user", name, {})

    def _protected(self) -> bool:
        from c360_desktop.core.storage import keys

        return self._cache.encrypted and keys.read_info(self._path).kept == "signin"

    def protect(self, on: bool = True) -> None:
        """Keep the cache's key only under the users' passwords (``on``) or in the keyring too."""
        from c360_desktop.core.storage import keys

        by = self._manager("signin.protect")
        key = self._cache.key
        if key is None:
            raise signin.SignInError("the cache is not encrypted, so it has no key to protect")
        if on and not signin.required(self._path):
            raise signin.SignInError("add a user first: with no users, nobody could open the cache")
        (keys.protect if on else keys.unprotect)(self._path, key)
        audit_log.record_now(self._cache, by.name, "signin.protect" if on else "signin.unprotect", "cache", None, {})

    def change_password(self, old: str, new: str) -> None:
        session = self._need_session()
        signin.change_password(self._path, session.name, old, new)
        audit_log.record_now(self._cache, session.name, "signin.password", "user", session.name, {})

    def lock(self) -> None:
        """The idle lock (or Ctrl+L): customer data is hidden until the password is given again."""
        session = self._need_session()
        session.locked = True
        audit_log.record_now(self._cache, session.name, "session.lock", "session", None, {})

    def unlock(self, password: str, code: str | None = None) -> None:
        self._prove("session.unlock", password, code)

    def reauthenticate(self, password: str, code: str | None = None) -> None:
        """Proves the user again before a sensitive action (exports, bulk assignment, merges, erasure)."""
        self._prove("reauth", password, code)

    def _prove(self, action: str, password: str, code: str | None) -> None:
        session = self._need_session()
        try:
            signin.reauthenticate(session, password, code)
        except signin.SignInError as exc:
            audit_log.record_now(self._cache, session.name, f"{action}.failed", "session", None, {"why": str(exc)})
            if exc.counted:  # written here already: not again at the next sign-in
                signin.clear_failures(self._path, 1, newest=True)
            raise
        audit_log.record_now(self._cache, session.name, action, "session", None, {})

    def totp_begin(self) -> tuple[str, str]:
        """A new TOTP secret and its otpauth:// address (for the QR code) for the signed-in user."""
        session = self._need_session()
        secret = signin.totp_new_secret()
        return secret, signin.totp_uri(session.name, secret)

    def totp_enable(self, password: str, secret: str, code: str) -> None:
        session = self._need_session()
        signin.totp_enable(self._path, session.name, password, secret, code)
        audit_log.record_now(self._cache, session.name, "signin.totp_on", "user", session.name, {})

    def totp_disable(self, password: str) -> None:
        session = self._need_session()
        signin.totp_disable(self._path, session.name, password)
        audit_log.record_now(self._cache, session.name, "signin.totp_off", "user", session.name, {})

    def _need_session(self) -> signin.Session:
        session = self._services.session
        if session is None:
            raise signin.SignInError("nobody is signed in: this cache has no users (the demo user)")
        return session
