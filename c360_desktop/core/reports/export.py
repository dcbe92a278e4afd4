"""A report's figures out as CSV (UTF-8 with BOM, for Excel), an Excel workbook, a PDF or JSON.

Every export carries a manifest (what was asked, how many rows, data as of, who exported): the
workbook's "About" sheet, the PDF's header lines, a JSON object's "manifest", or
``F.manifest.json`` beside a CSV. Text cells are made safe to open in a spreadsheet
(``printable.safe_cell``); a result that does not fit a worksheet (or a PDF a person would read)
is refused before anything is written, never cut short. Long exports report progress and stop on
cancel, leaving no file.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from c360_desktop.core.outputs import Output, OutputKind, check_outputs, write_all
from c360_desktop.core.printable import safe_frame
from c360_desktop.core.progress import Cancelled, Progress
from c360_desktop.core.reports.query import ReportResult
from c360_desktop.core.reports.semantic import ReportError

Format = Literal["csv", "xlsx", "pdf", "json"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "pdf", "json")
EXCEL_ROWS = 1_048_576  # a worksheet's rows, the header included
EXCEL_CELL = 32_767  # characters in one cell
PDF_ROWS = 10_000  # about 300 pages: past that a PDF is not read, and CSV or Excel is offered
# JSON results are one line (their first line is how an earlier result is recognised)
MANIFEST = OutputKind("report manifest", '{"report"')
KINDS: dict[str, OutputKind] = {
    "json": OutputKind("report JSON", '{"report"'),
    # an xlsx is a zip: recognised by its signature, a CSV by its header's first column
    "xlsx": OutputKind("report workbook", "PK\x03\x04"),
    "pdf": OutputKind("report PDF", "%PDF-"),
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


@dataclass(frozen=True)
class Table:
    """Any table to export: a report's result, an analysis, a pane's rows."""

    title: str
    filters: str
    frame: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)  # column -> jmd | count | ratio | pct | index
    chart: Literal["bar", "line", ""] = ""  # the first figure column over the first column


def describe(result: ReportResult) -> tuple[str, str]:
    """(title, filters) in words, for the manifest and page headers."""
    from c360_desktop.core.reports.semantic import dimension, measure

    q = result.query

    def listed(words: list[str]) -> str:
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    title = listed([measure(m).label for m in q.measures])
    if q.by:
        title += " by " + listed([dimension(d).label.lower() for d in q.by])
    parts = [f"{q.start or 'the first day'} to {q.end or 'the last day'}"]
    chosen: dict[str, list[str]] = {}
    for d, v in q.where:
        chosen.setdefault(d, []).append(v)
    parts += [f"{d} = {' or '.join(vs)}" for d, vs in chosen.items()]
    if q.compare:
        parts.append("against " + ("the same period last year" if q.compare == "last_year" else "the previous period"))
    return title, "; ".join(parts)


def table_of(result: ReportResult | Table) -> Table:
    if isinstance(result, Table):
        return result
    title, filters = describe(result)
    by = result.query.by
    chart: Literal["bar", "line", ""] = ""
    if by and 1 < len(result.frame) <= 500:
        chart = "line" if by[0] in ("day", "week", "month", "quarter", "year") else "bar"
    return Table(title, filters, result.frame, dict(result.units), chart)


def manifest(table: Table, data_as_of: str, user: str) -> Manifest:
    return Manifest(table.title, table.filters, len(table.frame), data_as_of, user,
                    datetime.now(UTC).replace(microsecond=0).isoformat())


def _csv_kind(table: Table) -> OutputKind:
    first = str(table.frame.columns[0]) if len(table.frame.columns) else ""
    return OutputKind("report CSV", first)


def check_fits(table: Table, fmt: Format) -> None:
    """Raise ReportError, before anything is written, if the table does not fit the format."""
    frame = table.frame
    if fmt == "xlsx":
        if len(frame) + 1 > EXCEL_ROWS:
            raise ReportError(f"{len(frame):,} rows do not fit an Excel worksheet ({EXCEL_ROWS - 1:,} at most); "
                              "export CSV instead, or narrow the report")
        long = [c for c in frame.columns if frame[c].dtype == object
                and frame[c].map(lambda v: len(str(v)) > EXCEL_CELL).any()]
        if long:
            raise ReportError(f"column {long[0]!r} holds text longer than Excel's {EXCEL_CELL:,} characters a "
                              "cell; export CSV instead")
    if fmt == "pdf" and len(frame) > PDF_ROWS:
        raise ReportError(f"{len(frame):,} rows are too many for a PDF ({PDF_ROWS:,} at most, about 300 pages); "
                          "export Excel or CSV instead, or narrow the report")


def export(result: ReportResult | Table, out: Path, fmt: Format, data_as_of: str, user: str, force: bool = False,
           progress: Progress | None = None) -> Manifest:
    """Write the table to ``out`` (and a CSV's manifest beside it); all files or none."""
    table = table_of(result)
    frame = table.frame
    info = manifest(table, data_as_of, user)
    check_fits(table, fmt)
    outputs = [Output(out, KINDS.get(fmt, _csv_kind(table)), "--out")]
    side = out.with_name(out.name + ".manifest.json")
    if fmt == "csv":
        outputs.append(Output(side, MANIFEST, "manifest"))
    check_outputs(outputs, force=force)
    step = progress.update if progress is not None else (lambda _f, _m="": None)
    writers: list[tuple[Path, Any]] = []
    if fmt == "csv":
        writers = [(out, lambda p: _write_csv(frame, p, step)),
                   (side, lambda p: p.write_text(json.dumps(info.as_dict()) + "\n", "utf-8"))]
    elif fmt == "xlsx":
        writers = [(out, lambda p: _write_xlsx(table, info, p, step))]
    elif fmt == "pdf":
        writers = [(out, lambda p: _write_pdf(table, info, p, step))]
    else:
        writers = [(out, lambda p: p.write_text(json.dumps(
            {"report": info.title, "manifest": info.as_dict(), "columns": list(frame.columns),
             "rows": records(frame)}, default=str) + "\n", "utf-8"))]
    write_all(writers)
    with contextlib.suppress(Cancelled):  # cancelled once the files were in place: they stay, whole
        step(1.0, f"{len(frame):,} rows written")
    return info


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts (missing figures as null)."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


Step = Callable[..., None]
CHUNK = 5_000  # rows between progress reports (and cancel checks)


def _write_csv(frame: pd.DataFrame, path: Path, step: Step) -> None:
    safe = safe_frame(frame)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        for start in range(0, max(len(safe), 1), CHUNK * 4):
            safe.iloc[start:start + CHUNK * 4].to_csv(f, index=False, header=start == 0, float_format="%.10g")
            step(min(1.0, (start + CHUNK * 4) / max(len(safe), 1)) * 0.99, "Writing the CSV")


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _write_xlsx(table: Table, info: Manifest, path: Path, step: Step) -> None:
    """A streamed workbook (XlsxWriter, row by row): styled header, number formats per unit,
    column widths, a frozen header, a native chart, and an About sheet with the manifest."""
    import xlsxwriter
    from xlsxwriter.utility import xl_col_to_name

    frame = safe_frame(table.frame)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "nan_inf_to_errors": True})
    ws = wb.add_worksheet("Report")
    about = wb.add_worksheet("About")  # made before rows stream (constant memory writes sheets in order)
    head = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79", "align": "center",
                          "valign": "vcenter", "text_wrap": True})
    formats = {"jmd": JMD_FORMAT, "count": COUNT_FORMAT, "ratio": PCT_FORMAT, "pct": PCT_FORMAT, "index": "0.00"}
    cell_formats: dict[int, Any] = {}
    for i, column in enumerate(frame.columns):
        unit = table.units.get(str(column))
        if unit in formats:
            cell_formats[i] = wb.add_format({"num_format": formats[unit]})
        width = max([len(str(column))] + [len(f"{v:,.2f}" if isinstance(v, float) else str(v))
                                          for v in frame[column].head(500)])
        ws.set_column(i, i, min(60, width + 4))
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, [str(c) for c in frame.columns], head)
    n = len(frame)
    columns = [frame[c].tolist() for c in frame.columns]
    for r in range(n):
        for c, values in enumerate(columns):
            v = _plain(values[r])
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(r + 1, c, v)
            else:
                ws.write(r + 1, c, v, cell_formats.get(c))
        if r % CHUNK == CHUNK - 1:
            step(0.95 * (r + 1) / n, f"Writing row {r + 1:,} of {n:,}")
    figures = [i for i, c in enumerate(frame.columns) if table.units.get(str(c)) in ("jmd", "count")]
    if table.chart and figures and 1 < n <= 500:
        chart = wb.add_chart({"type": "line" if table.chart == "line" else "column"})
        chart.add_series({"name": ["Report", 0, figures[0]], "categories": ["Report", 1, 0, n, 0],
                          "values": ["Report", 1, figures[0], n, figures[0]], "fill": {"color": "#1F4E79"},
                          "line": {"color": "#1F4E79"}})
        chart.set_title({"name": info.title})
        chart.set_legend({"none": True})
        chart.set_size({"width": 820, "height": 340})
        ws.insert_chart(f"{xl_col_to_name(len(frame.columns) + 1)}2", chart)
    bold = wb.add_format({"bold": True})
    about.set_column(0, 0, 16)
    about.set_column(1, 1, 70)
    for r, (key, value) in enumerate(info.as_dict().items()):
        about.write_string(r, 0, key.replace("_", " ").capitalize(), bold)
        about.write(r, 1, value)
    step(0.97, "Saving the workbook")
    wb.close()


def _write_pdf(table: Table, info: Manifest, path: Path, step: Step) -> None:
    """A landscape A4 PDF (ReportLab): title, filters, data as of and who exported; the chart; the
    table over as many pages as it needs with its header repeated; page N of M at the foot."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    from c360_desktop.core.reports.formatting import figure

    frame = table.frame
    styles = getSampleStyleSheet()
    page = landscape(A4)
    story: list[Any] = [Paragraph(_esc(info.title.capitalize()), styles["Title"]),
                        Paragraph(_esc(info.filters), styles["Normal"]),
                        Paragraph(_esc(f"Data as of {info.data_as_of}. Exported by {info.exported_by} at "
                                       f"{info.exported_at}. {info.rows:,} rows."), styles["Normal"]),
                        Spacer(1, 4 * mm)]
    figures = [c for c in frame.columns if table.units.get(str(c)) in ("jmd", "count")]
    if table.chart and figures and 1 < len(frame) <= 60:
        values = [0.0 if v != v else float(v) for v in frame[figures[0]].tolist()]
        drawing = Drawing(page[0] - 30 * mm, 62 * mm)
        chart: Any = HorizontalLineChart() if table.chart == "line" else VerticalBarChart()
        chart.x, chart.y, chart.width, chart.height = 18 * mm, 10 * mm, page[0] - 60 * mm, 48 * mm
        chart.data = [values]
        chart.categoryAxis.categoryNames = [str(v) for v in frame.iloc[:, 0].tolist()]
        chart.categoryAxis.labels.angle = 30 if len(frame) > 8 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(frame) > 8 else "n"
        chart.categoryAxis.labels.fontSize = 6 if len(frame) > 20 else 8
        chart.valueAxis.valueMin = min(0.0, min(values))
        chart.valueAxis.labelTextFormat = lambda v: figure(v, table.units.get(str(figures[0]), "count"))
        chart.valueAxis.labels.fontSize = 7
        if table.chart == "line":
            chart.lines[0].strokeColor = colors.HexColor("#1F4E79")
            chart.lines[0].strokeWidth = 1.5
        else:
            chart.bars[0].fillColor = colors.HexColor("#1F4E79")
        drawing.add(chart)
        story += [Paragraph(_esc(str(figures[0])), styles["Heading4"]), drawing, Spacer(1, 4 * mm)]
    body = [[str(c) for c in frame.columns]]
    units = [table.units.get(str(c)) for c in frame.columns]
    n = len(frame)
    for r, row in enumerate(frame.itertuples(index=False)):
        body.append([figure(_plain(v), u) if u else ("—" if _plain(v) is None else str(v))
                     for v, u in zip(row, units, strict=True)])
        if r % CHUNK == CHUNK - 1:
            step(0.6 * (r + 1) / n, f"Laying out row {r + 1:,} of {n:,}")
    grid = LongTable(body, repeatRows=1)
    look = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F4E79")),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F5F9")]),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.HexColor("#1F4E79")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    look += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i, u in enumerate(units) if u]
    grid.setStyle(TableStyle(look))
    story.append(grid)

    class NumberedCanvas(Canvas):
        """Page N of M at the foot of every page (M known once all pages are laid out)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("Helvetica", 8)
                self.drawRightString(page[0] - 15 * mm, 8 * mm, f"Page {self._pageNumber} of {len(self._pages)}")
                self.drawString(15 * mm, 8 * mm, f"C360 Desktop: {info.title}"[:120])
                super().showPage()
            super().save()

    doc = SimpleDocTemplate(str(path), pagesize=page, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=16 * mm, title=info.title, author=info.exported_by, creator="C360 Desktop")
    step(0.65, "Writing the PDF pages")
    rows_per_page = 28
    pages = max(1, n // rows_per_page + 1)

    def on_page(_canvas: Any, document: Any) -> None:  # each page laid out: progress, and a cancel stops here
        step(min(0.99, 0.65 + 0.34 * document.page / pages), f"Page {document.page} of about {pages}")

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=NumberedCanvas)


def _esc(text: str) -> str:
    """Text for a ReportLab paragraph (which reads a little markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
