"""Ad spend from the files Google Ads and Meta Ads Manager export, into campaign spend.

- **Google Ads** (Reports, or a campaigns table, downloaded as CSV or Excel): a title line and a
  date-range line above the header; columns ``Day``, ``Campaign``, ``Cost``, ``Impr.`` (or
  ``Impressions``), ``Clicks``, ``Currency code``; amounts written with thousands commas; totals
  rows at the end (``Total: ...``), which are left out.
- **Meta Ads Manager** (Export table data, CSV or Excel): ``Campaign name``, ``Day`` (a daily
  breakdown) or ``Reporting starts`` and ``Reporting ends`` (a period: its spend is spread evenly
  over its days, to the cent), ``Amount spent (JMD)`` (the currency in the header) or
  ``Amount spent`` with ``Currency``, ``Impressions``, ``Link clicks`` (or ``Clicks (all)``).

Amounts must be in Jamaican dollars: the app works offline and converts nothing; a file in
another currency is refused, named. A campaign is matched to the cache's by name (any case); one
not found is created, dated by its first and last day in the file, with no budget. A day's spend
for a campaign and channel already imported is replaced, so importing the same file twice
changes nothing. Everything goes in, through the outbox, in one transaction, or nothing does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from c360_desktop.core.reports.semantic import ReportError
from c360_desktop.core.reports.targets import refuse_if

Source = Literal["google_ads", "meta_ads"]
CHANNEL = {"google_ads": "search", "meta_ads": "social"}


@dataclass(frozen=True)
class SpendRow:
    campaign: str
    day: date
    cents: int
    impressions: int | None
    clicks: int | None


def _money(text: str) -> int:
    clean = re.sub(r"[,\s]|J\$|\$|JMD", "", text)
    if clean in ("", "--", "-"):
        return 0
    return round(float(clean) * 100)


def _count(text: str) -> int | None:
    clean = re.sub(r"[,\s]", "", text)
    return None if clean in ("", "--", "-") else int(float(clean))


def _day(text: str) -> date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%m/%d/%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a day (YYYY-MM-DD, or as Google and Meta write it: Nov 3, 2026)")


def _col(names: list[str], *options: str) -> int | None:
    for option in options:
        for i, n in enumerate(names):
            if n == option.lower():
                return i
    return None


def read_ads(path: Path) -> tuple[Source, list[SpendRow]]:
    """Which export the file is, and its spend rows; ReportError naming each problem by row."""
    from c360_desktop.core.identity.importing import read_table
    from c360_desktop.core.tables import NOT_UTF8, FileRefused, Problem, check_file

    try:
        check_file(path)
    except FileRefused as exc:
        raise ReportError(str(exc)) from None
    problems: list[Problem] = []
    data = path.read_bytes()
    _sheet, header, rows = read_table(path, data, problems, header_hint="campaign")
    if not any(h.strip().lower() in ("campaign", "campaign name") for h in header):
        _sheet, header, rows = read_table(path, data, problems, header_hint="campaign name")
    problems = [p for p in problems if p.message != NOT_UTF8]
    names = [h.strip().lower() for h in header]
    meta = "campaign name" in names
    source: Source = "meta_ads" if meta else "google_ads"
    campaign = _col(names, "campaign name", "campaign")
    if campaign is None:
        raise ReportError(f"{path}: not a Google Ads or Meta Ads export: no 'Campaign' or 'Campaign name' column "
                          f"(the file has {', '.join(header[:12]) or 'no header'})")
    day = _col(names, "day", "date")
    starts, ends = _col(names, "reporting starts"), _col(names, "reporting ends")
    amount = _col(names, "cost", "amount spent (jmd)", "amount spent", "spend")
    other_currency = next((h for h in header if re.fullmatch(r"amount spent \((?!jmd)[a-z]{3}\)", h.strip().lower())),
                          None)
    if other_currency:
        raise ReportError(f"{path}: amounts are in {other_currency.strip()[-4:-1]}, not JMD: export the report in "
                          "Jamaican dollars (the app converts no currency)")
    if amount is None:
        raise ReportError(f"{path}: no spend column ('Cost' for Google Ads, 'Amount spent (JMD)' for Meta)")
    if day is None and (starts is None or ends is None):
        raise ReportError(f"{path}: no 'Day' column (or 'Reporting starts' and 'Reporting ends')")
    currency = _col(names, "currency code", "currency")
    impressions = _col(names, "impr.", "impressions")
    clicks = _col(names, "clicks", "link clicks", "clicks (all)")
    out: list[SpendRow] = []
    for n, cells in rows:
        cells = (cells + [""] * len(names))[:len(names)]
        name = cells[campaign].strip()
        if not name or name.lower().startswith("total") or (day is not None and cells[day].lower().startswith("total")):
            continue  # Google Ads' totals rows
        try:
            if currency is not None and cells[currency].strip() and cells[currency].strip().upper() != "JMD":
                raise ValueError(f"the amount is in {cells[currency].strip()}, not JMD (the app converts no currency)")
            cents = _money(cells[amount])
            if cents < 0:
                raise ValueError(f"a negative spend ({cells[amount]})")
            shown = _count(cells[impressions]) if impressions is not None else None
            clicked = _count(cells[clicks]) if clicks is not None else None
            if day is not None:
                out.append(SpendRow(name, _day(cells[day]), cents, shown, clicked))
                continue
            assert starts is not None and ends is not None
            first, last = _day(cells[starts]), _day(cells[ends])
            if last < first:
                raise ValueError(f"the period ends ({last}) before it starts ({first})")
            days = (last - first).days + 1
            for k in range(days):  # spread to the cent: the first days take the remainder
                share = cents // days + (1 if k < cents % days else 0)
                out.append(SpendRow(name, first + timedelta(days=k), share, None if shown is None or k else shown,
                                    None if clicked is None or k else clicked))
        except ValueError as exc:
            problems.append(Problem(n, None, str(exc)))
    refuse_if(path, problems)
    if not out:
        raise ReportError(f"{path}: no spend rows in the file")
    return source, out


def store(cache: Any, source: Source, rows: list[SpendRow], user: str) -> dict[str, int]:
    """Write the spend (and any new campaign), each change queued for sync, in one transaction."""
    from c360_desktop.core.ids import new_id
    from c360_desktop.core.profile.service import queue_change
    from c360_desktop.core.timestamps import db_now

    channel, now = CHANNEL[source], db_now()
    merged: dict[tuple[str, date], SpendRow] = {}
    for r in rows:  # a campaign's day twice in one file (several ad groups): summed
        key = (r.campaign.lower(), r.day)
        if key in merged:
            old = merged[key]
            r = SpendRow(old.campaign, r.day, old.cents + r.cents,
                         None if old.impressions is None and r.impressions is None else (old.impressions or 0) + (r.impressions or 0),
                         None if old.clicks is None and r.clicks is None else (old.clicks or 0) + (r.clicks or 0))
        merged[key] = r
    counts = {"campaigns_created": 0, "days_added": 0, "days_replaced": 0, "days_unchanged": 0}
    with cache.writer() as conn:
        ids = {name.lower(): cid for cid, name in conn.execute(
            "SELECT id, name FROM marketing_campaign WHERE deleted_at IS NULL").fetchall()}
        for name in sorted({r.campaign for r in merged.values()}, key=str.lower):
            if name.lower() in ids:
                continue
            days = [r.day for r in merged.values() if r.campaign.lower() == name.lower()]
            cid = new_id()
            values = {"id": cid, "name": name, "channel": channel, "start_date": min(days).isoformat(),
                      "end_date": max(days).isoformat(), "budget_cents": 0, "updated_at": now, "updated_by": user}
            conn.execute("INSERT INTO marketing_campaign (id, row_version, updated_at, updated_by, name, channel, "
                         "start_date, end_date, budget_cents) VALUES (?, 0, ?, ?, ?, ?, ?, ?, 0)",
                         (cid, now, user, name, channel, values["start_date"], values["end_date"]))
            queue_change(conn, "marketing_campaign", cid, "insert", values)
            ids[name.lower()] = cid
            counts["campaigns_created"] += 1
        for r in merged.values():
            cid = ids[r.campaign.lower()]
            held = conn.execute("SELECT id, row_version, amount_cents, impressions, clicks FROM campaign_spend WHERE "
                                "deleted_at IS NULL AND campaign_id = ? AND spend_date = ? AND channel = ?",
                                (cid, r.day.isoformat(), channel)).fetchone()
            if held is None:
                sid = new_id()
                conn.execute("INSERT INTO campaign_spend (id, row_version, updated_at, updated_by, campaign_id, "
                             "spend_date, channel, amount_cents, impressions, clicks) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (sid, now, user, cid, r.day.isoformat(), channel, r.cents, r.impressions, r.clicks))
                queue_change(conn, "campaign_spend", sid, "insert", {
                    "id": sid, "campaign_id": cid, "spend_date": r.day.isoformat(), "channel": channel,
                    "amount_cents": r.cents, "impressions": r.impressions, "clicks": r.clicks, "updated_at": now,
                    "updated_by": user})
                counts["days_added"] += 1
            elif (held[2], held[3], held[4]) == (r.cents, r.impressions, r.clicks):
                counts["days_unchanged"] += 1
            else:
                changes = {"amount_cents": r.cents, "impressions": r.impressions, "clicks": r.clicks}
                conn.execute("UPDATE campaign_spend SET amount_cents = ?, impressions = ?, clicks = ?, updated_at = ?, "
                             "updated_by = ? WHERE id = ?", (r.cents, r.impressions, r.clicks, now, user, held[0]))
                queue_change(conn, "campaign_spend", held[0], "update", {
                    "changes": changes, "base": {"amount_cents": held[2], "impressions": held[3], "clicks": held[4]},
                    "updated_by": user}, base_row_version=held[1])
                counts["days_replaced"] += 1
    return counts
