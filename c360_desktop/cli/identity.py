"""Identity: ``c360 resolve`` over anyone's files, ``c360 import`` and ``c360 link``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from c360_desktop.cli.common import (
    EXIT_BAD_INPUT,
    CliError,
    connector_registry,
    open_services,
    stderr_progress,
)
from c360_desktop.core.settings import load_settings


def cmd_resolve(args: argparse.Namespace) -> int:
    from c360_desktop.core.identity.files import InputError, parse_field, run

    try:
        fields = [parse_field(spec) for spec in args.field]
        progress = stderr_progress()
        result = run([Path(p) for p in args.input], args.id_column, fields, Path(args.out),
                     Path(args.clusters) if args.clusters else None, args.threshold, args.best_match,
                     progress=progress, force=args.force)
    except InputError as exc:
        raise CliError(str(exc)) from None
    r = result.resolution
    print(f"{r.blocking.candidates:,} candidate pairs compared; {result.pairs_written:,} pairs at probability >= "
          f"{args.threshold:g} written to {args.out}"
          + (f"; {result.clusters_written:,} clusters written to {args.clusters}" if args.clusters else ""),
          file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from c360_desktop.core.identity.importing import (
        ImportRefused,
        TableConnector,
        import_file,
        plan,
    )
    from c360_desktop.core.tables import check_file

    path = Path(args.file)
    settings, _problems = load_settings()
    check_file(path, settings.import_max_mb)  # before a connector sniffs it: /dev/zero, a folder, a bomb
    if args.map or args.id_column:
        if not (args.map and args.id_column):
            raise CliError("a mapping needs both --id-column and at least one --map 'File column=field'")
        mapping = {}
        for spec in args.map:
            if "=" not in spec:
                raise CliError(f"--map {spec!r}: write 'File column=field'")
            column, name = spec.split("=", 1)
            mapping[column.strip()] = name.strip()
        connector = TableConnector(args.id_column, mapping)
    else:
        connector = connector_registry().for_file(path, args.connector)
    checked = plan(path, connector, args.system, max_mb=settings.import_max_mb)
    services = open_services(args)
    try:
        result = import_file(services.cache, checked, services.user.name,
                             skip_bad_rows=args.skip_bad_rows, link=not args.no_link)
    except ImportRefused as exc:
        print(f"c360: {path.name}: {exc}", file=sys.stderr)
        if not checked.file_problems:
            print("c360: fix the rows, or import the others with --skip-bad-rows", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        services.close()
    print(f"{path.name} ({connector.NAME}, source system {checked.system}): {result.inserted:,} new, "
          f"{result.updated:,} updated, {result.unchanged:,} unchanged, {result.skipped:,} rows skipped",
          file=sys.stderr)
    for row, ext, _old, _new in result.suspects:
        print(f"  row {row}: record {ext!r} came back with another name, phone and e-mail: kept as a new "
              "record, both customers sent to review", file=sys.stderr)
    if result.links is not None:
        _print_links(result.links)
    elif args.no_link:
        print("not linked yet: the next import links them, or run c360 link", file=sys.stderr)
    for problem in checked.problems if args.skip_bad_rows else ():
        print(f"  skipped {problem}", file=sys.stderr)
    return 0


def _print_links(links: Any) -> None:
    print(f"linked {len(links.linked):,} to existing customers, {len(links.created):,} new customers "
          f"({links.queued:,} of them possibly duplicates: see the review queue)", file=sys.stderr)


def cmd_link(args: argparse.Namespace) -> int:
    from c360_desktop.core.identity.importing import link_pending

    services = open_services(args)
    try:
        _print_links(link_pending(services.cache, services.user.name))
    finally:
        services.close()
    return 0


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("resolve", help="find the same person or business across CSV/Excel files",
                       description="Deduplicate one file, or link two, by an unsupervised Fellegi-Sunter model. "
                                   "PAIRS.csv: id_l, id_r, probability, then each field's contribution in bits.")
    p.add_argument("--input", action="append", required=True, metavar="FILE",
                   help="a CSV or Excel file; once to deduplicate, twice to link")
    p.add_argument("--id-column", action="append", required=True, metavar="COL",
                   help="the column of unique record ids; once, or once per --input if they differ")
    p.add_argument("--field", action="append", required=True, metavar="COL:TYPE",
                   help="a column to compare and its type: given_name, surname, full_name, business_name, "
                        "street_number, street, locality, region, postcode, date, phone, email, id_number, other")
    p.add_argument("--out", required=True, metavar="PAIRS.csv")
    p.add_argument("--clusters", metavar="CLUSTERS.csv", help="also write id, cluster_id")
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out or --clusters file that is not an earlier result")
    p.add_argument("--threshold", type=float, default=0.9, help="match probability for a link (default 0.9)")
    p.add_argument("--best-match", action="store_true",
                   help="linking: keep only each second-file record's single best match")
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("import", help="import source records (QuickBooks, directory, any CSV/Excel) into a cache",
                       description="Every row is checked first; a file with problems imports nothing unless "
                                   "--skip-bad-rows. Importing the same records again changes nothing.")
    p.add_argument("file")
    p.add_argument("--connector", help="which connector reads the file (default: the one that can)")
    p.add_argument("--id-column", help="with --map: the column of record ids")
    p.add_argument("--map", action="append", metavar="'FILE COLUMN=FIELD'", help="a column to import, and its name")
    p.add_argument("--system", help="the source system the records belong to; files with the same system "
                                    "update each other's records (default: connector:file-name)")
    p.add_argument("--skip-bad-rows", action="store_true", help="import the rows without problems")
    p.add_argument("--no-link", action="store_true",
                   help="do not link the records to customers (or make customers of them) yet")
    p.add_argument("--cache")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("link", help="link source records that have no customer yet",
                       description="Links what an import with --no-link, or an interrupted one, left unlinked: "
                                   "each record joins the customer it belongs to or becomes a new one.")
    p.add_argument("--cache")
    p.set_defaults(func=cmd_link)

