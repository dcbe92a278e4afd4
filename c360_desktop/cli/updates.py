"""Updates from the location IT configures: ``c360 update check|fetch|publish``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from c360_desktop.cli.common import CliError, print_json, stderr_progress
from c360_desktop.core.settings import load_settings


def _location(args: argparse.Namespace) -> str:
    location = args.location or load_settings()[0].update_location
    if not location:
        raise CliError("no update location: give --location, or set update_location in the settings")
    return location


def cmd_update(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from c360_desktop.core.updates.service import UpdateError, check, fetch, publish

    try:
        if args.update_command == "publish":
            if not Path(args.installer).is_file():
                raise CliError(f"{args.installer}: no such file")
            print(f"published: {publish(Path(args.installer), Path(args.to), args.version, args.notes)}")
            return 0
        update = check(_location(args))
        if args.update_command == "check":
            if args.json:
                print_json(asdict(update) if update else {"update": None})
            else:
                print(f"C360 Desktop {update.version} is available (this is {update.current}): "
                      f"{update.installer_url}" if update else "C360 Desktop is up to date")
            return 0
        if update is None:
            print("C360 Desktop is up to date; nothing fetched")
            return 0
        print(f"fetched and checked: {fetch(update, Path(args.out), stderr_progress())}")
        return 0
    except UpdateError as exc:
        raise CliError(str(exc)) from None


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("update", help="look for a newer installer where IT publishes them",
                       description="Updates come only from the location IT configures (a folder, a file "
                       "share or an http(s) address holding c360-desktop-latest.json); nothing is "
                       "looked up otherwise.")
    cmds = p.add_subparsers(dest="update_command", required=True, metavar="COMMAND")
    c = cmds.add_parser("check", help="say whether a newer version is published")
    c.add_argument("--location", help="the update location (default: update_location in the settings)")
    c.add_argument("--json", action="store_true")
    f = cmds.add_parser("fetch", help="copy the newer installer here, checking its SHA-256")
    f.add_argument("--location")
    f.add_argument("--out", required=True, metavar="FOLDER")
    u = cmds.add_parser("publish", help="for IT: put an installer and its manifest in an update location")
    u.add_argument("installer")
    u.add_argument("--to", required=True, metavar="FOLDER")
    u.add_argument("--version", required=True)
    u.add_argument("--notes", default="")
    p.set_defaults(func=cmd_update)
