"""The keys of encrypted caches (SQLCipher 4): one random 256-bit key per cache, kept in the OS
keyring (DPAPI-protected Credential Manager on Windows), never in a file.

Beside each encrypted cache, ``<cache>.key.json`` holds what is not secret: the key's id (the
keyring entry's name), a check value (an HMAC of a fixed text under the key: it tells a wrong
key from a damaged file without trying the file), when the cache was last unlocked (for the
lost-laptop wipe) and after how many days without an unlock it is wiped. The raw key is passed as
``PRAGMA key = "x'...'"``, so opening skips SQLCipher's passphrase derivation.

Scripts and servers without a keyring give the key in ``C360_CACHE_KEY`` (64 hex digits), as
they give a database password in PGPASSWORD. ``C360_CACHE_ENCRYPTION=off`` keeps new caches
plain (the test suite, which reads cache files with plain sqlite3, sets it).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from c360_desktop.core.private import create_private

SUFFIX = ".key.json"
_CHECK_TEXT = b"c360 cache key check v1"
ENV_KEY = "C360_CACHE_KEY"
ENV_SWITCH = "C360_CACHE_ENCRYPTION"


class KeyProblem(Exception):
    """The cache's key is missing or wrong; the message says what to do. Nothing was changed."""


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    check: str
    unlocked_at: str | None = None
    wipe_after_days: int = 0  # 0: never
    kept: str = "keyring"  # or "signin": only wrapped by the users' passwords (security.signin)


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def is_encrypted(path: Path) -> bool:
    return sidecar(path).exists()


def check_value(key: bytes) -> str:
    return hmac.new(key, _CHECK_TEXT, hashlib.sha256).hexdigest()


# Page authentication with HMAC-SHA256 rather than SQLCipher 4's default SHA-512: the same
# integrity check, and cheaper on processors with SHA extensions (docs/benchmarks.md). Applied on
# every connection after the key; the key file records it.
HMAC = "HMAC_SHA256"


def pragma(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def settings(schema: str = "main") -> list[str]:
    """The cipher settings every connection (and an export into ``schema``) uses after the key."""
    return [f"PRAGMA {schema}.cipher_hmac_algorithm = {HMAC}"]


def available() -> str | None:
    """Why new caches cannot be encrypted here, or None if they can (SQLCipher is installed and a
    key can be kept: in the keyring, or given in C360_CACHE_KEY)."""
    if os.environ.get(ENV_SWITCH, "").lower() in ("off", "0", "no"):
        return f"{ENV_SWITCH} is off"
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        return "SQLCipher (the sqlcipher3 package) is not installed"
    if os.environ.get(ENV_KEY):
        return None
    from c360_desktop.core import secrets as keyring_secrets

    try:
        keyring_secrets._check_backend()
    except keyring_secrets.SecretsUnavailable as exc:
        return str(exc)
    return None


def read_info(path: Path) -> KeyInfo:
    try:
        raw = json.loads(sidecar(path).read_text("utf-8"))
        kept = str(raw.get("kept", "keyring"))
        if kept not in ("keyring", "signin"):
            raise ValueError(f"kept: {kept!r}")
        return KeyInfo(str(raw["key_id"]), str(raw["check"]), raw.get("unlocked_at"),
                       int(raw.get("wipe_after_days", 0)), kept)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyProblem(f"{sidecar(path).name} beside the cache cannot be read ({exc}); the cache was left "
                         "untouched") from None


def write_info(path: Path, info: KeyInfo) -> None:
    target = sidecar(path)
    tmp = target.with_name(target.name + ".part")
    create_private(tmp)
    tmp.write_text(json.dumps({"format": 1, "cipher": "sqlcipher4", "hmac": HMAC, "key_id": info.key_id,
                               "check": info.check,
                               "unlocked_at": info.unlocked_at, "wipe_after_days": info.wipe_after_days,
                               "kept": info.kept},
                              indent=1), "utf-8")
    tmp.replace(target)


def _account(key_id: str) -> str:
    return f"cache-key:{key_id}"


def _from_env() -> bytes | None:
    value = os.environ.get(ENV_KEY, "").strip()
    if not value:
        return None
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyProblem(f"{ENV_KEY} must be 64 hexadecimal digits (a 256-bit key)")
    return key


def new_key(path: Path, wipe_after_days: int = 0) -> bytes:
    """A fresh key for the cache at ``path``, stored (keyring, unless C360_CACHE_KEY gives it)
    and described in the sidecar file."""
    key = _from_env() or secrets.token_bytes(32)
    write_info(path, KeyInfo(_store(key), check_value(key), _now(), wipe_after_days))
    return key


def _store(key: bytes) -> str:
    """Keep ``key`` in the keyring under a new id (unless C360_CACHE_KEY gives it); the id."""
    from c360_desktop.core import logs

    key_id = str(uuid.uuid4())
    if not os.environ.get(ENV_KEY):
        from c360_desktop.core import secrets as keyring_secrets

        keyring_secrets.set_password(_account(key_id), key.hex())
    logs.known_secret(key.hex())
    return key_id


def key_for(path: Path, given: bytes | None = None) -> bytes:
    """The key of the encrypted cache at ``path`` (``given``: one a sign-in unwrapped), checked
    against its sidecar; KeyProblem if it is missing or is not this cache's."""
    from c360_desktop.core import logs

    info = read_info(path)
    key = given if given is not None else _from_env()
    if key is None and info.kept == "signin":
        raise KeyProblem(f"the key of {path.name} is kept only under its users' passwords: sign in to open it "
                         f"(or give the key in {ENV_KEY}). The cache was left untouched")
    if key is None:
        from c360_desktop.core import (
            secrets as keyring_secrets,  # keyring loads only when it is asked
        )

        stored = keyring_secrets.get_password(_account(info.key_id))
        if not stored:
            raise KeyProblem(f"the key of {path.name} is not in this computer's keyring (entry "
                             f"{_account(info.key_id)}); restore it, or give it in {ENV_KEY}. The cache "
                             "was left untouched, with any changes not yet synced")
        try:
            key = bytes.fromhex(stored)
        except ValueError:
            raise KeyProblem(f"the keyring entry {_account(info.key_id)} is not a cache key") from None
    logs.known_secret(key.hex())
    if not hmac.compare_digest(check_value(key), info.check):
        raise KeyProblem(f"the key given for {path.name} is not its key (the check in {sidecar(path).name} "
                         "does not match); the cache was left untouched")
    return key


def matches(path: Path, key: bytes) -> bool:
    """Whether ``key`` is the key of the encrypted cache at ``path`` (by its check value)."""
    try:
        return hmac.compare_digest(check_value(key), read_info(path).check)
    except KeyProblem:
        return False


def protect(path: Path, key: bytes) -> None:
    """Keep the cache's key only wrapped by its users' passwords: its keyring entry is removed."""
    from c360_desktop.core import secrets as keyring_secrets

    info = read_info(path)
    if not matches(path, key):
        raise KeyProblem("that is not this cache's key")
    write_info(path, KeyInfo(info.key_id, info.check, info.unlocked_at, info.wipe_after_days, "signin"))
    if not os.environ.get(ENV_KEY):
        with contextlib.suppress(Exception):  # already gone
            keyring_secrets.delete_password(_account(info.key_id))


def unprotect(path: Path, key: bytes) -> None:
    """Keep the cache's key in the keyring again (opening no longer needs a sign-in's unwrap)."""
    from c360_desktop.core import secrets as keyring_secrets

    info = read_info(path)
    if not matches(path, key):
        raise KeyProblem("that is not this cache's key")
    if not os.environ.get(ENV_KEY):
        keyring_secrets.set_password(_account(info.key_id), key.hex())
    write_info(path, KeyInfo(info.key_id, info.check, info.unlocked_at, info.wipe_after_days, "keyring"))


def forget(path: Path) -> None:
    """Remove the cache's key from the keyring and its sidecar (after the cache is wiped)."""
    from c360_desktop.core import secrets as keyring_secrets

    with contextlib.suppress(KeyProblem):
        keyring_secrets.delete_password(_account(read_info(path).key_id))
    sidecar(path).unlink(missing_ok=True)


def replace_key(path: Path, key: bytes) -> None:
    """Store ``key`` as the cache's new key (after ``PRAGMA rekey``), under a new id; the old
    keyring entry is removed once the new one is written."""
    from c360_desktop.core import secrets as keyring_secrets

    old = read_info(path)
    if old.kept == "signin":
        raise KeyProblem("the key is kept only under the users' passwords; keep it in the keyring again "
                         "('c360 signin unprotect') before a rekey, so no user is locked out")
    write_info(path, KeyInfo(_store(key), check_value(key), old.unlocked_at, old.wipe_after_days))
    if not os.environ.get(ENV_KEY):
        keyring_secrets.delete_password(_account(old.key_id))


def unlocked(path: Path) -> None:
    """Note that the cache was unlocked now (the lost-laptop clock starts again)."""
    info = read_info(path)
    write_info(path, KeyInfo(info.key_id, info.check, _now(), info.wipe_after_days, info.kept))


def overdue(path: Path, now: datetime | None = None) -> int | None:
    """Days since the cache was last unlocked, if that is past its wipe limit; else None."""
    info = read_info(path)
    if not info.wipe_after_days or not info.unlocked_at:
        return None
    last = datetime.fromisoformat(info.unlocked_at)
    days = ((now or datetime.now(UTC)) - last) / timedelta(days=1)
    return int(days) if days > info.wipe_after_days else None


def set_wipe_after(path: Path, days: int) -> None:
    info = read_info(path)
    write_info(path, KeyInfo(info.key_id, info.check, info.unlocked_at, max(0, int(days)), info.kept))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
