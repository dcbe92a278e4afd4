"""The ``c360`` command: headless access to the same core services as the desktop app.

Every command that reads a cache takes ``--cache PATH`` (default: the configured cache). Bad
input gives one line on stderr naming the problem and a non-zero exit; long work reports
progress on stderr so stdout stays clean for JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from c360_desktop import __version__
from c360_desktop.core.demo import MAX_DEMO_CUSTOMERS
from c360_desktop.core.progress import Cancelled, Progress
from c360_desktop.core.settings import Settings, load_settings
from c360_desktop.core.storage.cache import CacheError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A one-line message for the user; exits with EXIT_BAD_INPUT."""


def _count(most: int) -> Callable[[str], int]:
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


MOST_RESULTS = 100_000  # any list the CLI prints (search hits, leads, nearby customers)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _stderr_progress() -> Progress:
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


def _cache_path(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.cache) if args.cache else settings.resolved_cache_path()


def _open_services(args: argparse.Namespace) -> Any:
    from c360_desktop.core.services import Services

    settings, _problems = load_settings()
    path = _cache_path(args, settings)
    if not path.exists():
        raise CliError(f"no cache at {path} (build one with: c360 demo-data --out {path})")
    return Services.open(path, settings, create=False)


def cmd_demo_data(args: argparse.Namespace) -> int:
    from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache

    spec = DemoSpec(customers=args.customers, seed=args.seed, as_of=args.as_of or date.today())
    started = time.perf_counter()
    out = build_demo_cache(args.out, spec, progress=_stderr_progress(), overwrite=args.force)
    print(f"wrote {out} ({spec.customers:,} customers, seed {spec.seed}, as of {spec.as_of}) "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def cmd_search(args: argparse.Namespace) -> int:
    services = _open_services(args)
    hits = services.search.search(args.query, limit=args.limit)
    if args.json:
        _print_json([asdict(h) for h in hits])
    else:
        for h in hits:
            print(f"{h.customer_id}  {h.display_name:<40.40}  {h.parish or '':6} "
                  f"{h.phone or '':14} {h.segment or ''}")
        if not hits:
            print("no matches", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from c360_desktop.core.profile.service import CustomerNotFound

    services = _open_services(args)
    try:
        profile = services.profiles.get(args.customer_id)
    except CustomerNotFound as exc:
        raise CliError(str(exc)) from None
    if args.json:
        sys.stdout.write(profile.model_dump_json(indent=2) + "\n")
    else:
        t = profile.transactions
        print(f"{profile.display_name} ({profile.kind}), parish {profile.parish or '-'}")
        print(f"  phone {profile.primary_phone or '-'}  email {profile.primary_email or '-'}")
        print(f"  {t.count} purchases, lifetime J${t.lifetime_spend:,}, last {t.last_purchase or '-'}")
        print(f"  {len(profile.source_records)} source records, {len(profile.open_leads)} open leads")
    return 0


def cmd_leads(args: argparse.Namespace) -> int:
    from c360_desktop.core.leads.queue import LeadQueue

    queue = LeadQueue(_open_services(args).cache.reader)
    leads = queue.query(parishes=args.territory, bands=args.band, sort=args.sort, limit=args.limit)
    if args.json:
        _print_json([{**asdict(r), "explanation": queue.explain(r.lead_id)} for r in leads])
    else:
        for r in leads:
            print(f"{r.score:5.1f} {r.band:4}  {r.customer_name:<32.32}  {r.parish or '':6} {r.next_action:<18} "
                  f"{r.next_action_reason}")
        if not leads:
            print("no open leads", file=sys.stderr)
    return 0


def _latitude(text: str) -> float:
    return _coordinate(text, -90, 90, "latitude")


def _longitude(text: str) -> float:
    return _coordinate(text, -180, 180, "longitude")


def _coordinate(text: str, low: float, high: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {what} (decimal degrees, e.g. 18.04)") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{what} {value} is outside {low}..{high}")
    return value


def cmd_near(args: argparse.Namespace) -> int:
    from c360_desktop.core.geo.places import near, near_central

    if args.url:  # the central database (PostGIS): every customer, not only this cache's territory
        from c360_desktop.core.sync import SyncError, password_for

        try:
            found = near_central(args.url, args.lat, args.lon, args.radius_km, args.limit, password_for(args.url))
        except SyncError as exc:
            raise CliError(str(exc)) from None
    else:
        services = _open_services(args)
        found = near(services.cache.reader(), args.lat, args.lon, args.radius_km, limit=args.limit)
    if args.json:
        _print_json([asdict(n) for n in found])
    else:
        for n in found:
            score = f"{n.lead_score:5.1f}" if n.lead_score is not None else "    -"
            print(f"{n.distance_km:7.2f} km  {n.name:<36.36} lead {score}  last contact {n.last_contact_at or '-'}")
        if not found:
            print(f"nobody within {args.radius_km} km", file=sys.stderr)
    return 0


def _parishes(text: str) -> list[str]:
    from c360_desktop.core.validation import InvalidValue, normalize_parish

    try:
        return [normalize_parish(p.strip(), "--territory") for p in text.split(",") if p.strip()]
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_resolve(args: argparse.Namespace) -> int:
    from c360_desktop.core.identity.files import InputError, parse_field, run

    try:
        fields = [parse_field(spec) for spec in args.field]
        progress = _stderr_progress()
        result = run([Path(p) for p in args.input], args.id_column, fields, Path(args.out),
                     Path(args.clusters) if args.clusters else None, args.threshold, args.best_match,
                     progress=progress.update, force=args.force)
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
        connector = _registry().for_file(path, args.connector)
    checked = plan(path, connector, args.system, max_mb=settings.import_max_mb)
    services = _open_services(args)
    try:
        result = import_file(services.cache, checked, services.settings.user_name,
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

    services = _open_services(args)
    try:
        _print_links(link_pending(services.cache, services.settings.user_name))
    finally:
        services.close()
    return 0


def _registry() -> Any:
    from c360_desktop.core.identity.importing import ConnectorRegistry

    registry = ConnectorRegistry()
    registry.load()
    return registry


def _read_csv(path: Path) -> Any:
    """A CSV file as text columns (any common separator), or one line saying why it is not one."""
    import csv

    import pandas as pd

    if not path.exists():
        raise CliError(f"{path}: no such file")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"{path}: not a readable CSV file ({exc})") from None


def _need_analytics(*modules: str) -> None:
    """The analytics commands need libraries a base install lacks: say so, in one line."""
    from importlib.util import find_spec

    missing = [m for m in modules if find_spec(m) is None]
    if missing:
        from c360_desktop.core.analytics.training import PACKAGE_OF

        raise CliError(f"this needs {', '.join(PACKAGE_OF.get(m, m) for m in missing)}: "
                       "pip install 'c360-desktop[analytics]'")


def cmd_train(args: argparse.Namespace) -> int:
    from c360_desktop.core.analytics.training import missing_libraries, train

    _need_analytics(*missing_libraries(args.model))
    services = _open_services(args)
    try:
        results = train(services.cache, args.model, progress=_stderr_progress().update)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()
    if args.json:
        _print_json(results if args.model == "all" else {"model": args.model, **results[args.model]})
        return 0
    for task, r in results.items():
        _print_training(task, r)
    return 0


def _print_training(task: str, r: dict[str, Any]) -> None:
    version = r["model_version"]
    if task == "churn":
        print(f"{version}: trained on the snapshot of {r['trained_as_of']}, validated on {r['validated_as_of']}; "
              f"{r['scored']:,} customers scored")
    elif task == "leads":
        print(f"{version}: trained on {r['trained_on']:,} closed leads, validated on the newest {r['validated_on']:,}; "
              f"{r['scored']:,} customers with open leads scored")
    elif task == "clv":
        print(f"{version}: {r['customers']:,} customers scored as of {r['as_of']}; expected spend over the next 12 "
              f"months JMD {r['total_expected_jmd']:,.0f} in all")
        ours = r["validation"]["ours"]
        print(f"  last 26 weeks: {ours['predicted_purchases']:,.0f} repeat purchases predicted, "
              f"{ours['actual_purchases']:,.0f} made")
        return
    elif task == "forecast":
        print(f"{version}: {r['series']} series forecast (all Jamaica and the parishes with enough history)")
        for name, m in r["validation"].items():
            print(f"  {name:16s} backtest MAPE {m['mape']:6.2f}%  MASE {m['mase']:.3f}")
        return
    elif task == "segments":
        print(f"{version}: {r['customers']:,} customers in {len(r['clusters'])} clusters")
        for c in r["clusters"]:
            print(f"  {c['name']:40s} {c['size']:8,d}")
        return
    for name, m in r["validation"].items():
        print(f"  {name:28s} accuracy {m['accuracy']:.4f}  ROC-AUC {m['roc_auc']:.4f}")


def cmd_model_list(args: argparse.Namespace) -> int:
    from c360_desktop.core.analytics import registry

    services = _open_services(args)
    try:
        found = registry.versions(services.cache.reader(), args.name)
    finally:
        services.close()
    rows = [{"version": v.version, "model": v.model, "trained_at": v.trained_at, "data_from": v.data_from,
             "data_to": v.data_to, "rows": v.rows, "features": v.features, "metrics": v.metrics,
             "content_hash": v.content_hash, "scored": v.scored, "seconds": v.seconds} for v in found]
    if args.json:
        _print_json(rows)
    elif not rows:
        print("no model has been trained on this cache yet: c360 train all")
    else:
        for r in rows:
            print(f"{r['version']:22s} {r['trained_at']}  data {r['data_from'] or '...'} to {r['data_to']}  "
                  f"{r['rows']:>9,} rows  {r['scored']:>9,} scored  {r['seconds']:7.1f} s  sha256 {r['content_hash'][:16]}")
    return 0


def cmd_model_drift(args: argparse.Namespace) -> int:
    from c360_desktop.core.analytics.registry import DRIFT_THRESHOLD
    from c360_desktop.core.analytics.training import check_drift

    threshold = DRIFT_THRESHOLD if args.threshold is None else args.threshold
    services = _open_services(args)
    try:
        found = check_drift(services.cache, threshold)
    finally:
        services.close()
    if args.json:
        _print_json(found)
    elif not found:
        print("no model to check: c360 train all")
    else:
        for d in found:
            shifted = sorted(d["psi"].items(), key=lambda kv: -kv[1])[:3]
            flag = "ALERT" if d["worst"] > threshold else "ok"
            print(f"{d['version']:22s} worst PSI {d['worst']:.3f} {flag:5s} "
                  + ", ".join(f"{f} {x:.3f}" for f, x in shifted))
    return 0


def cmd_model_evaluate(args: argparse.Namespace) -> int:
    _need_analytics("sklearn", "xgboost")
    from c360_desktop.core.analytics.tabular import ModelError, evaluate, load_table

    path = Path(args.data)
    if not path.exists():
        raise CliError(f"{path}: no such file")
    if args.folds < 2:
        raise CliError("--folds: at least 2")
    try:
        frame, y, positive = load_table(path, args.label, args.id_column)
        result = evaluate(frame, y, folds=args.folds, progress=_stderr_progress().update)
    except ModelError as exc:
        raise CliError(str(exc)) from None
    result.update({"task": args.task, "label": args.label, "positive_class": positive})
    if args.json:
        _print_json(result)
    else:
        print(f"{args.task}: {result['rows']:,} rows, {result['positives']:,} '{positive}', {args.folds}-fold")
        for name in ("ours", "logistic_regression"):
            m = result[name]
            print(f"{name:20s} accuracy {m['accuracy']:.4f}  ROC-AUC {m['roc_auc']:.4f}  PR-AUC {m['pr_auc']:.4f}  "
                  f"Brier {m['brier']:.4f}  top-20% capture {m['top20_capture']:.4f}")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    _need_analytics("statsmodels")
    from c360_desktop.core.analytics.forecast import ForecastError, as_dict, forecast, load_series

    path = Path(args.series)
    frame = _read_csv(path)
    try:
        result = as_dict(forecast(load_series(frame, args.date_column, args.value_column), args.horizon,
                                  args.backtest, progress=_stderr_progress().update))
    except ForecastError as exc:
        raise CliError(f"{path}: {exc}") from None
    if args.json:
        _print_json(result)
    else:
        for row in result["forecast"]:
            print(f"{row['date']}  {row['value']:12,.2f}  (90%: {row['lower_90']:,.2f} to {row['upper_90']:,.2f})")
        print(f"backtest ({args.backtest} origins, {args.horizon} steps):")
        for name, m in result["backtest"].items():
            print(f"  {name:15s} MAPE {m['mape']:6.2f}%  MASE {m['mase']:.3f}")
    return 0


def cmd_clv_fit(args: argparse.Namespace) -> int:
    _need_analytics("scipy")
    from c360_desktop.core.analytics.clv import ClvError, report, summarise

    path = Path(args.transactions)
    frame = _read_csv(path)
    if args.holdout_end is not None and args.holdout_end <= args.calibration_end:
        raise CliError("--holdout-end must come after --calibration-end")
    try:
        summary = summarise(frame, args.customer_column, args.date_column, args.amount_column, args.calibration_end,
                            args.holdout_end, args.time_unit)
        result = report(summary, with_spend=args.amount_column is not None)
    except ClvError as exc:
        raise CliError(f"{path}: {exc}") from None
    if args.json:
        _print_json(result)
    else:
        bg = result["bgnbd"]
        print(f"BG/NBD  r {bg['r']:.4f}  alpha {bg['alpha']:.4f}  a {bg['a']:.4f}  b {bg['b']:.4f}  "
              f"log-likelihood {bg['log_likelihood']:.2f}  ({result['customers']:,} customers)")
        if "gamma_gamma" in result:
            gg = result["gamma_gamma"]
            print(f"Gamma-Gamma  p {gg['p']:.4f}  q {gg['q']:.4f}  v {gg['v']:.4f}")
        if "holdout" in result:
            h = result["holdout"]
            print(f"holdout to {h['end']}: predicted {h['predicted_total']:,.1f} repeat purchases, actual "
                  f"{h['actual_total']:,.0f}; mean absolute error per customer {h['mean_absolute_error']:.3f}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from c360_desktop.core.storage.cache import open_cache
    from c360_desktop.core.sync import SyncError, sync
    from c360_desktop.core.sync.urls import UrlError, central_url

    url, territory = args.url, args.territory
    settings, _problems = load_settings()
    if args.profile:
        profile = settings.profile(args.profile)
        if profile is None:
            known = ", ".join(p.name for p in settings.profiles) or "none yet (Sync > Connections… in the app)"
            raise CliError(f"no connection profile {args.profile!r}; profiles: {known}")
        url, territory = profile.url, territory or profile.territory
    try:
        central_url(url)  # before the cache is made: a bad URL leaves no new file behind
    except UrlError as exc:
        raise CliError(str(exc)) from None
    path = _cache_path(args, settings)
    cache = open_cache(path, create=True)
    started = time.perf_counter()
    try:
        pushed, result = sync(cache, url, parishes=territory, full=args.full, progress=_stderr_progress(),
                              link_as=settings.user_name)
    except SyncError as exc:
        raise CliError(f"sync failed: {exc}") from None
    finally:
        cache.close()
    elapsed = time.perf_counter() - started
    pulled = ", ".join(f"{t.table} {t.rows:,}" for t in result.tables if t.rows)
    conflicts = f", {pushed.conflicts_note}" if pushed.conflicts else ""
    print(f"pushed {pushed.applied:,} changes ({pushed.merged} merged{conflicts}); pulled {result.rows:,} rows "
          f"in {elapsed:.1f} s ({pulled or 'no changes'})", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description="C360 Desktop on the command line.")
    parser.add_argument("--version", action="version", version=f"c360 {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo-data", help="build a demo cache of a believable Jamaican business",
                       description="Build a demo cache. Deterministic for a seed and as-of date.")
    p.add_argument("--customers", type=_count(MAX_DEMO_CUSTOMERS), default=20_000, help="how many (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", required=True, help="the cache file to write (must not exist)")
    p.add_argument("--as-of", type=_date, help="the dataset's 'today' (default: today)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_demo_data)

    def cache_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--cache", help="cache file (default: the configured cache)")

    p = sub.add_parser("search", help="find customers by name, phone, e-mail, TRN or business")
    p.add_argument("query")
    cache_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=_count(MOST_RESULTS), default=20, help="most results (default 20)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("sync", help="pull central changes into a cache",
                       description="Pull central changes into a cache, incrementally and resumably. The "
                       "password comes from PGPASSWORD or the OS keyring, never the command line.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--profile", help="a connection profile from the settings (see Sync > Connections)")
    where.add_argument("--url", help="central database, e.g. postgresql+psycopg2://rep@host/c360")
    cache_arg(p)
    p.add_argument("--territory", type=_parishes, help="parishes to hold, e.g. JM-12,JM-11 (default: all)")
    p.add_argument("--full", action="store_true", help="pull everything again, not just changes")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("leads", help="open leads ranked by score, with band and next best action")
    cache_arg(p)
    p.add_argument("--territory", type=_parishes, help="parishes, e.g. JM-12,JM-11 (default: all)")
    p.add_argument("--band", type=lambda t: [b.strip() for b in t.split(",")], help="hot,warm,cold")
    p.add_argument("--sort", choices=("score", "value", "age", "last_contact", "name"), default="score")
    p.add_argument("--limit", type=_count(MOST_RESULTS), default=50, help="most leads (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON (with each score's explanation)")
    p.set_defaults(func=cmd_leads)

    p = sub.add_parser("near", help="customers within a radius of a point, nearest first")
    cache_arg(p)
    p.add_argument("--lat", type=_latitude, required=True)
    p.add_argument("--lon", type=_longitude, required=True)
    p.add_argument("--radius-km", type=float, default=5.0, help="default 5")
    p.add_argument("--limit", type=_count(MOST_RESULTS), default=50, help="most customers (default 50)")
    p.add_argument("--url", help="ask the central PostgreSQL (PostGIS) instead of the cache; password from "
                                 "PGPASSWORD or the keyring")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_near)

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

    p = sub.add_parser("train", help="train a model on the cache and score its customers",
                       description="Each run is recorded in the cache's model registry (c360 model list) "
                       "with its data window, features, metrics and a content hash.")
    p.add_argument("model", choices=("churn", "clv", "leads", "forecast", "segments", "all"),
                   help="churn (risk with reasons), clv (expected spend over the next 12 months), leads "
                   "(chance of winning each open lead), forecast (monthly sales, all Jamaica and by parish), "
                   "segments (RFM and named clusters), or all of them")
    p.add_argument("--cache")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("model", help="the app's churn and lead pipelines on any table; the model registry and drift")
    model = p.add_subparsers(dest="model_command", required=True)
    p = model.add_parser("evaluate", help="stratified k-fold cross-validation of the pipeline on a CSV table",
                         description="Prints accuracy, ROC-AUC, PR-AUC, Brier score and top-20% capture, beside "
                                     "a logistic-regression baseline.")
    p.add_argument("--task", choices=("churn", "lead"), required=True)
    p.add_argument("--data", required=True, metavar="FILE.csv")
    p.add_argument("--label", required=True, metavar="COL", help="the yes/no column to predict")
    p.add_argument("--id-column", metavar="COL", help="a column to leave out of the features")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model_evaluate)
    p = model.add_parser("list", help="the model versions trained on a cache, newest first, with their "
                         "data window, size, time and content hash")
    p.add_argument("name", nargs="?", choices=("churn", "clv", "lead", "forecast", "segments"))
    p.add_argument("--cache")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model_list)
    p = model.add_parser("drift", help="population stability index per feature of each model against today's "
                         "customers; an alert in the app over the threshold")
    p.add_argument("--threshold", type=float, default=None, help="PSI that raises an alert (default 0.25)")
    p.add_argument("--cache")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_model_drift)

    p = sub.add_parser("forecast", help="forecast a series (ETS, SARIMA and Theta combined) with a backtest",
                       description="One row per period. Prints the forecast with 90%% intervals and the backtest "
                                   "MAPE and MASE of each model and of seasonal naive.")
    p.add_argument("--series", required=True, metavar="FILE.csv")
    p.add_argument("--date-column", required=True, metavar="COL")
    p.add_argument("--value-column", required=True, metavar="COL")
    p.add_argument("--horizon", required=True, type=int, metavar="H")
    p.add_argument("--backtest", type=int, default=12, metavar="K", help="rolling origins (default 12)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_forecast)

    p = sub.add_parser("clv", help="customer lifetime value models (BG/NBD and Gamma-Gamma)")
    clv = p.add_subparsers(dest="clv_command", required=True)
    p = clv.add_parser("fit", help="fit BG/NBD (and Gamma-Gamma with amounts) to a transaction log",
                       description="One row per transaction. Purchases on one day count as one.")
    p.add_argument("--transactions", required=True, metavar="FILE.csv")
    p.add_argument("--customer-column", required=True, metavar="COL")
    p.add_argument("--date-column", required=True, metavar="COL")
    p.add_argument("--amount-column", metavar="COL")
    p.add_argument("--calibration-end", required=True, type=_date, metavar="DATE")
    p.add_argument("--holdout-end", type=_date, metavar="DATE")
    p.add_argument("--time-unit", choices=("week", "day"), default="week")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clv_fit)

    p = sub.add_parser("show", help="print a customer's 360 profile")
    p.add_argument("customer_id")
    cache_arg(p)
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.set_defaults(func=cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    from c360_desktop.core.printable import PrintableStream

    parser = build_parser()
    args = parser.parse_args(argv)
    # Names and values from imported files reach the terminal: no escape sequence gets through
    # (JSON output escapes them itself). Progress lines keep their carriage return.
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(err, keep_cr=True)  # type: ignore[assignment]
    try:
        return _run(args)
    finally:
        if isinstance(sys.stdout, PrintableStream):
            sys.stdout = out
        sys.stderr = err


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except (CliError, CacheError, ValueError) as exc:
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


if __name__ == "__main__":
    raise SystemExit(main())
