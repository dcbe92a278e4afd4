"""PrivacyService: pseudonymised copies of the open cache, for those allowed to export, and the
data-subject requests (register, access exports, erasure) for those who handle them; each step
is audited."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path

from c360_desktop.core import logs
from c360_desktop.core.audit import log as audit_log
from c360_desktop.core.ids import new_id
from c360_desktop.core.privacy import erasure, requests
from c360_desktop.core.privacy.pseudonymise import Pseudonymised, pseudonymise
from c360_desktop.core.privacy.requests import SubjectRequest
from c360_desktop.core.profile.service import queue_change
from c360_desktop.core.progress import Progress
from c360_desktop.core.security import Permission, Refused, User, can, refusal, require_fresh
from c360_desktop.core.storage.cache import DB_ERRORS, Cache
from c360_desktop.core.timestamps import db_now


class PrivacyError(Exception):
    """The copy could not be made; the message is meant for the user."""


class PrivacyRefused(Refused):
    """The user may not do this; the message says why."""


class PrivacyService:
    def __init__(self, cache: Cache, user: Callable[[], User]) -> None:
        self._cache = cache
        self._user = user

    def pseudonymised_copy(self, out: Path, key: bytes | None = None, force: bool = False,
                           progress: Progress | None = None) -> Pseudonymised:
        """Write a pseudonymised copy to ``out``. ``key`` (at least 16 bytes) makes tokens agree
        across exports; without it each export gets a fresh random key, which is not kept."""
        user = self._user()
        if not can(user, Permission.EXPORT):
            audit_log.record_now(self._cache, user.name, "export.refused", "cache", None, {"pseudonymised": True})
            raise PrivacyRefused(refusal(user, Permission.EXPORT))
        if key is not None and len(key) < 16:
            raise ValueError("the token key must be at least 16 bytes")
        logs.known_secret(key)
        try:
            made = pseudonymise(self._cache.export_plain, out, key or secrets.token_bytes(32), force, progress)
        except DB_ERRORS as exc:
            raise PrivacyError(f"could not write the pseudonymised copy {out} ({exc}); nothing was written") from None
        audit_log.record_now(self._cache, user.name, "export.pseudonymised", "cache", None,
                             {"file": made.path.name, "customers": made.customers, "same_key": key is not None})
        return made

    # ---- data-subject requests -----------------------------------------------------------

    def _steward(self, action: str, customer_id: str | None = None) -> User:
        user = self._user()
        if not can(user, Permission.HANDLE_REQUESTS):
            audit_log.record_now(self._cache, user.name, f"{action}.refused", "customer", customer_id, {})
            raise PrivacyRefused(refusal(user, Permission.HANDLE_REQUESTS))
        return user

    def requests(self, status: str | None = None, customer_id: str | None = None) -> list[SubjectRequest]:
        self._steward("privacy.requests")
        return requests.listing(self._cache.reader(), status, customer_id)

    def request(self, request_id: str) -> SubjectRequest:
        self._steward("privacy.requests")
        return requests.get(self._cache.reader(), request_id)

    def open_request(self, customer_id: str, kind: str, received_on: date, channel: str,
                     detail: str = "") -> SubjectRequest:
        """Record a request received from the customer; it is due ``requests.RESPONSE_DAYS`` later."""
        user = self._steward("privacy.request.open", customer_id)
        with self._cache.writer() as w:
            rid = requests.open_request(w, user.name, customer_id, kind, received_on, channel, detail)
        return requests.get(self._cache.reader(), rid)

    def close_request(self, request_id: str, status: str, outcome: str) -> SubjectRequest:
        user = self._steward("privacy.request.close")
        with self._cache.writer() as w:
            requests.close_request(w, user.name, request_id, status, outcome)
        return requests.get(self._cache.reader(), request_id)

    def access_export(self, request_id: str, out: Path, fmt: str = "json", force: bool = False) -> Path:
        """Everything held about the request's customer, as JSON (for another system) or PDF
        (for the person to read). The file is written whole or not at all; audited."""
        user = self._steward("privacy.access")
        require_fresh(user, "Exporting a person's data")
        req = requests.get(self._cache.reader(), request_id)
        if fmt not in ("json", "pdf"):
            raise PrivacyError(f"format {fmt!r}: choose json or pdf")
        if out.exists() and not force:
            raise PrivacyError(f"{out} exists; choose another name or overwrite it")
        data = requests.gather(self._cache.reader(), req.customer_id)
        manifest = {"request_id": req.id, "kind": req.kind, "customer_id": req.customer_id,
                    "prepared_at": requests.now_text(), "prepared_by": user.name,
                    "sections": {k: (len(v) if isinstance(v, list) else 1) for k, v in data.items()}}
        try:
            (requests.write_pdf if fmt == "pdf" else requests.write_json)(data, out, manifest)
        except OSError as exc:
            raise PrivacyError(f"could not write {out}: {exc.strerror or exc}") from None
        audit_log.record_now(self._cache, user.name, "privacy.access", "customer", req.customer_id,
                             {"request_id": req.id, "format": fmt, "file": out.name})
        return out

    def erase(self, request_id: str, progress: Progress | None = None) -> erasure.Applied:
        """Honour an erasure request: the customer (and those merged into them) and everything
        about them leave this cache now, and the centre and every other cache on the next sync.
        The request is closed as done; it and the tombstone (ids only) are what remain."""
        progress = progress or Progress()
        user = self._steward("privacy.erasure")
        require_fresh(user, "Erasing a customer")
        req = requests.get(self._cache.reader(), request_id)
        if req.kind != "erasure":
            article = "an" if req.kind[0] in "aeiou" else "a"
            raise PrivacyError(f"request {request_id} is {article} {req.kind} request, not an erasure")
        if req.status != "open":
            raise PrivacyError(f"request {request_id} is {req.status} already")
        progress.update(0.05, "Finding everything held about the customer")
        now = db_now()
        with self._cache.writer() as w:
            ids = requests.merged_into(w, req.customer_id)
            tomb = erasure.Tombstone(new_id(), tuple(ids), request_id=request_id, erased_at=now, erased_by=user.name)
            progress.update(0.2, "Removing the customer's records")
            done = erasure.apply(w, tomb, actor=user.name)
            final = erasure.Tombstone(tomb.id, tomb.customer_ids, tuple(done.source_record_ids),
                                      tuple(done.redacted_events), request_id, now, user.name)
            row = final.row()
            w.execute("INSERT INTO erasure (id, row_version, updated_at, updated_by, customer_ids, source_record_ids, "
                      "redacted_events, request_id, erased_at) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
                      (final.id, now, user.name, json.dumps(row["customer_ids"]),
                       json.dumps(row["source_record_ids"]), json.dumps(row["redacted_events"]), request_id, now))
            queue_change(w, "erasure", final.id, "insert", row)
            requests.close_request(w, user.name, request_id, "done",
                                   f"erased: {len(ids)} customer record{'s' if len(ids) != 1 else ''}, "
                                   f"{done.rows_removed:,} rows, {done.mentions_redacted:,} mentions redacted")
        progress.update(0.7, "Clearing the removed records from the file")
        erasure.finish(self._cache)
        progress.update(1.0, "Erased")
        return done
