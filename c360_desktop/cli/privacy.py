"""``c360 export --pseudonymise``: a pseudonymised copy of the cache for analysis and testing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from c360_desktop.cli.common import CliError, cache_arg, open_services, stderr_progress


def cmd_export(args: argparse.Namespace) -> int:
    from c360_desktop.core.outputs import OutputError
    from c360_desktop.core.privacy.service import PrivacyError, PrivacyRefused

    if not args.pseudonymise:
        raise CliError("c360 export writes pseudonymised copies only: add --pseudonymise "
                       "(reports are exported with c360 report query --out)")
    key = None
    if args.key_file:
        try:
            key = Path(args.key_file).read_bytes().strip()
        except OSError as exc:
            raise CliError(f"cannot read the key file {args.key_file}: {exc.strerror or exc}") from None
        if len(key) < 16:
            raise CliError(f"the key file {args.key_file} holds {len(key)} bytes; give at least 16")
    services = open_services(args)
    try:
        made = services.privacy.pseudonymised_copy(Path(args.out), key, args.force, stderr_progress())
    except (PrivacyError, PrivacyRefused, OutputError, ValueError) as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()
    print(f"{made.path}: {made.customers:,} customers, pseudonymised ({made.bytes / 1e6:,.1f} MB)")
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("export", help="a pseudonymised copy of the cache for analysis and testing",
                       description="Identifiers become consistent tokens, dates of birth their year, places "
                       "their parish; free text and copies of values are removed. The copy never syncs.")
    p.add_argument("--pseudonymise", "--pseudonymize", action="store_true", help="required: what this command does")
    p.add_argument("--out", required=True, help="the new cache file")
    p.add_argument("--key-file", help="a file of at least 16 bytes: the same key gives the same tokens "
                   "across exports (default: a fresh random key, not kept)")
    p.add_argument("--force", action="store_true", help="replace an earlier copy at --out")
    cache_arg(p)
    p.set_defaults(func=cmd_export)
