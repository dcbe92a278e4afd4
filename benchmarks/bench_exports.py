"""Exports: a 100,000-row table (customer, parish, revenue, orders, share, and seven more figure
columns: twelve in all, like a wide report) written as a workbook, CSV and PDF, beside the
openpyxl workbook writer the first exports used, in the same run.

    ours-xlsx      core.reports.export (XlsxWriter, streamed, number formats per column)
    openpyxl-xlsx  the earlier writer: openpyxl, a styled cell at a time (baseline)
    ours-csv       core.reports.export CSV (UTF-8 with BOM, formula-safe cells)
    ours-pdf       10,000 rows (the PDF limit) with repeated headers and page numbers

    python -m benchmarks.bench_exports [--rows 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from c360_desktop.core.reports.export import JMD_FORMAT, PCT_FORMAT, Table, export


def table(rows: int) -> Table:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"Customer": [f"C{i:06d}" for i in range(rows)],
                          "Parish": rng.choice(["Kingston", "St. Ann", "St. James"], rows)})
    units: dict[str, str] = {}
    for k in range(5):
        frame[f"Revenue {k}"] = rng.integers(100, 10_000_000, rows) / 100
        units[f"Revenue {k}"] = "jmd"
    for k in range(3):
        frame[f"Orders {k}"] = rng.integers(1, 50, rows)
        units[f"Orders {k}"] = "count"
    for k in range(2):
        frame[f"Share {k}"] = rng.random(rows)
        units[f"Share {k}"] = "pct"
    return Table("revenue by customer", "benchmark", frame, units)


def openpyxl_baseline(t: Table, path: Path) -> None:
    """The first exports' writer (a normal openpyxl workbook, formats set cell by cell)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.append(list(t.frame.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
    for row in t.frame.itertuples(index=False):
        ws.append([v.item() if hasattr(v, "item") else v for v in row])
    formats = {"jmd": JMD_FORMAT, "count": "#,##0", "pct": PCT_FORMAT}
    for i, column in enumerate(t.frame.columns, start=1):
        unit = t.units.get(str(column))
        if unit:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = formats[unit]
    ws.freeze_panes = "A2"
    wb.save(path)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    t = table(args.rows)
    small = Table(t.title, t.filters, t.frame.head(10_000), t.units)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        results = {
            "ours-xlsx": timed(lambda: export(t, d / "a.xlsx", "xlsx", "now", "bench")),
            "openpyxl-xlsx": timed(lambda: openpyxl_baseline(t, d / "b.xlsx")),
            "ours-csv": timed(lambda: export(t, d / "a.csv", "csv", "now", "bench")),
            "ours-pdf (10,000 rows)": timed(lambda: export(small, d / "a.pdf", "pdf", "now", "bench")),
        }
        sizes = {"ours-xlsx": (d / "a.xlsx").stat().st_size, "openpyxl-xlsx": (d / "b.xlsx").stat().st_size,
                 "ours-csv": (d / "a.csv").stat().st_size, "ours-pdf (10,000 rows)": (d / "a.pdf").stat().st_size}
    print(f"{args.rows:,} rows x {len(t.frame.columns)} columns (target: xlsx < 15 s)")
    for name, seconds in results.items():
        print(f"  {name:<24} {seconds:6.2f} s   {sizes[name] / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
