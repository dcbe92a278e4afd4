"""What every ``c360`` subcommand shares: one-line errors, argument types, progress on
stderr, opening the services."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from c360_desktop.core.progress import Progress
from c360_desktop.core.settings import Settings, load_settings

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A one-line message for the user; exits with EXIT_BAD_INPUT."""


def count_type(most: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to ``most`` (1,000 and 1_000 are read as 1000)."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
        if value > most:
            raise argparse.ArgumentTypeError(f"{text!r} is too many; at most {most:,}")
        return value

    return parse


def date_type(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def stderr_progress() -> Progress:
    state = {"last": -1.0, "t": 0.0}
    tty = sys.stderr.isatty()

    def show(fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - state["t"] < (0.2 if tty else 2.0):
            return
        state["t"] = now
        line = f"[{fraction * 100:5.1f}%] {message}"
        sys.stderr.write(("\r" + line.ljust(90)) if tty else line + "\n")
        if tty and fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return Progress(show)


def cache_path(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.cache) if args.cache else settings.resolved_cache_path()


def open_services(args: argparse.Namespace) -> Any:
    from c360_desktop.core.services import Services

    settings, _problems = load_settings()
    path = cache_path(args, settings)
    if not path.exists():
        raise CliError(f"no cache at {path} (build one with: c360 demo-data --out {path})")
    from c360_desktop.core.security import signin

    try:
        if signin.required(path):
            name, password, code = ask_sign_in(path, settings.user_name)
            return Services.open_signed_in(path, settings, name, password, code)
    except signin.SignInError as exc:
        raise CliError(f"sign-in refused: {exc}") from None
    return Services.open(path, settings, create=False)


def ask_sign_in(path: Path, default_name: str) -> tuple[str, str, str | None]:
    """Who signs in to a cache with users: C360_USER / C360_PASSWORD / C360_TOTP for scripts
    (as PGPASSWORD is), else asked in the terminal; never on the command line."""
    import getpass
    import os

    from c360_desktop.core.security import signin

    name = os.environ.get("C360_USER") or default_name
    password = os.environ.get("C360_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CliError(f"{path.name} has users, so it needs a sign-in: run in a terminal, or give "
                           "C360_USER and C360_PASSWORD")
        password = getpass.getpass(f"Password for {name} on {path.name}: ")
    code = os.environ.get("C360_TOTP")
    if code is None and signin.has_totp(path, name) and sys.stdin.isatty():
        code = input("Code from your authenticator app: ").strip()
    return name, password, code


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def need_analytics(*modules: str) -> None:
    """The analytics commands need libraries a base install lacks: say so, in one line."""
    from importlib.util import find_spec

    missing = [m for m in modules if find_spec(m) is None]
    if missing:
        from c360_desktop.core.analytics.training import PACKAGE_OF

        raise CliError(f"this needs {', '.join(PACKAGE_OF.get(m, m) for m in missing)}, missing from this "
                       "installation: reinstall C360 Desktop")


def read_csv(path: Path) -> Any:
    """A CSV file as text columns (any common separator), or one line saying why it is not one."""
    import csv

    import pandas as pd

    if not path.exists():
        raise CliError(f"{path}: no such file")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"{path}: not a readable CSV file ({exc})") from None


def parishes_type(text: str) -> list[str]:
    from c360_desktop.core.validation import InvalidValue, normalize_parish

    try:
        return [normalize_parish(p.strip(), "--territory") for p in text.split(",") if p.strip()]
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def connector_registry() -> Any:
    from c360_desktop.core.identity.importing import ConnectorRegistry

    registry = ConnectorRegistry()
    registry.load()
    return registry


MOST_RESULTS = 100_000  # any list the CLI prints (search hits, leads, nearby customers)


def cache_arg(sp: Any) -> None:
    sp.add_argument("--cache", help="cache file (default: the configured cache)")
