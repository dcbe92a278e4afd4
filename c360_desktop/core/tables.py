"""Reading the tables users have (CSV in any common encoding and delimiter, Excel workbooks) as
they wrote them, and refusing, before reading, files no import should try.

Every cell is text, exactly as in the file: ids and phone numbers keep their leading zeros and
all their digits. What cannot be read faithfully is reported on its row, never guessed: an
unclosed quote (the rest of the file would become one cell), NUL bytes, an Excel formula with no
saved value, a number Excel has already rounded (more than 15 digits).
"""

from __future__ import annotations

import csv
import io
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
MAX_FILE_MB = 200  # the default; Settings.import_max_mb changes it
MAX_ROWS = 1_048_576  # Excel's own limit: more is not a table someone exported
MAX_EXPANSION = 100  # a workbook's XML is ~5-20 times its zipped size; a zip bomb is thousands
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number
NOT_UTF8 = "text is not UTF-8 (read as Windows-1252): check accented letters, or save the file as UTF-8"


@dataclass(frozen=True)
class Problem:
    row: int | None  # 1-based row in the file (the header is row 1 in a table); None: the file
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        return f"{where}{f', column {self.column!r}' if self.column else ''}: {self.message}"


class FileRefused(ValueError):
    """A file an import will not read at all; the message says why, in one line."""


def check_file(path: Path, max_mb: int = MAX_FILE_MB) -> None:
    """Refuse, before reading a byte of data, what is not a file of a sensible size: a folder, a
    device (/dev/zero), a file over ``max_mb``, or a workbook whose contents unpack to far more
    than the file (a zip bomb) or claim more rows than Excel allows."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FileRefused(f"{path}: no such file") from None
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileRefused(f"{path} is a folder; choose a CSV or Excel file")
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"{path} is not a regular file (a device or a pipe); choose a CSV or Excel file")
    limit = max_mb * 1024 * 1024
    if st.st_size > limit:
        raise FileRefused(f"{path.name} is {st.st_size / 1024 / 1024:,.0f} MB, over the import limit of "
                          f"{max_mb:,} MB (setting import_max_mb); split it, or raise the limit")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        _check_workbook(path, st.st_size, limit)


def _check_workbook(path: Path, size: int, limit: int) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            unpacked = sum(m.file_size for m in members)
            sheets = [m for m in members if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")]
            first = min(sheets, key=lambda m: m.filename) if sheets else None
            head = zf.open(first).read(4096).decode("utf-8", "replace") if first else ""
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise FileRefused(f"{path.name} is not a readable Excel workbook ({exc})") from None
    if unpacked > max(limit * 5, size * MAX_EXPANSION):
        raise FileRefused(f"{path.name} unpacks to {unpacked / 1024 / 1024:,.0f} MB from "
                          f"{size / 1024 / 1024:,.1f} MB: far more than a workbook holds (a zip bomb?); "
                          "not read")
    dim = re.search(r'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"', head)
    if dim and dim.group(1) and int(dim.group(1)) > MAX_ROWS:
        raise FileRefused(f"{path.name} claims {int(dim.group(1)):,} rows, more than Excel allows "
                          f"({MAX_ROWS:,}); not read")


def decode(data: bytes, problems: list[Problem]) -> str:
    """The file's text: UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1252
    (reported on the first row that is not UTF-8)."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                problems.append(Problem(None, None, f"not valid {encoding.upper()} text ({exc.reason})"))
                return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(line, None, NOT_UTF8))
        return data.decode("cp1252", errors="replace")


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def _lines(text: str) -> list[str]:
    """Physical lines with their ends, for \\n, \\r\\n and old Mac \\r files alike."""
    lines = _LINE.findall(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def read_csv_rows(text: str, problems: list[Problem]) -> list[tuple[int, list[str]]]:
    """The records of a CSV text, each with the line it starts on.

    A quoted cell may span lines (an address); but a quote that opens a cell and never closes
    where the record should end (the cells no longer match the header, or the file ends inside
    it) is reported on its row, and reading goes on from the next line, so one stray quote
    cannot swallow the records after it.
    """
    lines = _lines(text)
    nul = [k + 1 for k, line in enumerate(lines) if "\x00" in line]
    if nul:
        shown = ", ".join(map(str, nul[:10])) + (f" and {len(nul) - 10:,} more" if len(nul) > 10 else "")
        problems.append(Problem(None, None, f"NUL bytes on row(s) {shown}: this is not a text file as saved "
                                            "(UTF-16 without a BOM, or binary); save it as CSV UTF-8"))
        return []
    delimiter = _delimiter(lines)
    out: list[tuple[int, list[str]]] = []
    width: int | None = None  # cells in the first record (the header)
    pos = 0
    while pos < len(lines):
        feed = _Feed(lines, pos)
        restart = None
        for row in csv.reader(feed, delimiter=delimiter):
            first = feed.taken_from
            if feed.pos - first > 1 and ((width is not None and len(row) != width) or feed.ended_in_quote):
                problems.append(Problem(first + 1, None, "a quote opened on this row is not closed where the "
                                                         "record ends; close it (or double it: \"\") and "
                                                         "import again"))
                restart = first + 1  # read on from the next line: one stray quote loses one row
                break
            out.append((first + 1, row))
            if width is None and any(c.strip() for c in row):
                width = len(row)
            feed.mark()
        if restart is None:
            break
        pos = restart
    return out


def _delimiter(lines: list[str]) -> str:
    """The delimiter the header line uses most (comma, semicolon, tab or bar; comma if none).
    The header, not a sample of the data: csv.Sniffer guesses wrong on data with quoted line
    breaks or few columns (found by the fuzz test)."""
    header = next((line for line in lines if line.strip()), "")
    counts = {d: header.count(d) for d in ",;\t|"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Feed:
    """Lines for csv.reader from ``pos`` on, remembering where the current record began."""

    def __init__(self, lines: list[str], pos: int) -> None:
        self.lines, self.pos, self.taken_from = lines, pos, pos

    def mark(self) -> None:
        self.taken_from = self.pos

    @property
    def ended_in_quote(self) -> bool:
        """Whether the record being read ran to the end of the file (an unclosed quote)."""
        if self.pos < len(self.lines):
            return False
        chunk = "".join(self.lines[self.taken_from:])
        return chunk.count('"') % 2 == 1

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        line = self.lines[self.pos]
        self.pos += 1
        return line


def excel_rows(data: bytes, problems: list[Problem]) -> tuple[str | None, list[tuple[int, list[str]]]]:
    """(sheet name, rows) of a workbook's first sheet, every cell as text.

    A formula without a saved value (a file written by a program, never opened in Excel) and a
    number past Excel's 15 digits (an id typed into a number cell) are reported on their row.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        values = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem
        problems.append(Problem(None, None, f"not a readable Excel workbook ({exc})"))
        return None, []
    ws = values.worksheets[0]
    for rng in ws.merged_cells.ranges:
        problems.append(Problem(rng.min_row, None, f"cells {rng.coord} are merged: unmerge them so each "
                                                   "record has its own row and each field its own cell"))
    formulas = _formula_rows(data, ws.title)
    rows: list[tuple[int, list[str]]] = []
    for k, row in enumerate(ws.iter_rows()):
        raw_row = next(formulas, ()) if formulas is not None else ()
        cells = []
        for j, cell in enumerate(row):
            value, letter = cell.value, get_column_letter(cell.column)
            raw = raw_row[j] if j < len(raw_row) else None
            if value is None and isinstance(raw, str) and raw.startswith("="):
                problems.append(Problem(k + 1, letter, f"the formula {raw[:40]} has no saved value: open the file "
                                                       "in Excel and save it, so its values are stored"))
            cells.append(_cell_text(value, k + 1, letter, problems))
        rows.append((k + 1, cells))
    return ws.title, rows


def _formula_rows(data: bytes, title: str) -> Iterator[tuple[Any, ...]] | None:
    """The sheet's rows as written (formulas as text), if the workbook has any formula at all;
    only then is it read a second time."""
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = (zf.read(m) for m in zf.namelist() if m.startswith("xl/worksheets/") and m.endswith(".xml"))
        if not any(b"<f>" in xml or b"<f " in xml for xml in sheets):
            return None
    ws = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=True)[title]
    return ws.iter_rows(values_only=True)


def _cell_text(value: Any, row: int, column: str, problems: list[Problem]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if value.is_integer() and abs(value) < 10**EXCEL_DIGITS:
            return str(int(value))  # 8765551234.0 is the number typed, not a fraction
        text = str(int(value)) if value.is_integer() else repr(value)
        if value.is_integer():
            problems.append(Problem(row, column, f"the number {int(value)} has more than {EXCEL_DIGITS} digits, "
                                                 "so Excel has already rounded it: format the column as Text in "
                                                 "the source and export again"))
        return text
    elif isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    elif isinstance(value, date | time):
        return value.isoformat()
    else:
        return str(value).strip()
    if len(text.lstrip("-")) > EXCEL_DIGITS:
        problems.append(Problem(row, column, f"the number {text} has more than {EXCEL_DIGITS} digits, so Excel "
                                             "may have rounded it: format the column as Text in the source"))
    return text
