"""A pseudonymised copy of a cache, for analysis and testing away from personal data.

Identifiers become consistent tokens: HMAC-SHA256 under the export's key, so one phone number
is one token wherever it appears, and two exports with the same key agree. Dates of birth keep
their year, and places keep their parish: streets, towns and postal zones are removed, and
positions fall back to the parish centre. Free text (notes, interaction bodies, alert texts,
quality findings), raw source-record copies, merge snapshots, the outbox, the audit trail and
anything else that copies values is emptied. Figures (transactions, scores, segments, leads)
are kept as they are, so reports on the copy give the original's totals.

The copy is built from a snapshot in a private temporary file, and ``VACUUM INTO`` writes the
result, so no free page of the output holds an original value. The copy is marked
``pseudonymised`` in cache_meta, and sync refuses it: its tokens must never reach the centre.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from c360_desktop.core.outputs import Output, OutputKind, check_outputs
from c360_desktop.core.private import create_private
from c360_desktop.core.progress import Progress
from c360_desktop.core.timestamps import db_now

CACHE = OutputKind("C360 cache", "SQLite format 3")

# (kind of token, SQL): every statement runs in the copy. tok(kind, value) is NULL for NULL.
_STATEMENTS: tuple[tuple[str, str], ...] = (
    ("customers", """UPDATE customer SET
        given_name = tok('given', given_name), family_name = tok('family', family_name),
        business_name = tok('business', business_name),
        display_name = CASE WHEN kind = 'business' THEN 'Business ' || tok('business', business_name)
                            ELSE 'Person ' || tok('customer', id) END,
        trn = tok('trn', trn), date_of_birth = CASE WHEN date_of_birth IS NULL THEN NULL
                                                    ELSE substr(date_of_birth, 1, 4) || '-01-01' END,
        primary_phone = tok('phone', primary_phone), primary_email = mail(primary_email),
        street = NULL, town = NULL, postal_zone = NULL, updated_by = tok('user', updated_by)"""),
    ("addresses", "UPDATE customer_address SET street = '', town = '', postal_zone = NULL, "
                  "updated_by = tok('user', updated_by)"),
    ("contact points", """UPDATE contact_point SET value = CASE WHEN kind = 'email' THEN mail(value)
        ELSE tok(CASE WHEN kind = 'phone' THEN 'phone' ELSE kind END, value) END,
        label = NULL, updated_by = tok('user', updated_by)"""),
    ("businesses", """UPDATE business SET name = 'Business ' || tok('business', name), street = NULL,
        town = NULL, phone = tok('phone', phone), email = mail(email), website = NULL,
        updated_by = tok('user', updated_by)"""),
    ("social profiles", "UPDATE social_profile SET handle = tok('handle', handle), url = NULL, "
                        "updated_by = tok('user', updated_by)"),
    ("source records", "UPDATE source_record SET external_id = tok('external', external_id), fields = '{}', "
                       "lineage = NULL, updated_by = tok('user', updated_by)"),
    ("interactions", "UPDATE interaction SET subject = NULL, body = NULL, updated_by = tok('user', updated_by)"),
    ("notes", "UPDATE note SET body = '(removed in the pseudonymised copy)', author = tok('user', author), "
              "updated_by = tok('user', updated_by)"),
    ("sales activities", "UPDATE sales_activity SET note = NULL, updated_by = tok('user', updated_by)"),
    ("sales reps", "UPDATE sales_rep SET name = 'Rep ' || tok('rep', id), email = mail(email), "
                   "phone = tok('phone', phone), updated_by = tok('user', updated_by)"),
    ("alerts", "UPDATE alert SET title = type, body = NULL, updated_by = tok('user', updated_by)"),
    ("alert deliveries", "UPDATE alert_local SET reasons = '[]', email_to = NULL, email_error = NULL"),
    ("quality issues", "UPDATE quality_issue SET found_value = NULL, suggested_value = NULL, decision_note = NULL, "
                       "assignee = tok('user', assignee), decided_by = tok('user', decided_by), "
                       "updated_by = tok('user', updated_by)"),
    ("merges", "UPDATE merge_ledger SET snapshot = '{}', reason = NULL, user = tok('user', user), "
               "undone_by = tok('user', undone_by)"),
    ("review pairs", "UPDATE review_pair SET decided_by = tok('user', decided_by)"),
    ("identity links", "UPDATE identity_link SET reviewer = tok('user', reviewer), updated_by = tok('user', updated_by)"),
    ("saved reports", "UPDATE saved_report SET owner = tok('user', owner), updated_by = tok('user', updated_by)"),
    ("report notes", "UPDATE report_annotation SET body = '(removed)', author = tok('user', author), "
                     "updated_by = tok('user', updated_by)"),
    ("lead ranks", "UPDATE lead_rank SET customer_name = ''"),
    # Whatever copies values, or is of no use away from this desktop, goes.
    ("copies of values", """DELETE FROM golden_value"""),
    ("outbox", "DELETE FROM outbox"),
    ("conflicts", "DELETE FROM sync_conflict"),
    ("mail", "DELETE FROM report_mail"),
    ("dead letters", "DELETE FROM dead_letter"),
    ("recent events", "DELETE FROM recent_event"),
    ("sync cursors", "DELETE FROM sync_state"),
    ("demo truth", "DELETE FROM demo_truth_source"),
    ("demo truth", "DELETE FROM demo_truth_person"),
    ("audit trail", "DROP TRIGGER IF EXISTS audit_chain_no_delete"),
    ("audit trail", "DELETE FROM audit_chain"),
    ("audit trail", "DELETE FROM audit_event"),
    ("audit trail", "DELETE FROM sqlite_sequence WHERE name = 'audit_chain'"),
    ("audit trail", "CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain "
                    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"),
    ("cache notes", "DELETE FROM cache_meta WHERE key IN ('reports_copy', 'last_sync_at', 'central_url')"),
)


@dataclass(frozen=True, slots=True)
class Pseudonymised:
    path: Path
    customers: int
    bytes: int


def tokens(key: bytes) -> Callable[[str, object], str | None]:
    """``tok(kind, value)``: a short, stable token for a value of a kind under ``key``."""

    def tok(kind: str, value: object) -> str | None:
        if value is None or value == "":
            return None
        digest = hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode("ascii").lower()

    return tok


def pseudonymise(copy_plain: Callable[[Path], None], out: Path, key: bytes, force: bool = False,
                 progress: Progress | None = None) -> Pseudonymised:
    """Write a pseudonymised copy of a cache to ``out`` (all or nothing). ``copy_plain(path)``
    writes a plain copy of the whole cache to ``path`` (``Cache.export_plain``), which is then
    pseudonymised in place and vacuumed into ``out``."""
    progress = progress or Progress()
    out = Path(out).expanduser().absolute()
    check_outputs([Output(out, CACHE, "--out")], force=force)
    work = out.with_name(out.name + ".pseudonymising")
    for leftover in (work, Path(f"{work}-journal")):
        leftover.unlink(missing_ok=True)
    create_private(work)
    built = out.with_name(out.name + ".building")
    built.unlink(missing_ok=True)
    try:
        progress.update(0.02, "Copying the cache")
        copy_plain(work)  # into the empty private file made above
        conn = sqlite3.connect(work, isolation_level=None)
        try:
            tok = tokens(key)
            conn.create_function("tok", 2, tok, deterministic=True)
            conn.create_function("mail", 1, lambda v: None if not v else f"{tok('email', v)}@example.invalid",
                                 deterministic=True)
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("BEGIN")
            for i, (what, sql) in enumerate(_STATEMENTS):
                progress.update(0.05 + 0.6 * i / len(_STATEMENTS), f"Pseudonymising {what}")
                conn.execute(sql)
            progress.update(0.7, "Rebuilding the search index and places")
            from c360_desktop.core.geo.places import refresh_geo
            from c360_desktop.core.leads.queue import refresh_lead_ranks
            from c360_desktop.core.search.index import index_customers

            index_customers(conn)
            refresh_geo(conn)
            refresh_lead_ranks(conn)
            conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES ('pseudonymised', ?)", (db_now(),))
            conn.execute("COMMIT")
            progress.update(0.85, "Writing the copy without free pages")
            create_private(built)
            built.unlink()
            conn.execute("VACUUM INTO ?", (str(built),))
            (customers,) = conn.execute("SELECT count(*) FROM customer WHERE deleted_at IS NULL").fetchone()
        finally:
            conn.close()
        with contextlib.suppress(OSError):
            built.chmod(0o600)
        built.replace(out)
    finally:
        for leftover in (work, Path(f"{work}-journal"), Path(f"{work}-wal"), Path(f"{work}-shm"), built):
            leftover.unlink(missing_ok=True)
    progress.update(1.0, f"{customers:,} customers pseudonymised")
    return Pseudonymised(out, customers, out.stat().st_size)
