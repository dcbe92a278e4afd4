"""First-party plugin: QuickBooks exports (IIF customer lists, the Customer Contact List report,
Sales by Customer Detail), registered by entry point like any third party's connector (it uses
only c360_desktop.plugin_api)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from c360_desktop.plugin_api import (
    API_VERSION,
    Problem,
    SourceRows,
    TableConnector,
    date_value,
    decode,
    read_table,
)


class QuickBooksContactList(TableConnector):
    """QuickBooks' "Customer Contact List" report exported to CSV or Excel (title lines above
    the header are skipped)."""

    NAME = "quickbooks-contacts"
    SYSTEM = "quickbooks"
    ID_COLUMN = "Customer"
    MAPPING = {"Customer": "Customer", "Phone Numbers": "Phone", "Email": "Email", "Billing Address": "Bill to"}
    PHONES = ("Phone",)
    HEADER_HINT = "Customer"


class QuickBooksSalesDetail:
    """QuickBooks' "Sales by Customer Detail" report (CSV or Excel): a section per customer, its
    sales, and a "Total for ..." line; each customer becomes one record with their number of
    sales, total and last sale date."""

    NAME: ClassVar[str] = "quickbooks-sales"
    SYSTEM: ClassVar[str] = "quickbooks"

    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() in (".csv", ".xlsx", ".xlsm") and "sales" in path.name.casefold()

    def read(self, path: Path, data: bytes) -> SourceRows:
        out = SourceRows(self.SYSTEM, None)
        sheet, header, rows = read_table(path, data, out.problems, "Transaction Type")
        out.sheet = sheet
        if not header:
            return out
        if "Transaction Type" not in header or "Amount" not in header:
            out.problems.append(Problem(None, None, "no 'Transaction Type' and 'Amount' columns: this is not a "
                                                    "Sales by Customer Detail report"))
            return out
        col_date = header.index("Date") if "Date" in header else None
        col_amount = header.index("Amount")
        current: tuple[int, str] | None = None
        count, total, last = 0, 0.0, ""
        for n, r in rows:
            cells = r + [""] * (len(header) - len(r))
            first, rest = cells[0], cells[1:]
            if first.startswith("Total for "):
                if current is not None:
                    out.rows.append((current[0], current[1], {"Customer": current[1], "Transactions": str(count),
                                                              "Sales total": f"{total:.2f}", "Last sale": last}))
                current = None
                continue
            if first and not any(rest):
                current, count, total, last = (n, first), 0, 0.0, ""
                continue
            if current is None or not any(rest):
                continue
            amount = cells[col_amount].replace(",", "").replace("$", "").strip()
            try:
                total += float(amount) if amount else 0.0
            except ValueError:
                out.problems.append(Problem(n, "Amount", f"{cells[col_amount]!r} is not an amount"))
                continue
            count += 1
            if col_date is not None and cells[col_date]:
                last = max(last, _iso(cells[col_date]))
        return out


def _iso(text: str) -> str:
    return date_value(text) or text


class QuickBooksIIF:
    """A QuickBooks Desktop IIF customer list (tab separated; a !CUST header line, CUST rows)."""

    NAME: ClassVar[str] = "quickbooks-iif"
    SYSTEM: ClassVar[str] = "quickbooks"
    FIELDS: ClassVar[dict[str, str]] = {"NAME": "Customer", "PHONE1": "Phone", "EMAIL": "Email",
                                        "TAXID": "Tax ID", "COMPANYNAME": "Company"}

    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() == ".iif"

    def read(self, path: Path, data: bytes) -> SourceRows:
        out = SourceRows(self.SYSTEM, None, phone_columns=("Phone",))
        text = decode(data, out.problems)
        header: list[str] | None = None
        for n, line in enumerate(text.splitlines(), start=1):
            cells = line.split("\t")
            if cells[0] == "!CUST":
                header = [c.strip().upper() for c in cells]
                if "NAME" not in header:
                    out.problems.append(Problem(n, None, "the !CUST header has no NAME column"))
                    return out
                continue
            if cells[0] != "CUST":
                continue
            if header is None:
                out.problems.append(Problem(n, None, "a CUST line before the !CUST header"))
                continue
            row = dict(zip(header, [c.strip() for c in cells], strict=False))
            fields = {target: row[src] for src, target in self.FIELDS.items() if row.get(src)}
            address = ", ".join(row[k] for k in ("BADDR1", "BADDR2", "BADDR3", "BADDR4") if row.get(k))
            if address:
                fields["Bill to"] = address
            out.rows.append((n, row.get("NAME", ""), fields))
        if header is None and not out.problems:
            out.problems.append(Problem(None, None, "no !CUST header: this is not an IIF customer list"))
        return out


class QuickBooksPlugin:
    NAME = "QuickBooks connectors"
    API_VERSION = API_VERSION
    REQUIRES = ("connectors",)
    ORDER = 10

    def register(self, context: Any) -> None:
        for connector in (QuickBooksIIF(), QuickBooksContactList(), QuickBooksSalesDetail()):
            context.add_connector(connector)
