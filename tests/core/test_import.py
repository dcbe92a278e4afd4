"""Importing source records from the files users have: checked row by row, all or nothing,
lineage kept, re-import changes nothing; connectors registered as plugins."""

from __future__ import annotations

import json

import pytest

from c360_desktop.core.identity.importing import (
    ConnectorRegistry,
    ImportRefused,
    apply,
    plan,
)
from c360_desktop.core.storage.cache import open_cache
from plugins.directory import DirectoryConnector
from plugins.quickbooks import QuickBooksContactList, QuickBooksIIF

IIF = (
    "!CUST\tNAME\tBADDR1\tBADDR2\tBADDR3\tPHONE1\tEMAIL\tTAXID\tCOMPANYNAME\n"
    "CUST\tBrown, Marcia\t12 Hope Road\tKingston 6\tSt. Andrew\t876-927-1234\tmarcia@example.com\t123-456-789\t\n"
    "CUST\tFong-Yee Hardware\t4 Main Street\tMay Pen\tClarendon\t(876) 986-2211\tsales@fongyee.com.jm\t\t"
    "Fong-Yee Hardware Ltd\n"
    "CUST\tCampbell, Dwayne\t7 Barnett Street\tMontego Bay\tSt. James\t876 952 3456\t\t\t\n"
)


def counts(cache):
    conn = cache.reader()
    return (conn.execute("SELECT count(*) FROM source_record").fetchone()[0],
            conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


def test_connectors_come_as_plugins():
    registry = ConnectorRegistry()
    found = registry.load()
    assert {"quickbooks-iif", "quickbooks-contacts", "directory"} <= set(found)


def test_a_quickbooks_iif_list_imports_with_lineage_and_again_changes_nothing(demo_cache, tmp_path):
    cache = open_cache(demo_cache)
    path = tmp_path / "customers.iif"
    path.write_text(IIF, encoding="utf-8")
    checked = plan(path, QuickBooksIIF())
    assert checked.problems == [] and len(checked.rows) == 3
    before = counts(cache)
    result = apply(cache, checked, "analyst")
    assert (result.inserted, result.updated, result.unchanged) == (3, 0, 0)
    assert counts(cache) == (before[0] + 3, before[1] + 3)  # three records, three outbox entries
    fields, lineage = cache.reader().execute(
        "SELECT fields, lineage FROM source_record WHERE system = 'quickbooks:customers' AND external_id = 'Brown, Marcia'"
    ).fetchone()
    fields, lineage = json.loads(fields), json.loads(lineage)
    assert fields["Bill to"] == "12 Hope Road, Kingston 6, St. Andrew" and fields["Tax ID"] == "123-456-789"
    assert lineage["file"] == "customers.iif" and lineage["row"] == 2 and len(lineage["checksum"]) == 64
    # The same file again: nothing changes, nothing queued.
    again = apply(cache, plan(path, QuickBooksIIF()), "analyst")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert counts(cache) == (before[0] + 3, before[1] + 3)
    # One record edited at the source: that one is updated.
    path.write_text(IIF.replace("876 952 3456", "876 952 9999"), encoding="utf-8")
    edited = apply(cache, plan(path, QuickBooksIIF()), "analyst")
    assert (edited.inserted, edited.updated, edited.unchanged) == (0, 1, 2)
    cache.close()


def test_a_malformed_file_is_reported_by_row_and_imports_nothing_unasked(demo_cache, tmp_path):
    cache = open_cache(demo_cache)
    path = tmp_path / "directory.csv"
    rows = ["Listing ID,Business Name,Telephone,Address,Parish,Category",
            "D1,Irie Bakery,876-555-0101,3 King St,Kingston,Bakery",
            "D2,Blue Mahoe Tours,call us,5 Main St,St. Ann,Tours",  # bad phone
            "D3,Yard Style Jerk,876-555-0103,9 Hope Rd,St. Andrew,Food",
            "D3,Yard Style Jerk Centre,876-555-0113,9 Hope Rd,St. Andrew,Food",  # repeated id
            ",No Id Ltd,876-555-0199,1 Nowhere,Clarendon,Misc",  # no id
            "D6,Café Mocha,876-555-0106,2 Duke St,Kingston,Café"]
    path.write_bytes("\n".join(rows).encode("cp1252"))  # not UTF-8: "Café" is one byte
    checked = plan(path, DirectoryConnector())
    text = [str(p) for p in checked.problems]
    assert "row 3, column 'Telephone': 'call us' is not a phone number" in text
    assert any(t.startswith("row 4:") and "'D3'" in t and "row(s) 5" in t for t in text)
    assert any(t.startswith("row 6:") and "no id" in t for t in text)
    assert any(t.startswith("row 7:") and "not UTF-8" in t for t in text)
    before = counts(cache)
    with pytest.raises(ImportRefused, match="nothing imported"):
        apply(cache, checked, "analyst")
    assert counts(cache) == before  # nothing half-written
    result = apply(cache, checked, "analyst", skip_bad_rows=True)
    assert result.inserted == 1 and result.skipped == 5  # only D1 was clean
    assert counts(cache)[0] == before[0] + 1

    # A missing column is the file's problem: it cannot be skipped.
    path.write_text("Listing ID,Business Name,Parish\nD1,Irie Bakery,Kingston\n", encoding="utf-8")
    missing = plan(path, DirectoryConnector())
    assert [str(p) for p in missing.file_problems][0].startswith("file: no column 'Telephone', 'Address'")
    with pytest.raises(ImportRefused):
        apply(cache, missing, "analyst", skip_bad_rows=True)
    cache.close()


def test_workbooks_with_title_lines_and_merged_cells(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Customer Contact List"])
    ws.append(["Blue Mahoe Trading Ltd"])
    ws.append([])
    ws.append(["Customer", "Phone Numbers", "Email", "Billing Address"])
    ws.append(["Brown, Marcia", "876-927-1234", "marcia@example.com", "12 Hope Road, Kingston 6, St. Andrew"])
    ws.append(["Campbell, Dwayne", "876 952 3456", "", "7 Barnett Street, Montego Bay, St. James"])
    path = tmp_path / "contacts.xlsx"
    wb.save(path)
    checked = plan(path, QuickBooksContactList())
    assert checked.problems == [] and [r[1] for r in checked.rows] == ["Brown, Marcia", "Campbell, Dwayne"]
    assert checked.rows[0][0] == 5 and checked.sheet == ws.title
    ws.merge_cells("B6:C6")
    wb.save(path)
    merged = plan(path, QuickBooksContactList())
    assert any(p.row == 6 and "B6:C6 are merged" in p.message for p in merged.problems)


def test_cli_import(demo_cache, tmp_path, capsys):
    from c360_desktop.cli import main

    path = tmp_path / "customers.iif"
    path.write_text(IIF, encoding="utf-8")
    assert main(["import", str(path), "--cache", str(demo_cache)]) == 0
    err = capsys.readouterr().err
    assert "3 new, 0 updated, 0 unchanged" in err and "3 new customers" in err  # nobody in the demo is them
    assert main(["import", str(path), "--cache", str(demo_cache)]) == 0
    assert "0 new, 0 updated, 3 unchanged" in capsys.readouterr().err
    sheet = tmp_path / "leads.csv"
    sheet.write_text("Ref;Full name;Mobile\nL1;Ann Lee;876-555-0101\nL1;Bob Lee;876-555-0102\n", encoding="utf-8")
    assert main(["import", str(sheet), "--cache", str(demo_cache), "--id-column", "Ref",
                 "--map", "Full name=Name", "--map", "Mobile=Phone"]) == 2
    err = capsys.readouterr().err
    assert "row 2: id 'L1' is also on row(s) 3" in err and "--skip-bad-rows" in err


def test_a_quickbooks_sales_by_customer_detail_report(tmp_path):
    from plugins.quickbooks import QuickBooksSalesDetail

    report = (
        "Sales by Customer Detail\n"
        "Blue Mahoe Trading Ltd\n"
        "January - November 2026\n"
        "\n"
        ",Date,Transaction Type,Num,Product/Service,Qty,Sales Price,Amount,Balance\n"
        "\"Brown, Marcia\",,,,,,,,\n"
        ",03/02/2026,Invoice,1001,Cement 42.5kg,40,\"1,250.00\",\"50,000.00\",\"50,000.00\"\n"
        ",15/09/2026,Invoice,1044,Rebar 12mm,10,900.00,\"9,000.00\",\"59,000.00\"\n"
        "\"Total for Brown, Marcia\",,,,,,,\"59,000.00\",\n"
        "Fong-Yee Hardware,,,,,,,,\n"
        ",20/10/2026,Sales Receipt,2001,Paint 1gal,5,\"3,000.00\",\"15,000.00\",\"15,000.00\"\n"
        "Total for Fong-Yee Hardware,,,,,,,\"15,000.00\",\n"
        "TOTAL,,,,,,,\"74,000.00\",\n")
    path = tmp_path / "Sales by Customer Detail.csv"
    path.write_text(report, encoding="utf-8")
    assert ConnectorRegistry().load() and "quickbooks-sales" in ConnectorRegistry().load()
    checked = plan(path, QuickBooksSalesDetail())
    assert checked.problems == []
    got = {ext: fields for _n, ext, fields in checked.rows}
    assert got["Brown, Marcia"] == {"Customer": "Brown, Marcia", "Transactions": "2", "Sales total": "59000.00",
                                    "Last sale": "2026-09-15"}
    assert got["Fong-Yee Hardware"]["Sales total"] == "15000.00"
    assert [n for n, _e, _f in checked.rows] == [6, 10]  # each record points at its customer's line
