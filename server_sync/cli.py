"""The ``c360-server`` command: set up and inspect a central database."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date

from server_sync import admin


def central_password() -> str | None:
    """PGPASSWORD, or the first line of the file PGPASSWORD_FILE names (how Docker and Kubernetes
    hand over a secret); never a command-line argument."""
    if os.environ.get("PGPASSWORD"):
        return os.environ["PGPASSWORD"]
    path = os.environ.get("PGPASSWORD_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n") or None
        except OSError as exc:
            raise SystemExit(f"c360-server: error: PGPASSWORD_FILE {path}: {exc.strerror}") from None
    return None


def _tables(text: str) -> list[str]:
    from c360_desktop.core.storage.schema import SYNCED_TABLES

    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in names if t not in SYNCED_TABLES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"not a synchronised table: {', '.join(unknown) or repr(text)} "
                                         f"(one of {', '.join(SYNCED_TABLES)})")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360-server", description="Administer a C360 central database. The password comes "
                                     "from PGPASSWORD or the file PGPASSWORD_FILE names, never the command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("init", help="create or migrate the central schema")
    p.add_argument("--url", required=True)
    p = sub.add_parser("seed", help="load the demo dataset into an empty central database (COPY)")
    p.add_argument("--url", required=True)
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--as-of", type=date.fromisoformat, default=None)
    p = sub.add_parser("retention", help="apply the retention policies: old rows deleted, inactive customers "
                       "anonymised (schedule it daily)")
    p.add_argument("action", choices=("run",))
    p.add_argument("--url", required=True)
    p.add_argument("--policies", help="a JSON file of policies (default: the built-in ones, see the user guide)")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="judge ages as of this day (default: today)")
    p.add_argument("--dry-run", action="store_true", help="count what would go; change nothing")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("user", help="people who may sync, their roles and parishes (the database enforces them)")
    us = p.add_subparsers(dest="user_command", metavar="SUBCOMMAND", required=True)
    u = us.add_parser("add", help="a new login with a role; the password from C360_NEW_USER_PASSWORD or stdin")
    u.add_argument("name")
    u.add_argument("--role", required=True, choices=admin.ROLES)
    u.add_argument("--parishes", type=lambda t: [x.strip() for x in t.split(",") if x.strip()], default=[],
                   help="for a field rep: the parishes they may see, e.g. JM-01,JM-02")
    u.add_argument("--sales-rep", help="for a field rep: their sales_rep id (their own customers' phones and e-mails)")
    u.add_argument("--url", required=True)
    u = us.add_parser("role", help="move a user to another role (and parishes)")
    u.add_argument("name")
    u.add_argument("role", choices=admin.ROLES)
    u.add_argument("--parishes", type=lambda t: [x.strip() for x in t.split(",") if x.strip()], default=None)
    u.add_argument("--sales-rep", help="for a field rep: their sales_rep id")
    u.add_argument("--url", required=True)
    u = us.add_parser("disable", help="the user can no longer connect; their history stays")
    u.add_argument("name")
    u.add_argument("--url", required=True)
    u = us.add_parser("list", help="every user, role, parishes and whether disabled")
    u.add_argument("--url", required=True)
    p = sub.add_parser("status", help="server version, schema revision and row counts")
    p.add_argument("--url", required=True)
    p = sub.add_parser("kafka-init", help="create the Kafka topics (customer-interactions, system-changes, ...)")
    p.add_argument("--bootstrap", required=True, metavar="HOST:PORT")
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--replication", type=int, default=1)
    p.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the broker (default 15)")
    p = sub.add_parser("publish-changes", help="emit system-changes events for central row changes (runs until stopped)")
    p.add_argument("--url", required=True)
    p.add_argument("--bootstrap", required=True, metavar="HOST:PORT")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between passes (default 1)")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument("--tables", type=_tables, metavar="T1,T2",
                   help="only these synchronised tables (default: all); run one publisher per group to share the load")
    p.add_argument("--from-start", action="store_true",
                   help="on first run, announce every existing row (default: start at the current end)")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve Prometheus metrics on this port at /metrics (default: none)")
    p.add_argument("--metrics-address", default="127.0.0.1",
                   help="address for the metrics (default 127.0.0.1; 0.0.0.0 in a container)")
    p = sub.add_parser("health", help="check the central database, schema, PostGIS, publisher backlog and Kafka; "
                       "exits 1 when any check is red")
    p.add_argument("--url", required=True)
    p.add_argument("--bootstrap", metavar="HOST:PORT", help="also check Kafka and its topics")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each server (default 5)")
    p = sub.add_parser("simulate", help="produce realistic demo events for the customers of a central database")
    p.add_argument("--url", required=True)
    p.add_argument("--bootstrap", required=True, metavar="HOST:PORT")
    p.add_argument("--rate", type=float, default=10.0, help="events per second (default 10)")
    p.add_argument("--count", type=int, default=None, help="stop after this many (default: until Ctrl+C)")
    p.add_argument("--seed", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from c360_desktop.core import logs

    # On a server the console is the log (container logs); a file too if C360_LOG_DIR names one.
    # The long-running publisher tells what it does; one-shot commands only what goes wrong.
    logs.setup(console=True, to_file=bool(os.environ.get("C360_LOG_DIR")),
               console_level=logging.INFO if args.command == "publish-changes" else logging.WARNING)
    if args.command == "health":
        return _health(args, central_password())
    if args.command in ("kafka-init", "publish-changes", "simulate"):
        return _kafka_command(args, central_password())
    if args.command == "retention":
        return _retention(args, central_password())
    password = central_password()
    try:
        if args.command == "init":
            print(f"central schema at revision {admin.init(args.url, password)}")
        elif args.command == "user":
            _user(args, password)
        elif args.command == "seed":
            from c360_desktop.cli.common import stderr_progress

            rows = admin.seed(args.url, args.customers, args.seed, password, stderr_progress(), args.as_of)
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


def _user(args: argparse.Namespace, password: str | None) -> None:
    if args.user_command == "add":
        secret = os.environ.get("C360_NEW_USER_PASSWORD") or sys.stdin.readline().rstrip("\r\n")
        made = admin.user_add(args.url, args.name, args.role, args.parishes, secret, password, args.sales_rep)
        print(f"added {made.name}: {made.role}" + (f" in {', '.join(made.parishes)}" if made.parishes else ""))
    elif args.user_command == "role":
        moved = admin.user_role(args.url, args.name, args.role, args.parishes, password, args.sales_rep)
        print(f"{moved.name} is now {moved.role}" + (f" in {', '.join(moved.parishes)}" if moved.parishes else ""))
    elif args.user_command == "disable":
        admin.user_disable(args.url, args.name, password)
        print(f"{args.name} can no longer connect")
    else:
        for u in admin.user_list(args.url, password):
            print(f"{u.name:24} {u.role:13} {','.join(u.parishes) or 'all parishes':30} "
                  f"{'disabled' if u.disabled else 'active'}")


def _retention(args: argparse.Namespace, password: str | None) -> int:
    import json
    from dataclasses import asdict
    from datetime import datetime, time
    from pathlib import Path

    from c360_desktop.core.privacy import retention

    try:
        policies = retention.load_policies(Path(args.policies)) if args.policies else retention.DEFAULT_POLICIES
        engine = admin.engine_for(args.url, password)
        try:
            with engine.begin() as conn:
                as_of = datetime.combine(args.as_of, time()) if args.as_of else None
                report = retention.run_central(conn, policies, as_of, args.dry_run)
        finally:
            engine.dispose()
    except (retention.RetentionError, admin.AdminError) as exc:
        print(f"c360-server: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a database error, as one line
        if isinstance(exc, KeyboardInterrupt):
            raise
        print(f"c360-server: error: {admin.explain(exc, args.url)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"dry_run": report.dry_run, "as_of": report.as_of,
                          "outcomes": [asdict(o) for o in report.outcomes]}, indent=2))
    else:
        print("\n".join(report.lines()))
        print(("would remove" if report.dry_run else "removed") + f" {report.rows:,} rows in all")
    return 0


def _health(args: argparse.Namespace, password: str | None) -> int:
    import json

    from c360_desktop.core.health.service import as_text, overall, report
    from server_sync import health

    found = health.checks(args.url, password, args.bootstrap, args.timeout)
    print(json.dumps(report(found), indent=2) if args.json else as_text(found))
    return 1 if overall(found) == "red" else 0


def _kafka_command(args: argparse.Namespace, password: str | None) -> int:
    from confluent_kafka import KafkaException

    from server_sync import kafka
    from server_sync.simulate import load_demo_targets

    try:
        if args.command == "kafka-init":
            if args.partitions < 1 or args.replication < 1:
                raise kafka.KafkaAdminError("--partitions and --replication must be at least 1")
            made = kafka.kafka_init(args.bootstrap, args.partitions, args.replication, args.timeout)
            print(f"created {', '.join(made)}" if made else "all topics exist already")
        elif args.command == "publish-changes":
            metrics = None
            if args.metrics_port is not None:
                from server_sync.metrics import PublisherMetrics

                metrics = PublisherMetrics()
                metrics.serve(args.metrics_port, args.metrics_address)
                print(f"metrics on http://{args.metrics_address}:{args.metrics_port}/metrics", file=sys.stderr)
            publisher = kafka.ChangePublisher(args.url, args.bootstrap, password, from_start=args.from_start,
                                              metrics=metrics, **({"tables": args.tables} if args.tables else {}))
            try:
                if args.once:
                    print(f"published {publisher.publish_once()} change events")
                else:
                    print(f"publishing changes from {args.url} to {args.bootstrap}; Ctrl+C to stop", file=sys.stderr)
                    publisher.run(args.interval)
            finally:
                publisher.close()
        else:
            if args.rate <= 0:
                raise kafka.KafkaAdminError("--rate must be above 0")
            customers, campaigns = load_demo_targets(args.url, password)
            sent = kafka.simulate(args.bootstrap, customers, args.rate, args.count, args.seed, campaigns,
                                  progress=lambda n: print(f"{n:,} events sent", file=sys.stderr))
            print(f"sent {sent:,} events")
    except KeyboardInterrupt:
        return 130
    except (kafka.KafkaAdminError, ValueError) as exc:
        print(f"c360-server: error: {exc}", file=sys.stderr)
        return 2
    except KafkaException as exc:
        print(f"c360-server: error: Kafka: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from c360_desktop.core.sync.central import explain

        print(f"c360-server: error: {explain(exc, args.url)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
