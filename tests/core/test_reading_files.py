"""Files are read as their users wrote them, and files no import should try are refused before
they are read (issue 19, items 5 and 8). Each case goes through both readers: the import check
(`plan`) and `c360 resolve`'s."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from c360_desktop.core.identity.files import InputError
from c360_desktop.core.identity.files import read_table as resolve_table
from c360_desktop.core.identity.importing import TableConnector, plan
from c360_desktop.core.tables import FileRefused, check_file

C360 = str(Path(sys.executable).with_name("c360"))
PEOPLE = TableConnector("id", {"name": "Name", "phone": "Phone"}, "test")


def imported(path: Path):
    checked = plan(path, PEOPLE)
    return {ext: fields for _n, ext, fields in checked.rows}, [str(p) for p in checked.problems]


def test_a_trailing_comma_on_every_data_row_shifts_nothing(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,name,phone\n1,Ann Brown,876-555-0101,\n2,Bob Chin,876-555-0102,\n")
    rows, problems = imported(path)
    assert problems == [] and rows["1"] == {"Name": "Ann Brown", "Phone": "876-555-0101"}
    frame = resolve_table(path)
    assert list(frame.columns) == ["id", "name", "phone"]
    assert frame.to_dict("records")[0] == {"id": "1", "name": "Ann Brown", "phone": "876-555-0101"}


def test_an_unbalanced_quote_is_a_problem_on_its_row_not_the_end_of_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,name,phone\n1,"Ann Brown,876-555-0101\n2,Bob Chin,876-555-0102\n3,Cy Dunn,876-555-0103\n')
    checked = plan(path, PEOPLE)
    assert [str(p) for p in checked.problems] == [
        'row 2: a quote opened on this row is not closed where the record ends; close it (or double it: "") '
        "and import again"]
    assert [ext for n, ext, _f in checked.rows if n not in checked.bad_rows] == ["2", "3"]
    with pytest.raises(InputError, match="row 2: a quote opened"):
        resolve_table(path)
    # A quoted value that rightly spans lines (an address) is read as one cell.
    path.write_text('id,name,phone\n1,"Ann\nBrown",876-555-0101\n2,Bob,876-555-0102\n')
    rows, problems = imported(path)
    assert problems == [] and rows["1"]["Name"] == "Ann\nBrown" and rows["2"]["Name"] == "Bob"


def test_old_mac_line_ends_are_read(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,name,phone\r1,Ann Brown,876-555-0101\r2,Bob Chin,876-555-0102\r")
    rows, problems = imported(path)
    assert problems == [] and sorted(rows) == ["1", "2"] and rows["2"]["Name"] == "Bob Chin"
    assert resolve_table(path)["name"].tolist() == ["Ann Brown", "Bob Chin"]


def test_nul_bytes_anywhere_are_reported(tmp_path):
    path = tmp_path / "t.csv"
    body = "".join(f"{k},Person {k},876-555-{k:04d}\n" for k in range(1, 400))
    path.write_bytes(b"id,name,phone\n" + body.encode() + b"400,Ann\x00Brown,876-555-0400\n")
    _rows, problems = imported(path)
    assert problems == ["file: NUL bytes on row(s) 401: this is not a text file as saved (UTF-16 without a BOM, "
                        "or binary); save it as CSV UTF-8"]
    with pytest.raises(InputError, match="NUL bytes on row"):
        resolve_table(path)


def test_twenty_digit_ids_stay_text_in_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,name,phone\n12345678901234567890,Ann Brown,876-555-0101\n00042,Bob,876-555-0102\n")
    rows, problems = imported(path)
    assert problems == [] and sorted(rows) == ["00042", "12345678901234567890"]
    assert resolve_table(path)["id"].tolist() == ["12345678901234567890", "00042"]


def test_workbook_formulas_without_values_and_rounded_numbers_are_reported(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "name", "phone"])
    ws.append([1, "Ann Brown", 8765550101])  # a phone typed as a number: read as its digits
    ws.append([2, '=CONCAT("Bob", " Chin")', "876-555-0102"])  # openpyxl saves no value for it
    ws.append([12345678901234567890, "Cy Dunn", "876-555-0103"])  # an id Excel cannot hold
    ws.append([1.2345678901234567e19, "Di Ellis", "876-555-0104"])  # what Excel made of it
    wb.save(path)
    checked = plan(path, PEOPLE)
    problems = [str(p) for p in checked.problems]
    assert any(p.startswith("row 3, column 'B': the formula =CONCAT(") and "has no saved value" in p
               for p in problems)
    # Both ids are one number once stored as a double (Excel keeps 15 digits): said on each row.
    import re

    for row in (4, 5):
        assert any(re.fullmatch(rf"row {row}, column 'A': the number \d{{20}} has more than 15 digits, so Excel "
                                "has already rounded it: format the column as Text in the source and export again",
                                p) for p in problems), problems
    assert not any("e+19" in p for p in problems)
    good = {ext: f for n, ext, f in checked.rows if n not in checked.bad_rows}
    assert good == {"1": {"Name": "Ann Brown", "Phone": "8765550101"}}
    with pytest.raises(InputError, match="no saved value"):
        resolve_table(path)


# ---- size guards ---------------------------------------------------------------------------------

def run_measured(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess, int]:
    """Run c360 in a fresh parent and return its result and the peak memory (KiB) of the c360 process."""
    code = ("import json, resource, subprocess, sys\n"
            f"r = subprocess.run({[C360, *args]!r}, capture_output=True, text=True)\n"
            "print(json.dumps([r.returncode, r.stdout, r.stderr, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    rc, stdout, stderr, peak = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, rc, stdout, stderr), peak


MAPPED = ["--id-column", "id", "--map", "name=Name"]


def test_dev_zero_is_refused_at_once(demo_cache):
    r, peak = run_measured("import", "/dev/zero", *MAPPED, "--cache", str(demo_cache))
    assert r.returncode == 2 and r.stderr.strip() == (
        "c360: error: /dev/zero is not a regular file (a device or a pipe); choose a CSV or Excel file")
    assert peak < 400_000  # KiB: nothing of it was read
    with pytest.raises(FileRefused, match="not a regular file"):
        plan(Path("/dev/zero"), PEOPLE)


def test_a_file_over_the_size_limit_is_refused_before_reading(demo_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("C360_CONFIG_DIR", str(tmp_path / "config"))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text(json.dumps({"import_max_mb": 1}))
    big = tmp_path / "big.csv"
    with big.open("w") as f:
        f.write("id,name\n")
        for k in range(120_000):
            f.write(f"{k},Person number {k}\n")
    r = subprocess.run([C360, "import", str(big), *MAPPED, "--cache", str(demo_cache)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "over the import limit of 1 MB (setting import_max_mb)" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_workbook_that_unpacks_to_a_gigabyte_is_refused_unread(demo_cache, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    header = b'<?xml version="1.0"?><worksheet><dimension ref="A1:B2"/><sheetData>'
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(header)
            chunk = b" " * (1 << 20)
            for _ in range(1024):
                member.write(chunk)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    r, peak = run_measured("import", str(bomb), *MAPPED, "--cache", str(demo_cache))
    assert r.returncode == 2 and "unpacks to 1,024 MB" in r.stderr and "zip bomb" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and peak < 400_000
    with pytest.raises(InputError, match="zip bomb"):
        resolve_table(bomb)


def test_a_workbook_claiming_too_many_rows_is_refused(tmp_path):
    path = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", '<worksheet><dimension ref="A1:C5000000"/><sheetData/></worksheet>')
    with pytest.raises(FileRefused, match="claims 5,000,000 rows"):
        check_file(path)
