"""Data quality on the command line: ``c360 quality`` measures; ``rows``, ``issues``, ``raise``,
``approve``, ``reject`` and ``assign`` are the steward's drill-down and queue."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from c360_desktop.cli.common import (
    EXIT_FAILED,
    CliError,
    cache_arg,
    open_services,
    print_json,
    stderr_progress,
)
from c360_desktop.core.printable import printable as safe_text


def _with_quality(args: argparse.Namespace, work: Any) -> int:
    from c360_desktop.core.quality.service import QualityError

    services = open_services(args)
    try:
        return int(work(services.quality) or 0)
    except QualityError as exc:
        raise CliError(str(exc)) from None
    finally:
        services.close()


def cmd_measure(args: argparse.Namespace) -> int:
    def work(quality: Any) -> int:
        run = quality.measure("manual", None if args.json else stderr_progress())
        if args.json:
            print_json({"run": run.id, "ran_at": run.ran_at, "problems": list(run.problems),
                        "results": [{**asdict(r), "share": round(r.share, 6)} for r in run.results]})
        else:
            width = max(len(r.title) for r in run.results)
            for r in run.results:
                print(f"{r.status:<6} {r.title:<{width}}  {r.failing:>7,} of {r.checked:>8,}  {r.share:6.1%}"
                      + (f"  {safe_text(r.detail)}" if r.detail else "") + f"  [{r.rule_id}]")
            for problem in run.problems:
                print(f"rule file: {safe_text(problem)}")
        red = any(r.status == "red" for r in run.results)
        return EXIT_FAILED if args.strict and red else 0

    return _with_quality(args, work)


def cmd_rows(args: argparse.Namespace) -> int:
    def work(quality: Any) -> int:
        rows = quality.failures(args.rule, args.limit)
        if args.json:
            print_json([asdict(f) for f in rows])
        else:
            for f in rows:
                fix = f" -> {safe_text(f.suggestion)}" if f.suggestion is not None else ""
                print(f"{f.entity_id}  {safe_text(f.name)}  {f.field}={safe_text(f.value or '(empty)')}{fix}")
        return 0

    return _with_quality(args, work)


def cmd_issues(args: argparse.Namespace) -> int:
    def work(quality: Any) -> int:
        issues = quality.issues(None if args.status == "all" else args.status, args.assignee)
        if args.json:
            print_json([asdict(i) for i in issues])
        else:
            for i in issues:
                print(f"{i.id}  {i.status:<8} {i.rule_id:<26} {safe_text(i.name)}  {i.field}: "
                      f"{safe_text(i.found_value or '(empty)')} -> {safe_text(i.suggested_value or '-')}  "
                      f"[{i.assignee or 'nobody'}]")
        return 0

    return _with_quality(args, work)


def cmd_raise(args: argparse.Namespace) -> int:
    return _with_quality(args, lambda q: print(f"{q.raise_issues(args.rule, assignee=args.assign):,} issues raised"))


def cmd_approve(args: argparse.Namespace) -> int:
    def work(quality: Any) -> int:
        applied = quality.approve(args.issue, args.value, args.note)
        print("applied: " + (", ".join(f"{k}={safe_text(str(v))}" for k, v in applied.items()) or "no change")
              + "; queued for sync")
        return 0

    return _with_quality(args, work)


def cmd_reject(args: argparse.Namespace) -> int:
    return _with_quality(args, lambda q: q.reject(args.issue, args.note) or print("rejected"))


def cmd_assign(args: argparse.Namespace) -> int:
    return _with_quality(args, lambda q: print(f"{q.assign(args.issues, args.to):,} issues assigned"))


def sub_cache(sp: Any) -> None:
    """``--cache`` after a subcommand too, without hiding one given before it."""
    sp.add_argument("--cache", default=argparse.SUPPRESS, help="cache file (default: the configured cache)")


def register(sub: Any) -> None:
    """Add this module's subcommands to the ``c360`` parser."""
    p = sub.add_parser("quality", help="measure data quality; the data stewards' queue",
                       description="Without a subcommand: measure every rule now and keep the figures in the "
                       "history (exit 1 with --strict when any rule is red).")
    cache_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when any rule is red")
    p.set_defaults(func=cmd_measure)
    qs = p.add_subparsers(dest="quality_command", metavar="SUBCOMMAND")
    r = qs.add_parser("rows", help="the rows failing one rule, with suggested fixes")
    r.add_argument("rule", help="a rule id, as `c360 quality` prints it in brackets")
    r.add_argument("--limit", type=int, default=5000)
    r.add_argument("--json", action="store_true")
    sub_cache(r)
    r.set_defaults(func=cmd_rows)
    i = qs.add_parser("issues", help="the stewardship queue")
    i.add_argument("--status", choices=("open", "approved", "rejected", "all"), default="open")
    i.add_argument("--assignee", help="only the issues given to this user")
    i.add_argument("--json", action="store_true")
    sub_cache(i)
    i.set_defaults(func=cmd_issues)
    ra = qs.add_parser("raise", help="an issue with its suggested fix for each row failing a rule")
    ra.add_argument("rule")
    ra.add_argument("--assign", help="give the issues to this user")
    sub_cache(ra)
    ra.set_defaults(func=cmd_raise)
    a = qs.add_parser("approve", help="apply an issue's fix (or --value) through the outbox, audited")
    a.add_argument("issue")
    a.add_argument("--value", help="the right value, instead of the suggested fix")
    a.add_argument("--note", default="", help="why, for the audit")
    sub_cache(a)
    a.set_defaults(func=cmd_approve)
    rj = qs.add_parser("reject", help="close an issue without changing the row, audited")
    rj.add_argument("issue")
    rj.add_argument("--note", default="", help="why the value is right")
    sub_cache(rj)
    rj.set_defaults(func=cmd_reject)
    s = qs.add_parser("assign", help="give issues to a user")
    s.add_argument("issues", nargs="+")
    s.add_argument("--to", required=True, help="a user name ('' for nobody)")
    sub_cache(s)
    s.set_defaults(func=cmd_assign)
