"""PDF and large exports: the PDF read back with poppler (pdftotext for the figures, pdftoppm for
a picture to look at); a 100,000-row workbook with progress, and a cancel that leaves no file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from c360_desktop.core.progress import Cancelled, Progress
from c360_desktop.core.reports.export import Table
from c360_desktop.core.reports.formatting import figure
from c360_desktop.core.reports.query import ReportQuery
from c360_desktop.core.reports.semantic import ReportError
from tests.conftest import SCREENSHOTS

C360 = str(Path(sys.executable).with_name("c360"))


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    assert found, f"{tool} is missing: install poppler-utils (.ci/run does)"
    return found


def test_pdf_holds_the_tables_figures_a_chart_and_page_numbers(services, tmp_path):
    result = services.reports.query(ReportQuery(("revenue", "orders", "average_order_value"), ("month",),
                                                date(2025, 1, 1), date(2026, 10, 31)))
    out = tmp_path / "monthly.pdf"
    info = services.reports.export(result, out, "pdf")
    assert out.read_bytes().startswith(b"%PDF-") and info.rows == 22
    text = subprocess.run([_poppler("pdftotext"), "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Revenue, Orders and Average order value by month" in text
    assert "Data as of" in text and "Exported by tester" in text
    for row in result.frame.itertuples(index=False):
        assert row.Month in text
        assert figure(row.Revenue, "jmd") in text and figure(row.Orders, "count") in text
    assert "Page 1 of" in text
    png = subprocess.run([_poppler("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", str(out),
                          str(tmp_path / "page")], capture_output=True, check=True)
    assert png.returncode == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(next(tmp_path.glob("page*.png")), SCREENSHOTS / "report_pdf_page1.png")


def test_a_long_pdf_repeats_its_header_on_every_page(services, tmp_path):
    frame = pd.DataFrame({"Town": [f"Town {i:04d}" for i in range(900)], "Revenue": np.arange(900) * 1000.5})
    out = tmp_path / "towns.pdf"
    services.reports.export(Table("revenue by town", "all of it", frame, {"Revenue": "jmd"}), out, "pdf")
    pages = subprocess.run([_poppler("pdftotext"), "-layout", str(out), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 10
    for n, page in enumerate(pages, start=1):
        assert "Town" in page and "Revenue" in page, f"page {n} has no header"
        assert f"Page {n} of {len(pages)}" in page
    assert "Town 0899" in pages[-1] and figure(899 * 1000.5, "jmd") in pages[-1]


def test_too_long_for_a_pdf_is_refused_before_writing(services, tmp_path):
    from c360_desktop.core.reports import export as export_module

    frame = pd.DataFrame({"Town": ["a", "b", "c"]})
    export_module.PDF_ROWS, old = 2, export_module.PDF_ROWS
    try:
        with pytest.raises(ReportError, match="too many for a PDF"):
            services.reports.export(Table("towns", "", frame), tmp_path / "out" / "t.pdf", "pdf")
    finally:
        export_module.PDF_ROWS = old
    assert not (tmp_path / "out").exists()


def _big(n: int = 100_000) -> Table:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"Customer": [f"C{i:06d}" for i in range(n)],
                          "Parish": rng.choice(["Kingston", "St. Ann", "St. James"], n),
                          "Revenue": rng.integers(100, 10_000_000, n) / 100,
                          "Orders": rng.integers(1, 50, n), "Share": rng.random(n)})
    return Table("revenue by customer", "everyone", frame, {"Revenue": "jmd", "Orders": "count", "Share": "pct"})


@pytest.mark.slow
def test_100k_rows_to_xlsx_report_progress_and_read_back(services, tmp_path):
    from openpyxl import load_workbook

    table = _big()
    seen: list[float] = []
    out = tmp_path / "big.xlsx"
    services.reports.export(table, out, "xlsx", progress=Progress(lambda f, _m: seen.append(f)))
    assert len(seen) > 10 and seen == sorted(seen) and seen[-1] == 1.0
    wb = load_workbook(out, read_only=True)
    ws = wb["Report"]
    rows = ws.iter_rows(values_only=False)
    header = [c.value for c in next(rows)]
    assert header == list(table.frame.columns)
    for i, row in enumerate(rows):
        if i in (0, 50_000, 99_999):
            want = table.frame.iloc[i]
            assert [c.value for c in row[:2]] == [want["Customer"], want["Parish"]]
            assert [c.value for c in row[2:]] == pytest.approx([want["Revenue"], want["Orders"], want["Share"]])
            assert row[2].number_format == '"J$"#,##0.00' and row[4].number_format == "0.0%"
    assert i == 99_999
    wb.close()


def test_a_cancelled_export_leaves_no_file(services, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    calls = []

    def on_step(fraction, _message):
        calls.append(fraction)
        if len(calls) == 2:
            progress.cancel()

    progress = Progress(on_step)
    for fmt, rows in (("xlsx", 30_000), ("csv", 60_000), ("pdf", 9_000)):
        calls.clear()
        with pytest.raises(Cancelled):
            services.reports.export(_big(rows), out / f"t.{fmt}", fmt, progress=progress)
        progress = Progress(on_step)
    assert not list(out.iterdir()), "no file, no temporary file"


def test_cli_writes_a_pdf(demo_cache, tmp_path):
    out = tmp_path / "parish.pdf"
    r = subprocess.run([C360, "report", "query", "--cache", str(demo_cache), "--measure", "revenue", "--by", "parish",
                        "--from", "2026-10-01", "--to", "2026-10-31", "--format", "pdf", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    text = subprocess.run([_poppler("pdftotext"), str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "St. Ann" in text and "Kingston" in text
