"""A report's figures out as CSV (UTF-8 with BOM, for Excel), an Excel workbook or JSON.

Every export carries a manifest (what was asked, how many rows, data as of, who exported): the
workbook's "About" sheet, a JSON object's "manifest", or ``F.manifest.json`` beside a CSV. Text
cells are made safe to open in a spreadsheet (``printable.safe_cell``); a result that does not
fit a worksheet is refused before anything is written, never cut short.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from c360_desktop.core.outputs import Output, OutputKind, check_outputs, write_all
from c360_desktop.core.printable import safe_frame
from c360_desktop.core.reports.query import ReportResult
from c360_desktop.core.reports.semantic import ReportError

Format = Literal["csv", "xlsx", "json"]
EXCEL_ROWS = 1_048_576  # a worksheet's rows, the header included
EXCEL_CELL = 32_767  # characters in one cell
# JSON results are one line (their first line is how an earlier result is recognised)
MANIFEST = OutputKind("report manifest", '{"report"')
KINDS: dict[str, OutputKind] = {
    "json": OutputKind("report JSON", '{"report"'),
    # an xlsx is a zip: recognised by its signature, a CSV by its header's first column
    "xlsx": OutputKind("report workbook", "PK\x03\x04"),
}
JMD_FORMAT = '"J$"#,##0.00'
COUNT_FORMAT = "#,##0"
PCT_FORMAT = "0.0%"


@dataclass(frozen=True)
class Manifest:
    title: str
    filters: str
    rows: int
    data_as_of: str
    exported_by: str
    exported_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"report": self.title, "filters": self.filters, "rows": self.rows, "data_as_of": self.data_as_of,
                "exported_by": self.exported_by, "exported_at": self.exported_at}


def describe(result: ReportResult) -> tuple[str, str]:
    """(title, filters) in words, for the manifest and page headers."""
    q = result.query
    title = ", ".join(q.measures) + (f" by {', '.join(q.by)}" if q.by else "")
    parts = [f"{q.start or 'the first day'} to {q.end or 'the last day'}"]
    parts += [f"{d} = {v}" for d, v in q.where]
    if q.compare:
        parts.append("against " + ("the same period last year" if q.compare == "last_year" else "the previous period"))
    return title, "; ".join(parts)


def manifest(result: ReportResult, data_as_of: str, user: str) -> Manifest:
    title, filters = describe(result)
    return Manifest(title, filters, len(result.frame), data_as_of, user,
                    datetime.now(UTC).replace(microsecond=0).isoformat())


def _csv_kind(result: ReportResult) -> OutputKind:
    first = str(result.frame.columns[0]) if len(result.frame.columns) else ""
    return OutputKind("report CSV", first)


def export(result: ReportResult, out: Path, fmt: Format, data_as_of: str, user: str, force: bool = False) -> Manifest:
    """Write the report to ``out`` (and a CSV's manifest beside it); all files or none."""
    frame = result.frame
    info = manifest(result, data_as_of, user)
    if fmt == "xlsx":
        if len(frame) + 1 > EXCEL_ROWS:
            raise ReportError(f"{len(frame):,} rows do not fit an Excel worksheet ({EXCEL_ROWS - 1:,} at most); "
                              "export CSV instead, or narrow the report")
        long = [c for c in frame.columns if frame[c].dtype == object
                and frame[c].map(lambda v: len(str(v)) > EXCEL_CELL).any()]
        if long:
            raise ReportError(f"column {long[0]!r} holds text longer than Excel's {EXCEL_CELL:,} characters a "
                              "cell; export CSV instead")
    outputs = [Output(out, KINDS.get(fmt, _csv_kind(result)), "--out")]
    side = out.with_name(out.name + ".manifest.json")
    if fmt == "csv":
        outputs.append(Output(side, MANIFEST, "manifest"))
    check_outputs(outputs, force=force)
    writers: list[tuple[Path, Any]] = []
    if fmt == "csv":
        writers = [(out, lambda p: _write_csv(frame, p)),
                   (side, lambda p: p.write_text(json.dumps(info.as_dict()) + "\n", "utf-8"))]
    elif fmt == "xlsx":
        writers = [(out, lambda p: _write_xlsx(result, info, p))]
    else:
        writers = [(out, lambda p: p.write_text(json.dumps(
            {"report": info.title, "manifest": info.as_dict(), "columns": list(frame.columns),
             "rows": records(frame)}, default=str) + "\n", "utf-8"))]
    write_all(writers)
    return info


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts (missing figures as null)."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", float_format="%.10g")


def _write_xlsx(result: ReportResult, info: Manifest, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    frame = safe_frame(result.frame)
    wb = Workbook()
    ws = wb.active
    ws.title = "Report"
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in frame.itertuples(index=False):
        ws.append([None if isinstance(v, float) and v != v else (v.item() if hasattr(v, "item") else v) for v in row])
    formats = {"jmd": JMD_FORMAT, "count": COUNT_FORMAT, "ratio": PCT_FORMAT, "pct": PCT_FORMAT}
    for i, column in enumerate(frame.columns, start=1):
        unit = result.units.get(str(column))
        letter = get_column_letter(i)
        if unit:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = formats[unit]
        width = max([len(str(column))] + [len(f"{v:,.2f}" if isinstance(v, float) else str(v))
                                          for v in frame[column].head(500)])
        ws.column_dimensions[letter].width = min(60, width + 4)
    ws.freeze_panes = "A2"
    measures = [i for i, c in enumerate(frame.columns, start=1) if result.units.get(str(c)) in ("jmd", "count")]
    dims = len(result.query.by)
    if dims >= 1 and measures and 1 < len(frame) <= 500:
        time_split = result.query.by[0] in ("day", "week", "month", "quarter", "year")
        chart = LineChart() if time_split else BarChart()
        chart.title = info.title
        chart.height, chart.width = 9, 22
        first = measures[0]
        chart.add_data(Reference(ws, min_col=first, min_row=1, max_row=len(frame) + 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(frame) + 1))
        ws.add_chart(chart, f"{get_column_letter(len(frame.columns) + 2)}2")
    about = wb.create_sheet("About")
    for key, value in info.as_dict().items():
        about.append([key.replace("_", " ").capitalize(), value])
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 70
    for (cell,) in about.iter_rows(min_col=1, max_col=1):
        cell.font = Font(bold=True)
    wb.save(path)
