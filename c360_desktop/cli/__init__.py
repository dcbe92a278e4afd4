"""The ``c360`` command: headless access to the same core services as the desktop app.

Every command that reads a cache takes ``--cache PATH`` (default: the configured cache). Bad
input gives one line on stderr naming the problem and a non-zero exit; long work reports
progress on stderr so stdout stays clean for JSON. Each feature's module registers its own
subcommands next to their handlers (``register(sub)``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from c360_desktop import __version__
from c360_desktop.cli import (
    audit,
    cache,
    demo,
    diagnostics,
    health,
    identity,
    leads,
    lookup,
    models,
    privacy,
    quality,
    reports,
    requests,
    retention,
    signin,
    sync,
    updates,
)
from c360_desktop.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, CliError
from c360_desktop.core.progress import Cancelled
from c360_desktop.core.storage.cache import CacheError

FEATURES = (demo, lookup, sync, leads, identity, models, reports, quality, audit, privacy, requests, retention, signin, cache, diagnostics, health, updates)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description="C360 Desktop on the command line.")
    parser.add_argument("--version", action="version", version=f"c360 {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for feature in FEATURES:
        feature.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from c360_desktop.core.printable import PrintableStream

    parser = build_parser()
    args = parser.parse_args(argv)
    # Names and values from imported files reach the terminal: no escape sequence gets through
    # (JSON output escapes them itself). Progress lines keep their carriage return.
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(err, keep_cr=True)  # type: ignore[assignment]
    from c360_desktop.core import logs

    logs.setup(console=True, console_level=logging.WARNING)
    try:
        with logs.correlated():
            logging.getLogger("c360_desktop.cli").info("c360 %s started", args.command)
            return _run(args)
    finally:
        if isinstance(sys.stdout, PrintableStream):
            sys.stdout = out
        sys.stderr = err


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except (CliError, CacheError, ValueError, PermissionError) as exc:  # PermissionError: a role's refusal
        print(f"c360: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        print("c360: cancelled", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        print("\nc360: interrupted; nothing was left half-written", file=sys.stderr)
        return 130


__all__ = ["CliError", "build_parser", "main"]
