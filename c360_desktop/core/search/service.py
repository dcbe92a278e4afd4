"""Customer search as you type: names (with typos), business names, phones in any format,
e-mails and TRNs, answered from the cache's full-text index.

A query is split into words and each is put in the form the index stores (``search_index.canonical``).
Digit runs are phone or TRN fragments and match as prefixes of the indexed 11-, 10- and 7-digit
phone tokens and the TRN. Each word also matches the vocabulary terms within one or two edits
(rapidfuzz over the in-memory name vocabulary), so "Cambell" finds "Campbell". The last word is
matched as a prefix while the user is still typing it. Candidates are ranked by the full-text
score and re-ranked by how closely the whole name matches what was typed.

For a user who may not see TRNs, a digit word that matches a customer only through the TRN
(and through none of the customer's phones) drops that customer: searching by a TRN then finds
nothing and tells nothing about whose it is.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from c360_desktop.core.search.index import SYNONYMS, canonical, fold, name_tokens, phone_tokens
from c360_desktop.core.security import Permission, User, can
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.validation import InvalidValue, normalize_email

_PHONE_CHARS = re.compile(r"[\s\-\.\(\)\+/]")
_CANDIDATES = 2_000


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

    def __init__(self, cache: Cache, user: Callable[[], User] | None = None) -> None:
        self._cache = cache
        self._user = user
        self._terms: list[str] = []
        self._docs: dict[str, int] = {}
        self._vocab_generation: str | None = None
        self._lock = threading.Lock()

    # -- vocabulary for typo correction -------------------------------------------------
    def _vocabulary(self, conn: sqlite3.Connection) -> tuple[list[str], dict[str, int]]:
        """Name terms with the number of customers carrying each, reloaded when the index changes."""
        row = conn.execute("SELECT value FROM cache_meta WHERE key = 'search_generation'").fetchone()
        generation = row[0] if row else None
        with self._lock:
            if generation != self._vocab_generation:
                self._docs = dict(conn.execute("SELECT term, docs FROM search_vocab ORDER BY docs DESC"))
                self._terms = list(self._docs)
                self._vocab_generation = generation
            return self._terms, self._docs

    def _variants(self, token: str, terms: list[str], docs: dict[str, int]) -> list[str]:
        """Likely intended spellings: vocabulary terms within one edit (short words) or two edits
        (longer or unknown words), counted as typists make them (Damerau-Levenshtein: a swapped
        pair is one edit).
        A word the vocabulary already knows is taken as meant, unless a neighbour is far more
        common ("Smiht" is a typo; "Mark" is not a typo of "Park")."""
        if len(token) < 4:
            return []
        known = docs.get(token, 0)
        max_edits = 2 if not known or len(token) >= 7 else 1
        found = process.extract(token, terms, scorer=DamerauLevenshtein.distance, score_cutoff=max_edits, limit=12)
        out = [term for term, _dist, _i in found if term != token and docs[term] >= 5 * known]
        # Rare neighbours of a common spelling are mostly typos in the data itself: they add
        # other people's records to the candidates and nothing the common spelling lacks.
        floor = max((docs[t] for t in out), default=0) / 100
        return [t for t in out if docs[t] >= floor][:8]

    # -- the query ------------------------------------------------------------------------
    def match_expression(self, query: str, conn: sqlite3.Connection | None = None,
                         relaxed: bool = False) -> str | None:
        """The FTS5 MATCH expression for a query, or None when there is nothing to look for.
        Strict: every word must match (itself, a prefix, or a near spelling). Relaxed: the same,
        leaving out words that match nothing (a word mangled beyond correction)."""
        conn = conn or self._cache.reader()
        still_typing = not query[-1:].isspace()  # a trailing space means the last word is done
        query = query.strip()
        squeezed = _PHONE_CHARS.sub("", query)
        if len(squeezed) >= 3 and squeezed.isdigit():
            return f'"{squeezed}"*'
        if "@" in query:
            parts = fold(query).split()  # every part of the address; the last one as typed so far
            return " AND ".join([*(f'"{p}"' for p in parts[:-1]), f'"{parts[-1]}"*']) if parts else None
        groups = self._groups(query, still_typing, conn)
        if not groups:
            return None
        if relaxed:  # leave out the words that match nothing at all; the rest must all match
            groups = [g for g in groups if conn.execute(
                "SELECT 1 FROM customer_fts WHERE customer_fts MATCH ? LIMIT 1", (g,)).fetchone()]
        return " AND ".join(groups) or None

    def _groups(self, query: str, still_typing: bool, conn: sqlite3.Connection) -> list[str]:
        """One MATCH group per word: the word (a prefix if typed last or digits) or its variants."""
        words = fold(query).split()
        terms, docs = self._vocabulary(conn)
        groups = []
        for i, word in enumerate(words):
            tok = canonical(word)
            if i == len(words) - 1 and still_typing:
                # A word still being typed is a prefix, of itself or of its canonical form:
                # "And" may be the start of "Anderson", "Limit" of "Limited" (indexed as "ltd").
                completions = [c for k, c in SYNONYMS.items() if len(word) >= 3 and k.startswith(word)]
                options = list(dict.fromkeys(f'"{t}"*' for t in (tok, word, *completions) if t))
            elif tok is None:
                continue
            else:
                options = [f'"{tok}"*' if tok.isdigit() else f'"{tok}"']
            if tok and not tok.isdigit():
                options += [f'"{v}"' for v in self._variants(tok, terms, docs)]
            groups.append("(" + " OR ".join(options) + ")" if len(options) > 1 else options[0])
        return groups

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Customers matching ``query``, best first. A trailing space ends the last word."""
        raw = query or ""
        query = raw.strip()
        if not query:
            return []
        conn = self._cache.reader()
        if "@" in query and (keys := self._exact_email(conn, query)):
            return self._rows(conn, keys)
        expr = self.match_expression(raw, conn)
        if expr is None:
            return []
        found = self._candidates(conn, expr)
        if not found:  # e.g. a word mangled beyond correction: match on the others, rank by closeness
            relaxed = self.match_expression(raw, conn, relaxed=True)
            found = self._candidates(conn, relaxed) if relaxed and relaxed != expr else []
        if found and self._user is not None and not can(self._user(), Permission.VIEW_PII):
            found = self._without_trn_matches(conn, query, found)
        if _PHONE_CHARS.sub("", query).isdigit() or "@" in query:
            ranked = [(key, 100.0) for key, _name in found[:limit]]
        else:  # rank every candidate by how closely its name matches what was typed
            typed = " ".join(name_tokens(query)) or fold(query)
            best = process.extract(typed, [name for _key, name in found], scorer=fuzz.WRatio, limit=limit)
            ranked = [(found[i][0], score) for _name, score, i in best]
        score = dict(ranked)
        return [replace(hit, score=round(score[key], 1))
                for key, hit in self._rows_by_key(conn, [key for key, _s in ranked])]

    @staticmethod
    def _without_trn_matches(conn: sqlite3.Connection, query: str, found: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """``found`` less the customers some digit word of ``query`` matches only by their TRN."""
        squeezed = _PHONE_CHARS.sub("", query)
        words = [squeezed] if squeezed.isdigit() else [w for w in fold(query).split() if w.isdigit()]
        if not words:
            return found
        keys = [key for key, _name in found]
        marks = ",".join("?" * len(keys))
        trns = dict(conn.execute(f"SELECT search_key, trn FROM customer WHERE search_key IN ({marks}) "
                                 "AND trn IS NOT NULL", keys).fetchall())
        if not trns:
            return found
        phones: dict[int, list[str]] = {}
        for key, value in conn.execute(
                f"SELECT c.search_key, c.primary_phone FROM customer c WHERE c.search_key IN ({marks}) "
                "UNION ALL SELECT c.search_key, p.value FROM contact_point p JOIN customer c ON c.id = p.customer_id "
                f"WHERE c.search_key IN ({marks}) AND p.deleted_at IS NULL AND p.value NOT LIKE '%@%'",
                keys + keys):
            if value:
                phones.setdefault(key, []).extend(phone_tokens(value))

        def by_trn_only(key: int) -> bool:
            trn = "".join(ch for ch in str(trns.get(key) or "") if ch.isdigit())
            return bool(trn) and any(trn.startswith(w) and not any(t.startswith(w) for t in phones.get(key, ()))
                                     for w in words)

        return [(key, name) for key, name in found if not by_trn_only(key)]

    @staticmethod
    def _exact_email(conn: sqlite3.Connection, query: str) -> list[int]:
        """A complete e-mail address: an indexed lookup, no full-text work at all."""
        try:
            email = normalize_email(query)
        except InvalidValue:
            return []
        return [r[0] for r in conn.execute(
            "SELECT DISTINCT c.search_key FROM contact_point p JOIN customer c ON c.id = p.customer_id "
            "WHERE p.value = ? AND p.deleted_at IS NULL", (email,))]

    @staticmethod
    def _candidates(conn: sqlite3.Connection, expr: str) -> list[tuple[int, str]]:
        """Up to _CANDIDATES matches with their indexed name text, in index order. No BM25: its
        IDF for a broad prefix (say "co"*) walks that whole posting list, which costs tens of
        milliseconds at a million customers, and the ranking by name closeness does better."""
        return conn.execute(
            "SELECT rowid, name FROM customer_fts WHERE customer_fts MATCH ? LIMIT ?",
            (expr, _CANDIDATES)).fetchall()

    def _rows(self, conn: sqlite3.Connection, keys: list[int]) -> list[SearchHit]:
        return [hit for _key, hit in self._rows_by_key(conn, keys)]

    @staticmethod
    def _rows_by_key(conn: sqlite3.Connection, keys: list[int]) -> list[tuple[int, SearchHit]]:
        """Display rows for index keys, in the order of ``keys``."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        sql = f"""
            SELECT c.search_key, c.id, c.display_name, c.kind, c.parish, c.town, c.primary_phone,
                   c.primary_email, s.name, m.last_purchase_at, coalesce(m.lifetime_spend_cents, 0)
            FROM customer c
            LEFT JOIN segment s ON s.id = c.segment_id
            LEFT JOIN customer_summary m ON m.customer_id = c.id
            WHERE c.search_key IN ({marks}) AND c.deleted_at IS NULL"""
        rows = {r[0]: SearchHit(*r[1:]) for r in conn.execute(sql, keys)}
        return [(key, rows[key]) for key in keys if key in rows]
