"""Property-based fuzzing (Hypothesis) of the import file checker and the search query parser:
whatever a user feeds them, they answer or report a problem; they never crash, never lose a cell."""

from __future__ import annotations

import csv
import io
import shutil

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c360_desktop.core.identity.importing import TableConnector, plan
from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.tables import Problem, read_csv_rows

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Cell text as people type it: any printable character, quotes, delimiters, line breaks inside.
cell = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00") | st.sampled_from(
    [",", ";", '"', "\n", "\r", "\t", " "]), max_size=12)


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_are_checked_without_a_crash(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("f") / "any.csv"
    path.write_bytes(data)
    checked = plan(path, TableConnector("id", {"name": "Name"}, "fuzz"))
    lines = max(1, data.count(b"\n") + data.count(b"\r") + 1)
    assert all(isinstance(p, Problem) and (p.row is None or 1 <= p.row <= lines) for p in checked.problems)
    assert all(1 <= n <= lines for n, _ext, _f in checked.rows)


@FUZZ
@given(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=15),
       st.sampled_from([",", ";", "\t", "|"]), st.sampled_from(["\r\n", "\n", "\r"]))
def test_a_well_formed_csv_reads_back_cell_for_cell(rows, delimiter, newline):
    table = [["id", "name", "phone"], *([f"r{k}", *r[1:]] for k, r in enumerate(rows))]
    out = io.StringIO()
    # QUOTE_MINIMAL quotes a cell holding a character of the line terminator only: with "\n"
    # alone, a cell holding "\r" would go out bare (a CSV no program reads back), so quote all.
    quoting = csv.QUOTE_MINIMAL if newline == "\r\n" else csv.QUOTE_ALL
    csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=quoting).writerows(table)
    problems: list[Problem] = []
    got = [r for _n, r in read_csv_rows(out.getvalue(), problems)]
    assert problems == [] and got == table


xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=15).filter(
    lambda t: t == t.strip() and not t.startswith("="))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(xml_text, xml_text), min_size=1, max_size=10))
def test_a_workbook_reads_back_cell_for_cell(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "name", "note"])
    for k, (name, note) in enumerate(rows):
        ws.append([f"r{k}", name or None, note or None])
    wb.save(path)
    checked = plan(path, TableConnector("id", {"name": "Name", "note": "Note"}, "fuzz"))
    assert checked.problems == []
    got = {ext: (f.get("Name", ""), f.get("Note", "")) for _n, ext, f in checked.rows}
    assert got == {f"r{k}": pair for k, pair in enumerate(rows)}


@pytest.fixture(scope="module")
def small_cache(demo_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "cache.db"
    shutil.copyfile(demo_template, path)
    cache = open_cache(path)
    yield cache
    cache.close()


@FUZZ
@given(st.text(max_size=40) | st.text(st.sampled_from('"*()-+:^ ANDORNOT\\\'@.,0123456789abc'), max_size=30))
def test_any_query_is_answered_without_a_crash(small_cache, query):
    search = CustomerSearch(small_cache)
    hits = search.search(query, limit=10)
    assert len(hits) <= 10
    assert all(h.customer_id for h in hits)
