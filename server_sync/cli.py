"""The ``c360-server`` command: set up and inspect a central database."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from server_sync import admin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="c360-server", description="Administer a C360 central database. "
                                     "The password comes from PGPASSWORD, never the command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("init", help="create or migrate the central schema")
    p.add_argument("--url", required=True)
    p = sub.add_parser("seed", help="load the demo dataset into an empty central database (COPY)")
    p.add_argument("--url", required=True)
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--as-of", type=date.fromisoformat, default=None)
    p = sub.add_parser("status", help="server version, schema revision and row counts")
    p.add_argument("--url", required=True)
    args = parser.parse_args(argv)
    password = os.environ.get("PGPASSWORD")
    try:
        if args.command == "init":
            print(f"central schema at revision {admin.init(args.url, password)}")
        elif args.command == "seed":
            from c360_desktop.cli import _stderr_progress

            rows = admin.seed(args.url, args.customers, args.seed, password, _stderr_progress(), args.as_of)
            print(f"seeded {rows:,} rows")
        else:
            st = admin.status(args.url, password)
            print(f"server: {st.server_version}\nPostGIS: {st.postgis or 'not installed'}\n"
                  f"schema: revision {st.revision or 'none (run init)'}, version {st.schema_version}")
            for name, n in st.rows.items():
                print(f"  {name:15} {n:>12,}")
    except admin.AdminError as exc:
        print(f"c360-server: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
