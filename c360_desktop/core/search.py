"""Customer search as you type: names (with typos), business names, phones in any format,
e-mails and TRNs, answered from the cache's full-text index.

A query is split into tokens the way the index splits names (``search_index.name_tokens``).
Digit runs are phone or TRN fragments and match as prefixes of the indexed 11-, 10- and 7-digit
phone tokens and the TRN. Each word also matches the vocabulary terms within one or two edits
(rapidfuzz over the in-memory name vocabulary), so "Cambell" finds "Campbell". The last word is
matched as a prefix while the user is still typing it. Candidates are ranked by the full-text
score and re-ranked by how closely the whole name matches what was typed.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from c360_desktop.core.search_index import fold, name_tokens
from c360_desktop.core.storage.cache import Cache

_PHONE_CHARS = re.compile(r"[\s\-\.\(\)\+/]")
_CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class SearchHit:
    customer_id: str
    display_name: str
    kind: str
    parish: str | None
    town: str | None
    phone: str | None
    email: str | None
    segment: str | None
    last_purchase: str | None
    lifetime_spend_cents: int
    score: float = 0.0


class CustomerSearch:
    """Search over one cache. Safe to call from any thread (each uses its own connection)."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._vocab: list[str] = []
        self._vocab_generation: str | None = None
        self._lock = threading.Lock()

    # -- vocabulary for typo correction -------------------------------------------------
    def _vocabulary(self, conn: sqlite3.Connection) -> list[str]:
        row = conn.execute("SELECT value FROM cache_meta WHERE key = 'search_generation'").fetchone()
        generation = row[0] if row else None
        with self._lock:
            if generation != self._vocab_generation:
                self._vocab = [t for (t,) in conn.execute("SELECT term FROM search_vocab ORDER BY docs DESC")]
                self._vocab_generation = generation
            return self._vocab

    def _variants(self, token: str, vocab: list[str]) -> list[str]:
        """Vocabulary terms within one edit (short words) or two edits (longer words). Edits are
        counted as typists make them (OSA distance: a swapped pair of letters is one edit)."""
        if len(token) < 4:
            return []
        max_edits = 1 if len(token) < 7 else 2
        found = process.extract(token, vocab, scorer=OSA.distance,
                                score_cutoff=max_edits, limit=12)
        return [term for term, _dist, _i in found if term != token]

    # -- the query ------------------------------------------------------------------------
    def match_expression(self, query: str, conn: sqlite3.Connection | None = None,
                         relaxed: bool = False) -> str | None:
        """The FTS5 MATCH expression for a query, or None when there is nothing to look for.
        Strict: every word must match (itself, a prefix, or a near spelling). Relaxed: any word."""
        conn = conn or self._cache.reader()
        still_typing = not query[-1:].isspace()  # a trailing space means the last word is done
        query = query.strip()
        squeezed = _PHONE_CHARS.sub("", query)
        if len(squeezed) >= 3 and squeezed.isdigit():
            return f'"{squeezed}"*'
        if "@" in query:
            parts = fold(query).split()
            if not parts:
                return None
            return " AND ".join(f'"{p}"' for p in parts[:-1]) + (" AND " if len(parts) > 1 else "") + f'"{parts[-1]}"*'
        tokens = name_tokens(query)
        if not tokens:
            return None
        vocab = self._vocabulary(conn)
        groups = []
        for i, tok in enumerate(tokens):
            last = i == len(tokens) - 1 and still_typing
            options = [f'"{tok}"*' if last or tok.isdigit() else f'"{tok}"']
            if not tok.isdigit():
                options += [f'"{v}"' for v in self._variants(tok, vocab)]
            groups.append("(" + " OR ".join(options) + ")" if len(options) > 1 else options[0])
        return (" OR " if relaxed else " AND ").join(groups)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Customers matching ``query``, best first. A trailing space ends the last word."""
        raw = query or ""
        query = raw.strip()
        if not query:
            return []
        conn = self._cache.reader()
        expr = self.match_expression(raw, conn)
        if expr is None:
            return []
        keys = self._candidates(conn, expr)
        if not keys:  # e.g. a word mangled beyond correction: any-word match, ranked by closeness
            relaxed = self.match_expression(raw, conn, relaxed=True)
            keys = self._candidates(conn, relaxed) if relaxed and relaxed != expr else []
        if not keys:
            return []
        hits = self._rows(conn, keys)
        typed = fold(query)
        is_text = not _PHONE_CHARS.sub("", query).isdigit() and "@" not in query
        rank = {k: i for i, k in enumerate(keys)}
        scored = []
        for key, hit in hits:
            closeness = fuzz.WRatio(typed, fold(hit.display_name)) if is_text else 100.0
            scored.append((closeness - 0.01 * rank[key], hit))
        scored.sort(key=lambda s: (-s[0], -s[1].lifetime_spend_cents))
        return [replace(hit, score=round(score, 2)) for score, hit in scored[:limit]]

    @staticmethod
    def _candidates(conn: sqlite3.Connection, expr: str) -> list[int]:
        return [r[0] for r in conn.execute(
            "SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? "
            "ORDER BY bm25(customer_fts, 10.0, 1.0) LIMIT ?", (expr, _CANDIDATES))]

    def _rows(self, conn: sqlite3.Connection, keys: list[int]) -> list[tuple[int, SearchHit]]:
        marks = ",".join("?" * len(keys))
        sql = f"""
            SELECT c.search_key, c.id, c.display_name, c.kind, c.parish, c.town, c.primary_phone,
                   c.primary_email, s.name, m.last_purchase_at, coalesce(m.lifetime_spend_cents, 0)
            FROM customer c
            LEFT JOIN segment s ON s.id = c.segment_id
            LEFT JOIN customer_summary m ON m.customer_id = c.id
            WHERE c.search_key IN ({marks}) AND c.deleted_at IS NULL"""
        return [(r[0], SearchHit(*r[1:])) for r in conn.execute(sql, keys)]
