"""Importing source records: connectors read the files users have, the importer checks every row
first and writes all or nothing.

Connectors are plugins (``c360_desktop.plugins`` entry points needing the "connectors"
capability; a third party registers one the same way): each says which files it reads and turns
them into rows of named fields with an external id. The importer then

- reports every problem by row and column (a missing column, an empty or repeated id, a phone
  number that is not one, merged cells in a workbook, text that is not UTF-8);
- imports nothing while there are problems, unless asked to skip the rows that have them
  (problems with the file as a whole cannot be skipped);
- keeps lineage with every record (file, sheet, row, the file's SHA-256, when);
- changes nothing when the same records are imported again (unchanged records are left alone;
  changed ones are updated and queued for sync, new ones inserted and queued).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from c360_desktop.core.identity.standardise import phone as std_phone
from c360_desktop.core.tables import (
    EXCEL_SUFFIXES,
    MAX_FILE_MB,
    FileRefused,
    Problem,
    check_file,
    decode,
    excel_rows,
    read_csv_rows,
)
from c360_desktop.core.timestamps import db_now

__all__ = ["FileRefused", "Problem", "decode"]  # re-exported: connectors built on this module use them


@dataclass
class SourceRows:
    """What a connector read: rows of fields, each with its id and where it was in the file."""

    system: str
    sheet: str | None
    rows: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)  # (file row, id, fields)
    problems: list[Problem] = field(default_factory=list)
    phone_columns: tuple[str, ...] = ()
    file_columns: dict[str, str] = field(default_factory=dict)  # field name -> the file's column


class Connector(Protocol):
    NAME: ClassVar[str]
    SYSTEM: ClassVar[str]

    def can_read(self, path: Path) -> bool: ...

    def read(self, path: Path, data: bytes) -> SourceRows: ...


class ImportRefused(ValueError):
    """The file has problems and the user has not asked to skip the rows that have them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  … and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"nothing imported: {len(self.problems)} problem(s)\n{shown}{more}")


def read_table(path: Path, data: bytes, problems: list[Problem], header_hint: str | None = None
               ) -> tuple[str | None, list[str], list[tuple[int, list[str]]]]:
    """(sheet, header, rows with their 1-based row numbers) from CSV or Excel. ``header_hint``:
    a column that must be in the header row (report exports have title lines above it)."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        sheet, raw = excel_rows(data, problems)
    else:
        sheet, raw = None, read_csv_rows(decode(data, problems), problems)
    raw = [(n, [c.strip() for c in r]) for n, r in raw]
    raw = [(n, r) for n, r in raw if any(r)]
    if not raw:
        if not any(p.row is None for p in problems):
            problems.append(Problem(None, None, "the file has no rows"))
        return sheet, [], []
    start = 0
    if header_hint:
        for k, (_n, r) in enumerate(raw[:30]):
            if header_hint.casefold() in (c.casefold() for c in r):
                start = k
                break
    header = raw[start][1]
    while header and not header[-1]:  # a trailing delimiter on the header line
        header = header[:-1]
    for n, r in raw[start + 1:]:
        extra = [c for c in r[len(header):] if c]
        if extra:
            problems.append(Problem(n, None, f"{len(header) + len(extra)} cells, but the header has {len(header)}: "
                                             "a value with the delimiter in it needs quotes"))
    return sheet, header, raw[start + 1:]


class TableConnector:
    """CSV or Excel with one record per row and a column mapping (file column -> field name)."""

    NAME: ClassVar[str] = "table"
    SYSTEM: ClassVar[str] = "spreadsheet"
    ID_COLUMN: ClassVar[str] = "ID"
    MAPPING: ClassVar[dict[str, str]] = {}
    PHONES: ClassVar[tuple[str, ...]] = ()
    HEADER_HINT: ClassVar[str | None] = None

    def __init__(self, id_column: str | None = None, mapping: dict[str, str] | None = None,
                 system: str | None = None) -> None:
        self.id_column = id_column or self.ID_COLUMN
        self.mapping = dict(mapping or self.MAPPING)
        self.system = system or self.SYSTEM
        self.named_system = system  # a source system the user named, used as it is

    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm")

    def read(self, path: Path, data: bytes) -> SourceRows:
        phones = self.PHONES or tuple(v for v in self.mapping.values() if v.casefold() in ("phone", "telephone"))
        out = SourceRows(self.system, None, phone_columns=phones,
                         file_columns={name: column for column, name in self.mapping.items()})
        sheet, header, rows = read_table(path, data, out.problems, self.HEADER_HINT or self.id_column)
        out.sheet = sheet
        if not header:
            return out
        wanted = [self.id_column, *self.mapping]
        missing = [c for c in wanted if c not in header]
        if missing:
            out.problems.append(Problem(None, None, f"no column {', '.join(repr(c) for c in missing)} "
                                                    f"(the file has {', '.join(repr(c) for c in header[:20])})"))
            return out
        idx = {c: header.index(c) for c in wanted}
        for n, r in rows:
            cells = r + [""] * (len(header) - len(r))
            fields = {self.mapping[c]: cells[idx[c]] for c in self.mapping if cells[idx[c]]}
            out.rows.append((n, cells[idx[self.id_column]], fields))
        return out




# ---- the importer -------------------------------------------------------------------------------

@dataclass
class ImportPlan:
    path: Path
    system: str
    sheet: str | None
    checksum: str
    rows: list[tuple[int, str, dict[str, str]]]
    problems: list[Problem]
    bad_rows: set[int] = field(default_factory=set)

    @property
    def file_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.row is None]


@dataclass
class ImportResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    record_ids: list[str] = field(default_factory=list)  # inserted or updated source records
    links: Any = None  # what linking them to customers did (linking.LinkResult), when it ran
    # Rows whose id was known but whose name, phone and e-mail all changed: kept as a new record
    # (external id ``id~2``) beside the old one, and the two customers sent to review.
    suspects: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, id, old record, new record
    reviews: int = 0  # suspect pairs queued for review


IDENTITY_FIELDS = ("display_name", "primary_phone", "primary_email")
MAX_SYSTEM = 30  # source_record.system's width


def default_system(connector: Any, path: Path) -> str:
    """The source system an import is filed under unless the user names one: the connector's
    kind and the file's name (``quickbooks:customers``), so two files whose record ids collide
    never update each other's records."""
    named = getattr(connector, "named_system", None)
    if named:
        return check_system(named)
    kind = str(getattr(connector, "system", None) or connector.SYSTEM)
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.casefold()).strip("-") or "file"
    return f"{kind}:{stem}"[:MAX_SYSTEM].rstrip("-")


def check_system(system: str) -> str:
    """A source system name as typed, or ValueError saying what is wrong with it."""
    system = system.strip()
    if not system:
        raise ValueError("the source system needs a name (e.g. quickbooks:head-office)")
    if len(system) > MAX_SYSTEM:
        raise ValueError(f"source system {system!r} is longer than {MAX_SYSTEM} characters")
    if any(not (c.isalnum() or c in "-_:.") for c in system):
        raise ValueError(f"source system {system!r}: use letters, digits and - _ : . only")
    return system


def wholly_different(old: dict[str, Any], new: dict[str, Any], system: str) -> bool:
    """Whether an update replaces a record's identity: every identity field the two versions
    both have (name, phone, e-mail; at least two of them) differs."""
    from c360_desktop.core.identity.golden import canonical

    a, b = canonical(system, old), canonical(system, new)
    shared = [f for f in IDENTITY_FIELDS if a.get(f) and b.get(f)]
    return len(shared) >= 2 and all(a[f].casefold() != b[f].casefold() for f in shared)


def plan(path: Path, connector: Any, system: str | None = None, max_mb: int = MAX_FILE_MB) -> ImportPlan:
    """Read and check a file; nothing is written. ``system`` names the source the records
    belong to (default: ``default_system``). A file ``tables.check_file`` refuses (a folder, a
    device, over ``max_mb``, a zip bomb) raises FileRefused before any of it is read."""
    path = Path(path)
    system = check_system(system) if system else default_system(connector, path)
    check_file(path, max_mb)
    data = path.read_bytes()
    got = connector.read(path, data)
    problems = list(got.problems)
    bad: set[int] = {p.row for p in problems if p.row is not None}
    seen: dict[str, list[int]] = {}
    for n, ext, fields in got.rows:
        if not ext.strip():
            problems.append(Problem(n, None, "no id: every record needs one"))
            bad.add(n)
            continue
        seen.setdefault(ext.strip(), []).append(n)
        for col in got.phone_columns:
            value = fields.get(col, "")
            if value and (not std_phone(value) or re.search(r"[A-Za-z]{3,}", value)):
                problems.append(Problem(n, got.file_columns.get(col, col), f"{value!r} is not a phone number"))
                bad.add(n)
    for ext, rows in seen.items():
        if len(rows) > 1:
            for n in rows:
                problems.append(Problem(n, None, f"id {ext!r} is also on row(s) "
                                                 f"{', '.join(str(r) for r in rows if r != n)}"))
                bad.add(n)
    problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    return ImportPlan(path, system, got.sheet, hashlib.sha256(data).hexdigest(), got.rows, problems, bad)


def apply(cache: Any, import_plan: ImportPlan, user: str, skip_bad_rows: bool = False) -> ImportResult:
    """Write the plan's records (all of them, or, when asked, those without problems)."""
    from c360_desktop.core.profile.service import queue_change

    if import_plan.file_problems or (import_plan.problems and not skip_bad_rows):
        raise ImportRefused(import_plan.problems)
    result = ImportResult()
    stamp = db_now()
    with cache.writer() as conn:
        for n, ext, fields in import_plan.rows:
            if n in import_plan.bad_rows:
                result.skipped += 1
                continue
            ext = ext.strip()
            lineage = {"file": import_plan.path.name, "sheet": import_plan.sheet, "row": n,
                       "checksum": import_plan.checksum, "imported_at": stamp}
            row = conn.execute("SELECT id, fields, row_version FROM source_record WHERE system = ? AND external_id = ?",
                               (import_plan.system, ext)).fetchone()
            if row is None:
                rid = str(uuid.uuid4())
                conn.execute("INSERT INTO source_record (id, row_version, updated_at, updated_by, system, external_id, "
                             "fields, lineage, imported_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                             (rid, stamp, user, import_plan.system, ext, json.dumps(fields), json.dumps(lineage), stamp))
                queue_change(conn, "source_record", rid, "insert", {
                    "id": rid, "system": import_plan.system, "external_id": ext, "fields": fields,
                    "lineage": lineage, "imported_at": stamp, "updated_at": stamp, "updated_by": user})
                result.inserted += 1
                result.record_ids.append(rid)
                continue
            rid, old_json, version = row
            old = json.loads(old_json) if isinstance(old_json, str) else old_json
            if old == fields:
                result.unchanged += 1
                continue
            if wholly_different(old, fields, import_plan.system):
                new_rid, new_ext = _suspect_record(conn, import_plan.system, ext, fields, lineage, stamp, user)
                if new_rid is not None:
                    result.suspects.append((n, ext, rid, new_rid))
                    result.record_ids.append(new_rid)
                    result.inserted += 1
                else:
                    result.unchanged += 1  # this version was kept as a suspect before
                continue
            conn.execute("UPDATE source_record SET fields = ?, lineage = ?, imported_at = ?, updated_by = ? WHERE id = ?",
                         (json.dumps(fields), json.dumps(lineage), stamp, user, rid))
            queue_change(conn, "source_record", rid, "update",
                         {"changes": {"fields": fields, "lineage": lineage, "imported_at": stamp},
                          "base": {"fields": old}, "updated_by": user}, base_row_version=version)
            result.updated += 1
    return result


def _suspect_record(conn: Any, system: str, ext: str, fields: dict[str, Any], lineage: dict[str, Any],
                    stamp: str, user: str) -> tuple[str | None, str]:
    """Keep an update that looks like another person as a record of its own (``ext~2``, ``ext~3``
    ...); (None, id) when a record with these very fields is already kept."""
    from c360_desktop.core.profile.service import queue_change

    k = 2
    while True:
        candidate = f"{ext}~{k}"
        row = conn.execute("SELECT fields FROM source_record WHERE system = ? AND external_id = ?",
                           (system, candidate)).fetchone()
        if row is None:
            break
        if json.loads(row[0]) == fields:
            return None, candidate
        k += 1
    rid = str(uuid.uuid4())
    lineage = {**lineage, "suspect_of": ext}
    conn.execute("INSERT INTO source_record (id, row_version, updated_at, updated_by, system, external_id, "
                 "fields, lineage, imported_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                 (rid, stamp, user, system, candidate, json.dumps(fields), json.dumps(lineage), stamp))
    queue_change(conn, "source_record", rid, "insert", {
        "id": rid, "system": system, "external_id": candidate, "fields": fields, "lineage": lineage,
        "imported_at": stamp, "updated_at": stamp, "updated_by": user})
    return rid, candidate


def import_file(cache: Any, import_plan: ImportPlan, user: str, skip_bad_rows: bool = False,
                link: bool = True) -> ImportResult:
    """Write a checked file's records, then link every source record that has no customer yet
    (these, and any an earlier import left unlinked), and send suspect updates to review.

    With ``link=False`` the records wait unlinked; the next import, or ``link_pending``, links them.
    """
    result = apply(cache, import_plan, user, skip_bad_rows)
    if link:
        before = _pending_reviews(cache)
        result.links = link_pending(cache, user)  # which also queues the suspects (queue_suspects)
        result.reviews = _pending_reviews(cache) - before
    return result


def link_pending(cache: Any, user: str) -> Any:
    """Link the source records imported on this desktop that have no customer yet (those an
    import with ``link=False``, or one interrupted before linking, left behind). Records that
    came unlinked from the centre are another desktop's to link, and are left alone."""
    from c360_desktop.core.identity.linking import link_sources

    ids = [r[0] for r in cache.reader().execute(
        "SELECT DISTINCT o.entity_id FROM outbox o JOIN source_record s ON s.id = o.entity_id "
        "WHERE o.entity = 'source_record' AND o.operation = 'insert' AND s.deleted_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM identity_link l WHERE l.source_record_id = s.id AND l.deleted_at IS NULL) ORDER BY 1")]
    linked = link_sources(cache, user, ids)
    queue_suspects(cache)
    return linked


def _pending_reviews(cache: Any) -> int:
    return int(cache.reader().execute("SELECT count(*) FROM review_pair WHERE status = 'pending'").fetchone()[0])


def queue_suspects(cache: Any) -> int:
    """Put each suspect record imported here (kept apart as ``id~2``: see ``apply``) in the review
    queue with the customer of the record it claimed to update, unless that pair is queued or
    decided already. Read from the records themselves, so a suspect an interrupted import stored
    is queued by the next one."""
    from c360_desktop.core.identity.review import decision_value

    link = ("(SELECT customer_id FROM identity_link l WHERE l.source_record_id = {} AND l.deleted_at IS NULL "
            "LIMIT 1)")
    rows = cache.reader().execute(
        f"SELECT json_extract(s.lineage, '$.suspect_of'), {link.format('o.id')}, {link.format('s.id')} "
        "FROM source_record s JOIN source_record o ON o.system = s.system "
        "AND o.external_id = json_extract(s.lineage, '$.suspect_of') "
        "WHERE json_extract(s.lineage, '$.suspect_of') IS NOT NULL AND s.deleted_at IS NULL AND EXISTS "
        "(SELECT 1 FROM outbox x WHERE x.entity = 'source_record' AND x.operation = 'insert' "
        "AND x.entity_id = s.id) ORDER BY s.id").fetchall()
    queued = 0
    with cache.writer() as w:
        for ext, a, b in rows:
            if a is None or b is None or a == b or w.execute(
                    "SELECT 1 FROM review_pair WHERE (customer_a = ? AND customer_b = ?) OR "
                    "(customer_a = ? AND customer_b = ?)", (a, b, b, a)).fetchone():
                continue
            note = [{"field": "same source id", "bits": 0.0,
                     "note": f"record {ext!r} came back with another name, phone and e-mail"}]
            w.execute("INSERT INTO review_pair (customer_a, customer_b, probability, contributions, value, status) "
                      "VALUES (?, ?, 0.5, ?, ?, 'pending')", (a, b, json.dumps(note), decision_value(0.5)))
            queued += 1
    return queued


# ---- connectors as plugins ----------------------------------------------------------------------

class ConnectorRegistry:
    """A plugin host offering the "connectors" capability (the CLI's; the app's host offers it too)."""

    capabilities = frozenset({"connectors"})

    def __init__(self, services: Any = None) -> None:
        self.services = services
        self.runner = None
        self.connectors: dict[str, Any] = {}

    def add_connector(self, connector: Any) -> None:
        self.connectors[connector.NAME] = connector

    def load(self) -> dict[str, Any]:
        from c360_desktop.plugin_api import load_plugins

        load_plugins(self)  # type: ignore[arg-type]
        return self.connectors

    def for_file(self, path: Path, name: str | None = None) -> Any:
        if name:
            if name not in self.connectors:
                raise ValueError(f"no connector {name!r}; installed: {', '.join(sorted(self.connectors))}")
            return self.connectors[name]
        fitting = [c for c in self.connectors.values() if c.can_read(path)]
        if len(fitting) == 1:
            return fitting[0]
        raise ValueError(f"{path.name}: say which connector reads it (--connector): "
                         f"{', '.join(sorted(c.NAME for c in fitting)) or 'none reads this kind of file'}")



