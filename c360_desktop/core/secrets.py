"""Credentials: only ever in the OS keyring, through this one wrapper (never in files or logs)."""

from __future__ import annotations

import contextlib

import keyring
from keyring.errors import KeyringError, NoKeyringError

from c360_desktop.core import logs

SERVICE = "c360-desktop"


class SecretsUnavailable(Exception):
    """No usable keyring on this machine; the message says what to do instead."""


def _check_backend() -> None:
    backend = keyring.get_keyring()
    if type(backend).__name__ == "Keyring" and type(backend).__module__.startswith("keyring.backends.fail"):
        raise SecretsUnavailable(
            "no OS keyring is available here, so C360 Desktop will not store passwords; "
            "use a keyring (Windows Credential Manager, macOS Keychain, Secret Service) or set "
            "PGPASSWORD for command-line runs")


def get_password(account: str) -> str | None:
    try:
        _check_backend()
        password = keyring.get_password(SERVICE, account)
        logs.known_secret(password)
        return password
    except SecretsUnavailable:
        return None
    except (KeyringError, NoKeyringError):
        return None


def set_password(account: str, password: str) -> None:
    logs.known_secret(password)
    _check_backend()
    try:
        keyring.set_password(SERVICE, account, password)
    except (KeyringError, NoKeyringError) as exc:
        raise SecretsUnavailable(f"the OS keyring refused to store the password: {exc}") from None


def delete_password(account: str) -> None:
    with contextlib.suppress(KeyringError, NoKeyringError):
        keyring.delete_password(SERVICE, account)
