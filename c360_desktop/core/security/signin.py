"""Sign-in for a cache: who may open it, offline as well as online.

Beside a cache that has users, ``<cache>.signin.json`` (mode 0600) holds for each of them what a
sign-in needs and nothing that gives the cache away:

- a scrypt salt and its cost (N=2^15, r=8, p=1: about 0.1 s and 32 MB per try, so guessing a
  password offline costs as much);
- the cache's key wrapped (AES-256-GCM) by a key scrypt derives from the password. Unwrapping is
  the password check: there is no password hash to attack apart from the wrap. On a plain cache
  the wrap holds a random token instead, and once the cache is encrypted (or rekeyed) the next
  sign-in wraps the new key;
- the user's role and parishes as enrolled, bound into the wrap as associated data, so editing
  them in the file makes the sign-in fail ("altered"); once the cache has synced as this user,
  the centre's role wins (``Services.user``);
- an optional TOTP secret (pyotp), wrapped the same way, asked for at sign-in and re-authentication.

Failed sign-ins are counted in the file (so quitting does not reset them): after ``FREE_TRIES``
failures in a row, each try waits 30 s, doubling, at most 15 minutes. Failures are written to
the audit log at the next sign-in that unlocks the cache (before it, the cache cannot be written),
with the time they happened. A cache without users needs no sign-in: the demo user.

With ``protect``, the cache's key leaves the keyring and is kept only wrapped by its users'
passwords: then the computer's account alone no longer opens the cache.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from c360_desktop.core.private import create_private
from c360_desktop.core.security import Role, User

SUFFIX = ".signin.json"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
FREE_TRIES = 5  # failures in a row before each try must wait
FIRST_WAIT_S = 30
LONGEST_WAIT_S = 15 * 60
MIN_PASSWORD = 10
REAUTH_S = 5 * 60  # a re-authentication stays good this long
ANYONE = "*"  # the counter for names that are not users (guessing names is limited too)


class SignInError(Exception):
    """A sign-in, enrolment or re-authentication was refused; the message says why. ``wait_s``:
    how long before the next try is accepted (0: at once)."""

    def __init__(self, message: str, wait_s: int = 0, counted: bool = False, why: str = "") -> None:
        super().__init__(message)
        self.wait_s = wait_s
        self.counted = counted  # a failed try recorded in the sign-in file
        self.why = why  # for a counted one: unknown user, wrong password..., code needed, wrong code


@dataclass(frozen=True)
class SignedIn:
    user: User
    secret: bytes  # the cache's key (encrypted cache) or the user's token (plain cache)
    failures: tuple[dict[str, Any], ...] = ()  # failed tries since the last sign-in, for the audit log


@dataclass
class Session:
    """Who signed in to this window and when they last proved it (sign-in or re-authentication)."""

    name: str
    signin_path: Path
    authenticated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    locked: bool = False

    def fresh(self, now: datetime | None = None) -> bool:
        return not self.locked and ((now or datetime.now(UTC)) - self.authenticated_at).total_seconds() < REAUTH_S


class ReauthNeeded(SignInError):
    """The action needs the user's password again (``what`` says which action)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} needs your password again (you signed in more than {REAUTH_S // 60} minutes ago)")
        self.what = what


def path_for(cache_path: Path) -> Path:
    return cache_path.with_name(cache_path.name + SUFFIX)


def required(cache_path: Path) -> bool:
    """Whether opening this cache needs a sign-in (it has users)."""
    return bool(_load(path_for(cache_path)).get("users"))


def users(cache_path: Path) -> list[dict[str, Any]]:
    """Each user's name, role, parishes, whether TOTP is on, and their failed tries in a row."""
    data = _load(path_for(cache_path))
    return [{"name": n, "role": u["role"], "parishes": u["parishes"], "totp": bool(u.get("totp")),
             "failed_in_a_row": int(data.get("counts", {}).get(n, {}).get("n", 0)), "enrolled_at": u.get("at")}
            for n, u in sorted(data.get("users", {}).items())]


def has_totp(cache_path: Path, name: str) -> bool:
    return bool(_load(path_for(cache_path)).get("users", {}).get(name, {}).get("totp"))


# -- enrolment ---------------------------------------------------------------------------------
def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise SignInError(f"a password needs at least {MIN_PASSWORD} characters")
    if password.strip() != password or len(set(password)) < 4:
        raise SignInError("a password may not start or end with a space, and needs at least 4 different characters")


def enrol(cache_path: Path, name: str, password: str, role: Role | str, parishes: tuple[str, ...] | list[str],
          secret: bytes | None) -> None:
    """Add (or replace) user ``name`` with ``password``. ``secret``: the cache's key if it is
    encrypted; None on a plain cache (a random token is wrapped instead)."""
    name = name.strip()
    if not name or len(name) > 64 or any(ch in name for ch in "\r\n\t"):
        raise SignInError("a user name is 1 to 64 characters on one line")
    from c360_desktop.core import logs

    role = Role(role)
    check_password(password)
    logs.known_secret(password)
    path = path_for(cache_path)
    data = _load(path)
    meta = {"role": role.value, "parishes": sorted(set(parishes)), "at": _now().isoformat(timespec="seconds")}
    # re-enrolling resets the password and turns TOTP off
    data.setdefault("users", {})[name] = _sealed(name, meta, password, secret or secrets.token_bytes(32))
    data.setdefault("counts", {}).pop(name, None)
    _save(path, data)


def remove(cache_path: Path, name: str) -> None:
    path = path_for(cache_path)
    data = _load(path)
    if name not in data.get("users", {}):
        raise SignInError(f"{name} is not a user of this cache")
    del data["users"][name]
    data.get("counts", {}).pop(name, None)
    _save(path, data)


# -- sign-in -----------------------------------------------------------------------------------
def sign_in(cache_path: Path, name: str, password: str, code: str | None = None,
            now: datetime | None = None) -> SignedIn:
    """Check ``name``'s password (and TOTP code, if they have one); the user and the secret the
    password unwraps. SignInError (counted, rate-limited) if anything is wrong."""
    from c360_desktop.core import logs

    logs.known_secret(password)  # masked in every log line from now on
    now = now or _now()
    path = path_for(cache_path)
    data = _load(path)
    record = data.get("users", {}).get(name)
    counter = name if record else ANYONE
    _wait(data, counter, now)
    why = None
    secret = None
    if record is None:
        _burn(password)  # as slow as a real try: the time does not tell which names exist
        why = "unknown user"
    else:
        kek = _kek(record, password)  # one derivation opens the key and the second factor
        secret = _unwrap(name, record, kek)
        if secret is None:
            why = "wrong password or altered sign-in record"
        elif record.get("totp"):
            why = _check_code(data, name, record, kek, code, now)
    if why is not None:
        wait = _fail(path, data, counter, name, why, now)
        shown = "the user name or password is wrong" if why != "wrong code" else "the authenticator code is wrong"
        if why == "code needed":
            shown = "enter the 6-digit code from your authenticator app"
        raise SignInError(shown + (f"; try again in {wait} s" if wait else ""), wait, counted=True, why=why)
    assert record is not None and secret is not None
    failures = tuple(data.get("failures", []))  # cleared once the audit log holds them
    data.setdefault("counts", {}).pop(name, None)
    _save(path, data)
    return SignedIn(User(name, Role(record["role"]), tuple(record["parishes"])), secret, failures)


def opens(cache_path: Path, name: str, password: str) -> bool:
    """Whether ``password`` opens ``name``'s record here (not counted as a try: for a password the
    centre has just accepted)."""
    record = _load(path_for(cache_path)).get("users", {}).get(name)
    return record is not None and _unwrap(name, record, _kek(record, password)) is not None


def check_wait(cache_path: Path, name: str, now: datetime | None = None) -> None:
    """SignInError if ``name`` must wait before another try (asked before trying the centre)."""
    data = _load(path_for(cache_path))
    _wait(data, name if name in data.get("users", {}) else ANYONE, now or _now())


def refused_elsewhere(cache_path: Path, name: str, why: str, now: datetime | None = None) -> SignInError:
    """Count a try the centre refused as a failure here; the error to raise."""
    now = now or _now()
    path = path_for(cache_path)
    data = _load(path)
    counter = name if name in data.get("users", {}) else ANYONE
    wait = _fail(path, data, counter, name, why, now)
    return SignInError(f"the central database refused the password for {name}" +
                       (f"; try again in {wait} s" if wait else ""), wait, counted=True, why=why)


def update_role(cache_path: Path, name: str, password: str, role: Role | str, parishes: tuple[str, ...]) -> bool:
    """Record the centre's role and parishes for ``name`` (same key, same second factor): True if
    they changed."""
    path = path_for(cache_path)
    data = _load(path)
    record = data.get("users", {}).get(name)
    if record is None or (record["role"], record["parishes"]) == (Role(role).value, sorted(set(parishes))):
        return False
    kek = _kek(record, password)
    secret = _unwrap(name, record, kek)
    if secret is None:
        return False
    _rewrite(path, data, name, kek, password, secret, role=Role(role).value, parishes=sorted(set(parishes)))
    return True


def clear_failures(cache_path: Path, count: int, newest: bool = False) -> None:
    """Forget ``count`` recorded failures (the oldest, or the newest) once the audit log has them."""
    if count <= 0:
        return
    path = path_for(cache_path)
    data = _load(path)
    failures = data.get("failures", [])
    data["failures"] = failures[:-count] if newest else failures[count:]
    _save(path, data)


def reauthenticate(session: Session, password: str, code: str | None = None, now: datetime | None = None) -> None:
    """The signed-in user proves it again (after the idle lock, before a sensitive action)."""
    cache_path = session.signin_path.with_name(session.signin_path.name[: -len(SUFFIX)])
    sign_in(cache_path, session.name, password, code, now)
    session.authenticated_at = now or _now()
    session.locked = False


def rewrap(cache_path: Path, name: str, password: str, secret: bytes) -> bool:
    """Wrap ``secret`` (the cache's key now) for ``name`` if their record wraps something else
    (the cache was encrypted or rekeyed since): True if it changed."""
    path = path_for(cache_path)
    data = _load(path)
    record = data.get("users", {}).get(name)
    kek = _kek(record, password) if record is not None else None
    if record is None or _unwrap(name, record, kek) == secret:
        return False
    _rewrite(path, data, name, kek, password, secret)
    return True


def change_password(cache_path: Path, name: str, old: str, new: str) -> None:
    """``name`` sets a new password; the same key (and second factor) wrapped under it."""
    check_password(new)
    path = path_for(cache_path)
    data = _load(path)
    record = data.get("users", {}).get(name)
    kek = _kek(record, old) if record else None
    secret = _unwrap(name, record, kek) if record else None
    if secret is None:
        raise SignInError("the current password is wrong")
    _rewrite(path, data, name, kek, new, secret)


def _rewrite(path: Path, data: dict[str, Any], name: str, kek: bytes | None, password: str, secret: bytes,
             **changes: Any) -> None:
    """``name``'s record anew under ``password``, holding ``secret`` and the second factor the
    old ``kek`` opens, with ``changes`` (role, parishes) made."""
    record = data["users"][name]
    totp = _unwrap_totp(name, record, kek) if record.get("totp") else None
    meta = {k: changes.get(k, record[k]) for k in ("role", "parishes", "at")}
    data["users"][name] = _sealed(name, meta, password, secret, totp)
    _save(path, data)


# -- TOTP ------------------------------------------------------------------------------------
def totp_new_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(name: str, secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="C360 Desktop")


def totp_enable(cache_path: Path, name: str, password: str, secret: str, code: str) -> None:
    """Turn on the second factor for ``name`` once ``code`` shows their app holds ``secret``."""
    import pyotp

    path = path_for(cache_path)
    data = _load(path)
    record = data.get("users", {}).get(name)
    kek = _kek(record, password) if record is not None else None
    if record is None or kek is None or _unwrap(name, record, kek) is None:
        raise SignInError("the password is wrong")
    if not pyotp.TOTP(secret).verify((code or "").strip(), valid_window=1):
        raise SignInError("that code does not match: check the phone's clock and enter the current code")
    record["totp"] = _seal(kek, secret.encode(), _aad(name, record, "totp"))
    _save(path, data)


def totp_disable(cache_path: Path, name: str, password: str) -> None:
    path = path_for(cache_path)
    data = _load(path)
    record = data.get("users", {}).get(name)
    if record is None or _unwrap(name, record, _kek(record, password)) is None:
        raise SignInError("the password is wrong")
    record.pop("totp", None)
    _save(path, data)


def _check_code(data: dict[str, Any], name: str, record: dict[str, Any], kek: bytes | None, code: str | None,
                now: datetime) -> str | None:
    import pyotp

    if not (code or "").strip():
        return "code needed"
    totp_secret = _unwrap_totp(name, record, kek)
    if totp_secret is None:
        return "wrong password or altered sign-in record"
    totp = pyotp.TOTP(totp_secret)
    step = int(now.timestamp()) // totp.interval
    for offset in (0, -1, 1):  # a phone clock 30 s off still works
        if totp.at(now.timestamp() + offset * totp.interval) == code.strip():  # type: ignore[union-attr]
            used = data.setdefault("totp_used", {})
            if used.get(name, -10) >= step + offset:
                return "wrong code"  # a code already used (seen over a shoulder) is refused
            used[name] = step + offset
            return None
    return "wrong code"


# -- rate limiting -----------------------------------------------------------------------------
def _wait(data: dict[str, Any], counter: str, now: datetime) -> None:
    count = data.get("counts", {}).get(counter)
    if not count:
        return
    wait = _delay(int(count["n"]))
    ready = datetime.fromisoformat(count["last"]) + timedelta(seconds=wait)
    if ready > now:
        left = int((ready - now).total_seconds()) + 1
        raise SignInError(f"too many failed sign-ins: try again in {left} s", left)


def _delay(failures: int) -> int:
    if failures < FREE_TRIES:
        return 0
    return int(min(LONGEST_WAIT_S, FIRST_WAIT_S * 2 ** (failures - FREE_TRIES)))


def _fail(path: Path, data: dict[str, Any], counter: str, name: str, why: str, now: datetime) -> int:
    counts = data.setdefault("counts", {})
    n = int(counts.get(counter, {}).get("n", 0)) + 1
    counts[counter] = {"n": n, "last": now.isoformat(timespec="seconds")}
    data.setdefault("failures", []).append({"at": now.isoformat(timespec="seconds"), "name": name[:64], "why": why})
    del data["failures"][:-500]  # a flood of tries keeps the newest 500 for the audit log
    _save(path, data)
    return _delay(n)


# -- the wraps ---------------------------------------------------------------------------------
def _derive(password: str, salt: bytes, cost: dict[str, int]) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=cost["n"], r=cost["r"], p=cost["p"],
                          maxmem=256 * cost["n"] * cost["r"], dklen=32)


def _burn(password: str) -> None:
    _derive(password, b"\0" * 16, SCRYPT)


def _aad(name: str, record: dict[str, Any], what: str) -> bytes:
    return json.dumps([what, name, record["role"], record["parishes"], record["at"]],
                      separators=(",", ":")).encode("utf-8")


def _sealed(name: str, meta: dict[str, Any], password: str, secret: bytes, totp: str | None = None) -> dict[str, Any]:
    """A record: ``meta`` (role, parishes, at) with ``secret`` (and the TOTP secret) wrapped under
    a key derived from ``password`` with a fresh salt (one derivation)."""
    salt = secrets.token_bytes(16)
    kek = _derive(password, salt, SCRYPT)
    record: dict[str, Any] = {**meta, "kdf": {"name": "scrypt", **SCRYPT, "salt": _b64(salt)}}
    record["wrap"] = _seal(kek, secret, _aad(name, record, "key"))
    if totp is not None:
        record["totp"] = _seal(kek, totp.encode(), _aad(name, record, "totp"))
    return record


def _kek(record: dict[str, Any], password: str) -> bytes | None:
    """The key ``password`` derives with the record's salt and cost (None: a malformed record)."""
    try:
        return _derive(password, _unb64(record["kdf"]["salt"]), _cost(record))
    except (KeyError, TypeError, ValueError):
        return None


def _unwrap(name: str, record: dict[str, Any], kek: bytes | None) -> bytes | None:
    if kek is None:
        return None
    try:
        return _open(kek, record["wrap"], _aad(name, record, "key"))
    except (KeyError, TypeError, ValueError):
        return None


def _unwrap_totp(name: str, record: dict[str, Any], kek: bytes | None) -> str | None:
    if kek is None:
        return None
    try:
        value = _open(kek, record["totp"], _aad(name, record, "totp"))
    except (KeyError, TypeError, ValueError):
        return None
    return value.decode() if value is not None else None


def _cost(record: dict[str, Any]) -> dict[str, int]:
    kdf = record["kdf"]
    cost = {"n": int(kdf["n"]), "r": int(kdf["r"]), "p": int(kdf["p"])}
    if not (2**14 <= cost["n"] <= 2**20 and 1 <= cost["r"] <= 32 and 1 <= cost["p"] <= 16):
        raise ValueError("scrypt cost out of range")  # a file edited to make tries cheap, or a DoS
    return cost


def _seal(kek: bytes, value: bytes, aad: bytes) -> dict[str, str]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    return {"nonce": _b64(nonce), "data": _b64(AESGCM(kek).encrypt(nonce, value, aad))}


def _open(kek: bytes, sealed: dict[str, str], aad: bytes) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(kek).decrypt(_unb64(sealed["nonce"]), _unb64(sealed["data"]), aad)
    except InvalidTag:
        return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# -- the file ----------------------------------------------------------------------------------
def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("users", {}), dict):
            raise ValueError("not a sign-in file")
    except (OSError, ValueError) as exc:
        raise SignInError(f"{path.name} beside the cache cannot be read ({exc}); nobody can sign in until it "
                          "is restored from a backup or the users are enrolled again") from None
    return data


def _save(path: Path, data: dict[str, Any]) -> None:
    data["format"] = 1
    tmp = path.with_name(path.name + ".part")
    create_private(tmp)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def _now() -> datetime:
    return datetime.now(UTC)
