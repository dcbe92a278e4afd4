"""Reports on the command line: ``c360 report query|analysis``, ``c360 kpi``, ``c360 explain-change``,
``c360 cohorts`` and ``c360 campaigns``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from c360_desktop.cli.common import (
    CliError,
    cache_arg,
    date_type,
    open_services,
    parishes_type,
    print_json,
    stderr_progress,
)


@contextlib.contextmanager
def report_services(args: argparse.Namespace) -> Iterator[Any]:
    """The cache's services for one command, closed after it; a report that cannot be made (or a
    file that may not be written) becomes the command's one-line error."""
    from c360_desktop.core.outputs import OutputError
    from c360_desktop.core.reports.semantic import ReportError

    services = open_services(args)
    try:
        yield services
    except (ReportError, OutputError) as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()


def _where(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--where {text!r}: write DIMENSION=VALUE, e.g. parish='St Ann'")
    dim, value = text.split("=", 1)
    return dim.strip(), value.strip()


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def cmd_report_query(args: argparse.Namespace) -> int:
    from c360_desktop.core.reports.query import ReportQuery

    q = ReportQuery(tuple(m for spec in args.measure for m in _names(spec)),
                    tuple(d for spec in args.by or [] for d in _names(spec)), args.start, args.end,
                    tuple(args.where or ()), args.compare)
    if args.format != "json" and not args.out:
        raise CliError(f"--format {args.format} needs --out FILE")
    with report_services(args) as services:
        result = services.reports.query(q, stderr_progress())
        if args.out:
            info = services.reports.export(result, Path(args.out), args.format, args.force, stderr_progress())
            print(f"{info.rows:,} rows written to {args.out} ({info.title}; {info.filters}; data as of "
                  f"{info.data_as_of})", file=sys.stderr)
        else:
            from c360_desktop.core.reports.export import records

            print_json({"columns": list(result.frame.columns), "rows": records(result.frame)})
    return 0


def cmd_kpi(args: argparse.Namespace) -> int:
    from c360_desktop.core.reports.kpi import kpis

    with report_services(args) as services:
        services.reports.prepare(stderr_progress())
        tiles = kpis(services.reports, args.role or services.user.role.value, args.as_of)
    if args.json:
        print_json([t.as_dict() for t in tiles])
        return 0
    for t in tiles:
        change = "" if t.change is None else f"  {t.change:+.1%} against {t.against}"
        print(f"{t.label:<24} {t.text:>18}{change}")
    return 0


def register(sub: Any) -> None:
    from c360_desktop.core.reports.semantic import DIMENSIONS, MEASURES

    report = sub.add_parser("report", help="reports: measures by dimensions, exported as CSV, Excel, PDF or JSON")
    rsub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    p = rsub.add_parser("query", help="one report: --measure revenue --by parish,month --from ... --to ...",
                        description=f"Measures: {', '.join(MEASURES)}. Dimensions: {', '.join(DIMENSIONS)}.")
    cache_arg(p)
    p.add_argument("--measure", action="append", required=True, help="a measure, or several with commas")
    p.add_argument("--by", action="append", help="dimensions to split by (commas or repeated)")
    p.add_argument("--from", dest="start", type=date_type, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=date_type, help="last day, included")
    p.add_argument("--where", action="append", type=_where, help="DIMENSION=VALUE (repeatable)")
    p.add_argument("--compare", choices=("previous", "last_year"), help="beside the previous period or last year")
    p.add_argument("--format", choices=("csv", "xlsx", "pdf", "json"), default="json")
    p.add_argument("--out", help="file to write (JSON without --out prints to the terminal)")
    p.add_argument("--force", action="store_true", help="replace an existing file that is not an earlier report")
    p.set_defaults(func=cmd_report_query)

    p = sub.add_parser("kpi", help="the dashboard's key figures for a role (month to date against last year)")
    cache_arg(p)
    p.add_argument("--role", choices=("manager", "analyst", "field_rep"), help="default: your role")
    p.add_argument("--as-of", type=date_type, help="the day the figures run to (default: the data's last day)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kpi)
    register_explain(sub)
    register_analyses(sub, rsub)
    register_campaigns(sub)
    register_saved(rsub)
    register_schedules(rsub)
    register_targets(sub)
    p = rsub.add_parser("import-ads", help="campaign spend from a Google Ads or Meta Ads Manager export (CSV/Excel)")
    cache_arg(p)
    p.add_argument("file")
    p.set_defaults(func=cmd_import_ads)


def _span(text: str) -> tuple[Any, Any]:
    from datetime import date

    try:
        a, b = text.split(":")
        return date.fromisoformat(a), date.fromisoformat(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write FIRST:LAST days, e.g. 2026-10-01:2026-10-31") from None


def cmd_explain_change(args: argparse.Namespace) -> int:
    from c360_desktop.core.reports.explain import explain_change

    with report_services(args) as services:
        services.reports.prepare(stderr_progress())
        ex = explain_change(services.reports, args.measure, args.period, args.against,
                            tuple(d for spec in args.by for d in _names(spec)), tuple(args.where or ()))
    if args.json:
        print_json(ex.as_dict())
    else:
        print("\n".join(ex.sentences))
    return 0


def register_explain(sub: Any) -> None:
    p = sub.add_parser("explain-change", help="why a figure changed between two periods, in sentences with figures")
    cache_arg(p)
    p.add_argument("--measure", required=True, help="an additive measure: revenue, orders, leads, conversions...")
    p.add_argument("--period", type=_span, required=True, help="FIRST:LAST, e.g. 2026-10-01:2026-10-31")
    p.add_argument("--against", type=_span, required=True, help="FIRST:LAST of the period to compare with")
    p.add_argument("--by", action="append", required=True, help="dimensions to explain by, e.g. parish,category")
    p.add_argument("--where", action="append", type=_where, help="DIMENSION=VALUE (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explain_change)


ANALYSES = ("cohorts", "rfm", "affinity", "journey", "seasonality", "correlations")


def cmd_analysis(args: argparse.Namespace) -> int:
    """One ready-made analysis (core.reports.analyses) as JSON, or as a table in the terminal."""
    from datetime import timedelta

    from c360_desktop.core.reports.kpi import last_day

    name = getattr(args, "analysis", "cohorts")
    where = tuple(args.where or ())
    with report_services(args) as services:
        reports = services.reports
        reports.prepare(stderr_progress())
        end = args.end or last_day(reports)
        if name == "cohorts":
            start = args.start or end.replace(year=end.year - 1, day=1)
            out: Any = reports.cohorts(start, end, args.months, where)
        elif name == "rfm":
            out = reports.rfm(end, where)
        elif name == "affinity":
            out = reports.affinity(args.start or end - timedelta(days=89), end, args.window_days, where,
                                   args.min_customers)
        elif name == "journey":
            out = reports.journey(end, args.lapse_days, where)
        elif name == "correlations":
            out = reports.correlations(end, args.window_days if args.window_days != 30 else 90, where)
        else:
            out = reports.seasonality(args.start or end.replace(year=end.year - 2), end, where)
    if args.json:
        print_json(out.as_dict())
    else:
        print(_text(name, out))
    return 0


def _text(name: str, out: Any) -> str:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_rows", 60):
        if name == "cohorts":
            return f"Customers still buying N months after their first (to {out.last_month}):\n" \
                   + (out.shares * 100).round(1).to_string(na_rep="")
        if name == "rfm":
            return out.grid.to_string() + "\n\n" + out.segments.to_string(index=False)
        if name == "affinity":
            return (f"{out.customers:,} buyers, {out.start} to {out.end}, pairs within {out.window_days} days:\n"
                    + out.pairs.to_string(index=False))
        if name == "journey":
            return pd.DataFrame(out.stages).to_string(index=False)
        if name == "correlations":
            return "\n".join(out.sentences) + "\n\n" + out.table.to_string(index=False)
        return out.by_month.to_string(index=False) + "\n\n" + out.by_weekday.to_string(index=False) \
            + "\n\n" + out.holidays.to_string(index=False)


def _analysis_args(p: Any) -> None:
    cache_arg(p)
    p.add_argument("--from", dest="start", type=date_type, help="first day (default: depends on the analysis)")
    p.add_argument("--to", dest="end", type=date_type, help="last day, or the as-of day (default: the data's last)")
    p.add_argument("--where", action="append", type=_where, help="DIMENSION=VALUE (repeatable)")
    p.add_argument("--months", type=int, default=12, help="cohorts: months followed after the first (12)")
    p.add_argument("--window-days", type=int, default=30,
                   help="affinity: days between the two purchases (30); correlations: the outcome window (90)")
    p.add_argument("--min-customers", type=int, default=5, help="affinity: fewest customers a pair needs (5)")
    p.add_argument("--lapse-days", type=int, default=180, help="journey: days without a purchase to lapse (180)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_analysis)


def register_analyses(sub: Any, rsub: Any) -> None:
    p = sub.add_parser("cohorts", help="retention: customers by first-purchase month still buying N months on")
    _analysis_args(p)
    p = rsub.add_parser("analysis", help=f"a ready-made analysis: {', '.join(ANALYSES)}")
    p.add_argument("analysis", choices=ANALYSES)
    _analysis_args(p)


def cmd_campaigns(args: argparse.Namespace) -> int:
    import pandas as pd

    from c360_desktop.core.reports.kpi import last_day

    with report_services(args) as services:
        services.reports.prepare(stderr_progress())
        as_of = args.as_of or last_day(services.reports)
        report = services.reports.campaigns(as_of, args.start, args.end, args.window_days)
        raised = services.reports.raise_budget_alerts(as_of) if args.alert else []
    over = report.over_budget()["campaign"].tolist()
    if args.json:
        print_json({**report.as_dict(), "over_budget": over, "alerts_raised": [a.title for a in raised]})
        return 0
    shown = report.frame.drop(columns=["id"])
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_rows", 100):
        print(shown.to_string(index=False))
    for title in (a.title for a in raised):
        print(f"alert: {title}", file=sys.stderr)
    return 0


def cmd_campaign_list(args: argparse.Namespace) -> int:
    with report_services(args) as services:
        table, found = services.reports.campaign_list(args.channel, args.parish, args.segment, args.include_unrecorded)
        print(found.summary(), file=sys.stderr)
        if args.out:
            info = services.reports.export(table, Path(args.out), args.format, args.force, stderr_progress())
            print(f"{info.rows:,} rows written to {args.out}", file=sys.stderr)
        else:
            print_json(table.frame.to_dict("records"))
    return 0


def register_campaigns(sub: Any) -> None:
    from c360_desktop.core.models import CONSENT_CHANNELS

    p = sub.add_parser("campaign-list", help="who a marketing campaign by one channel may reach: consent granted, "
                       "no objection; the rest counted by why")
    cache_arg(p)
    p.add_argument("--channel", required=True, choices=CONSENT_CHANNELS)
    p.add_argument("--parish", type=parishes_type, help="parishes, e.g. 'St Ann,Trelawny' (default: all yours)")
    p.add_argument("--segment", help="one segment by name, e.g. Loyal")
    p.add_argument("--include-unrecorded", action="store_true",
                   help="also customers with no consent record (legitimate interests: existing customers who never objected)")
    p.add_argument("--format", choices=("csv", "xlsx", "pdf", "json"), default="csv")
    p.add_argument("--out", help="the file to write (needs the export permission); without it, JSON on stdout")
    p.add_argument("--force", action="store_true", help="replace an existing file that is not an earlier export")
    p.set_defaults(func=cmd_campaign_list)

    p = sub.add_parser("campaigns", help="what each campaign cost and brought in, and its budget")
    cache_arg(p)
    p.add_argument("--as-of", type=date_type, help="the day the figures run to (default: the data's last day)")
    p.add_argument("--from", dest="start", type=date_type, help="campaigns running on or after this day")
    p.add_argument("--to", dest="end", type=date_type, help="campaigns running on or before this day")
    p.add_argument("--window-days", type=int, default=30, help="days after a campaign's end still credited (30)")
    p.add_argument("--alert", action="store_true", help="raise a budget alert for each campaign past its budget")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_campaigns)


def cmd_report_save(args: argparse.Namespace) -> int:
    from c360_desktop.core.reports.saved import Definition

    definition = Definition(tuple(m for spec in args.measure for m in _names(spec)),
                            tuple(d for spec in args.by or [] for d in _names(spec)), args.period,
                            args.start if args.period == "fixed" else None, args.end if args.period == "fixed" else None,
                            tuple(args.where or ()), args.compare, args.chart)
    with report_services(args) as services:
        existing = next((r for r in services.reports.saved() if r.name.lower() == args.name.lower()), None)
        if existing is not None and not args.replace:
            raise CliError(f"a report named {existing.name!r} exists already; --replace to give it this definition")
        saved = services.reports.save(args.name, definition, existing.id if existing else None)
    print(f"saved {saved.name!r} ({saved.id}); it reaches colleagues at the next sync", file=sys.stderr)
    return 0


def cmd_report_list(args: argparse.Namespace) -> int:
    services = open_services(args)
    try:
        reports = services.reports.saved()
    finally:
        services.close()
    if args.json:
        print_json([r.as_dict() for r in reports])
        return 0
    if not reports:
        print("no saved reports yet (c360 report save NAME --measure ... to make one)", file=sys.stderr)
    for r in reports:
        d = r.definition
        what = (f"{', '.join(d.measures)}" + (f" by {', '.join(d.by)}" if d.by else "") + f"; {d.period}"
                if d else f"cannot be read: {r.problem}")
        sync = "  (not yet synced)" if r.pending_sync else ""
        print(f"{r.name:<32} {r.owner:<16} {what}{sync}")
    return 0


def cmd_report_run(args: argparse.Namespace) -> int:
    from c360_desktop.core.reports.export import FORMATS, records

    fmt = args.format
    if args.report_command == "export":
        ext = Path(args.out).suffix.lower().lstrip(".")
        fmt = fmt or (ext if ext in FORMATS else None)
        if fmt is None:
            raise CliError(f"--out {args.out}: end the name with .csv, .xlsx, .pdf or .json, or give --format")
    fmt = fmt or "json"
    if fmt != "json" and not args.out:
        raise CliError(f"--format {fmt} needs --out FILE")
    with report_services(args) as services:
        report, result = services.reports.run_saved(args.name, args.as_of, stderr_progress())
        if args.out:
            info = services.reports.export(result, Path(args.out), fmt, args.force, stderr_progress())
            print(f"{report.name}: {info.rows:,} rows written to {args.out} ({info.filters}; data as of "
                  f"{info.data_as_of})", file=sys.stderr)
        else:
            print_json({"report": report.name, "columns": list(result.frame.columns), "rows": records(result.frame)})
    return 0


def cmd_report_delete(args: argparse.Namespace) -> int:

    with report_services(args) as services:
        report = services.reports.saved_report(args.name)
        services.reports.delete(report.id)
    print(f"deleted {report.name!r}; colleagues lose it at the next sync", file=sys.stderr)
    return 0


def register_saved(rsub: Any) -> None:
    from c360_desktop.core.reports.saved import CHARTS, PERIODS

    p = rsub.add_parser("save", help="save a report by name (shared with colleagues at the next sync)",
                        description="Periods: " + "; ".join(f"{k}: {v}" for k, v in PERIODS.items()))
    cache_arg(p)
    p.add_argument("name")
    p.add_argument("--measure", action="append", required=True, help="a measure, or several with commas")
    p.add_argument("--by", action="append", help="dimensions to split by (commas or repeated)")
    p.add_argument("--period", choices=tuple(PERIODS), default="fixed", help="relative periods move with the data")
    p.add_argument("--from", dest="start", type=date_type, help="a fixed period's first day")
    p.add_argument("--to", dest="end", type=date_type, help="a fixed period's last day")
    p.add_argument("--where", action="append", type=_where, help="DIMENSION=VALUE (repeatable)")
    p.add_argument("--compare", choices=("previous", "last_year"))
    p.add_argument("--chart", choices=CHARTS, default="table")
    p.add_argument("--replace", action="store_true", help="give an existing report of that name this definition")
    p.set_defaults(func=cmd_report_save)

    p = rsub.add_parser("list", help="the saved reports, yours and your colleagues'")
    cache_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report_list)

    for action, text in (("run", "run a saved report: JSON to the terminal, or a file (for Task Scheduler or cron)"),
                         ("export", "run a saved report into a file, its format from the name (.xlsx, .pdf...)")):
        p = rsub.add_parser(action, help=text)
        cache_arg(p)
        p.add_argument("name", help="the report's name (any case) or id")
        p.add_argument("--as-of", type=date_type, help="the day a relative period ends (default: the data's last)")
        p.add_argument("--format", choices=("csv", "xlsx", "pdf", "json"), default=None)
        p.add_argument("--out", required=action == "export", help="file to write")
        p.add_argument("--force", action="store_true", help="replace an existing file that is not an earlier report")
        p.set_defaults(func=cmd_report_run)

    p = rsub.add_parser("delete", help="delete a saved report (for everyone, at the next sync)")
    cache_arg(p)
    p.add_argument("name")
    p.set_defaults(func=cmd_report_delete)


def _clock(text: str) -> Any:
    from datetime import time

    try:
        return time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write the time as HH:MM, e.g. 07:00") from None


def cmd_report_schedule(args: argparse.Namespace) -> int:
    from c360_desktop.core.ids import new_id
    from c360_desktop.core.reports.schedules import WEEKDAYS, Condition, Schedule

    with report_services(args) as services:
        report = services.reports.saved_report(args.name)
        s = Schedule(new_id(), report.id, args.every, args.at, WEEKDAYS.index(args.weekday), args.day, args.format,
                     tuple(args.email or ()), args.folder, Condition.parse(args.only_when) if args.only_when else None,
                     args.always_summary)
        services.reports.add_schedule(s)
    print(f"{report.name}: {s.describe()} (schedule {s.id}); it runs while the app is open, or with "
          "c360 report run-due", file=sys.stderr)
    return 0


def cmd_report_schedules(args: argparse.Namespace) -> int:
    services = open_services(args)
    try:
        names = {r.id: r.name for r in services.reports.saved()}
        items = [(s, services.reports.runs(s.id, 1)) for s in services.reports.schedules()]
    finally:
        services.close()
    if args.json:
        print_json([{"id": s.id, "report": names.get(s.report_id, s.report_id), **s.definition(),
                     "last_slot": s.last_slot.isoformat(sep=" ") if s.last_slot else None,
                     "last_run": last[0].as_dict() if last else None} for s, last in items])
        return 0
    if not items:
        print("no schedules (c360 report schedule NAME --every weekly --at 07:00 --email ...)", file=sys.stderr)
    for s, last in items:
        state = f"last: {last[0].status} ({last[0].detail})" if last else "not run yet"
        print(f"{s.id}  {names.get(s.report_id, '?')}: {s.describe()}; {state}")
    return 0


def cmd_report_run_due(args: argparse.Namespace) -> int:
    from datetime import datetime

    services = open_services(args)
    try:
        runs = services.reports.run_due(datetime.now(), services.smtp())
    finally:
        services.close()
    for r in runs:
        print(f"{r.status}: {r.detail}", file=sys.stderr)
    return 1 if any(r.status == "failed" for r in runs) else 0


def cmd_report_unschedule(args: argparse.Namespace) -> int:

    with report_services(args) as services:
        services.reports.remove_schedule(args.schedule_id)
    return 0


def register_schedules(rsub: Any) -> None:
    from c360_desktop.core.reports.schedules import EVERY, WEEKDAYS

    p = rsub.add_parser("schedule", help="run a saved report daily, weekly or monthly, to e-mail and/or a folder")
    cache_arg(p)
    p.add_argument("name", help="the saved report")
    p.add_argument("--every", choices=EVERY, required=True)
    p.add_argument("--at", type=_clock, default="07:00", help="time of day, HH:MM (07:00)")
    p.add_argument("--weekday", choices=WEEKDAYS, default="mon", help="weekly: the day (mon)")
    p.add_argument("--day", type=int, default=1, help="monthly: the day of the month, 1-28 (1)")
    p.add_argument("--format", choices=("xlsx", "pdf", "csv"), default="xlsx")
    p.add_argument("--email", action="append", help="an address to send it to (repeatable)")
    p.add_argument("--folder", help="a folder to write it to")
    p.add_argument("--only-when", help='"not-empty", or "COLUMN OP NUMBER" e.g. "Revenue change < -0.1"')
    p.add_argument("--always-summary", action="store_true", help="send the text even when the table is held back")
    p.set_defaults(func=cmd_report_schedule)
    p = rsub.add_parser("schedules", help="this desktop's report schedules and their last runs")
    cache_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report_schedules)
    p = rsub.add_parser("run-due", help="run the schedules that are due now, once each (for cron or Task Scheduler)")
    cache_arg(p)
    p.set_defaults(func=cmd_report_run_due)
    p = rsub.add_parser("unschedule", help="remove a schedule")
    cache_arg(p)
    p.add_argument("schedule_id")
    p.set_defaults(func=cmd_report_unschedule)


def cmd_targets(args: argparse.Namespace) -> int:

    with report_services(args) as services:
        if args.targets_command == "import":
            added, replaced = services.reports.import_targets(Path(args.file))
            print(f"{added:,} targets added, {replaced:,} replaced from {args.file}; they reach colleagues at the "
                  "next sync", file=sys.stderr)
            return 0
        found = services.reports.targets()
    if args.json:
        print_json([t.as_dict() for t in found])
    else:
        for t in found:
            scope = f" ({t.dimension} {t.dimension_value})" if t.dimension else ""
            print(f"{t.measure:<22} {t.start} to {t.end}{scope}: {t.value:,.2f}")
    return 0


def register_targets(sub: Any) -> None:
    p = sub.add_parser("targets", help="targets per measure and period, for the dashboard's tiles")
    tsub = p.add_subparsers(dest="targets_command", required=True, metavar="ACTION")
    q = tsub.add_parser("import", help="read targets from CSV or Excel: measure, month (or from, to), target, "
                                       "[a dimension column such as parish]")
    cache_arg(q)
    q.add_argument("file")
    q.set_defaults(func=cmd_targets)
    q = tsub.add_parser("list", help="the targets held")
    cache_arg(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_targets, json=False)


def cmd_import_ads(args: argparse.Namespace) -> int:

    with report_services(args) as services:
        source, counts = services.reports.import_ads(Path(args.file))
    what = "Google Ads" if source == "google_ads" else "Meta Ads"
    print(f"{what}: {counts['days_added']:,} days of spend added, {counts['days_replaced']:,} replaced, "
          f"{counts['days_unchanged']:,} unchanged; {counts['campaigns_created']:,} new campaigns", file=sys.stderr)
    return 0
