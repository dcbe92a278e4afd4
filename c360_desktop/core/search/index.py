"""The customer full-text index: how names, phones, e-mails, TRNs and addresses become tokens.

Indexing and querying share ``fold`` and ``canonical`` so both sides agree on what a token is
("Ltd" and "Limited" are one token, honorifics are dropped, accents folded). Phones are indexed as
11-, 10- and 7-digit tokens so any way of writing a number finds it. Name tokens are also counted
in ``search_vocab``, the vocabulary that typo correction draws on.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from c360_desktop.core import jamaica
from c360_desktop.core.progress import Progress

FTS_DDL = (
    "CREATE VIRTUAL TABLE customer_fts USING fts5("
    "name, other, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3', detail = column)"
)
VOCAB_DDL = "CREATE TABLE search_vocab (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"

SYNONYMS = {
    "limited": "ltd",
    "company": "co",
    "incorporated": "inc",
    "corporation": "corp",
    "brothers": "bros",
    "saint": "st",
    "street": "st",
}
STOP_WORDS = {"mr", "mrs", "ms", "miss", "dr", "rev", "and", "the", "of"}
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_WORD = re.compile(r"[\W_]+")
# Scripts written without spaces between words: each character is a token of its own, so
# 李小龙 is found by 李小龙, 小龙 or 李 (FTS5's unicode61 would keep the whole run as one token).
_UNSPACED = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF),
             (0x20000, 0x2FA1F))


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces; letters of other scripts (Arabic,
    Chinese, Cyrillic...) kept, Chinese, Japanese and Korean split into characters. Latin letters
    with no plain form (ø, ß) are dropped, as they always were, so indexes stay as they were."""
    text = text or ""
    if text.isascii():
        return _NON_ALNUM.sub(" ", text.lower().replace("'", "")).strip()
    kept = []
    for ch in unicodedata.normalize("NFC", text):  # composed: a Hangul syllable stays one character
        if ch.isascii():
            kept.append(ch)
        elif any(lo <= ord(ch) <= hi for lo, hi in _UNSPACED):
            kept.append(f" {ch} ")
        else:
            for part in unicodedata.normalize("NFKD", ch):  # é -> e + accent; ﬁ -> fi
                if part.isascii() or (part.isalnum() and not unicodedata.name(part, "").startswith("LATIN")):
                    kept.append(part)  # accents (Mn are not alphanumeric), symbols and ø are dropped
    return _NON_WORD.sub(" ", "".join(kept).lower().replace("'", "")).strip()


def canonical(word: str) -> str | None:
    """A folded word as the index stores it ("limited" -> "ltd"), or None for a stop word."""
    tok = SYNONYMS.get(word, word)
    return None if tok in STOP_WORDS else tok


def name_tokens(text: str) -> list[str]:
    """Tokens of a personal or business name, as the index stores them."""
    return [t for t in map(canonical, fold(text).split()) if t]


def phone_tokens(e164: str) -> list[str]:
    digits = re.sub(r"\D", "", e164 or "")
    if len(digits) == 11 and digits.startswith("1"):
        return [digits, digits[1:], digits[4:]]
    return [digits] if digits else []


_CUSTOMER_COLUMNS = (
    "id, search_key, display_name, given_name, family_name, business_name, trn, street, town, "
    "parish, primary_phone, primary_email, deleted_at"
)


def _documents(
    conn: sqlite3.Connection, rows: Sequence[tuple], extra: dict[str, list[str]]
) -> Iterable[tuple[int, str, str]]:
    parish = jamaica.parish_by_code()
    for (cid, key, display, given, family, business, trn, street, town, pcode, phone, email,
         deleted) in rows:
        if deleted is not None:
            continue
        names = " ".join(name_tokens(" ".join(filter(None, (display, given, family, business)))))
        other: list[str] = []
        for value in [phone, email, *extra.get(cid, ())]:
            if not value:
                continue
            if "@" in value:
                other.append(fold(value))
            else:
                other.extend(phone_tokens(value))
        if trn:
            other.append(trn)
        p = parish.get(pcode or "")
        other.extend(fold(x) for x in (street, town, p.name if p else None) if x)
        yield key, names, " ".join(dict.fromkeys(other))


def index_customers(
    conn: sqlite3.Connection, customer_ids: Sequence[str] | None = None,
    progress: Progress | None = None, batch: int = 20_000,
) -> int:
    """(Re)index the given customers, or all of them, inside the caller's transaction."""
    if customer_ids is None:
        conn.execute("DELETE FROM customer_fts")
        conn.execute("DELETE FROM search_vocab")
        total = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
        # Clear, then assign: keys handed out one by one earlier could collide with rowids
        # part-way through a single UPDATE.
        conn.execute("UPDATE customer SET search_key = NULL WHERE search_key IS NOT NULL AND search_key != rowid")
        conn.execute("UPDATE customer SET search_key = rowid WHERE search_key IS NULL")
        done, last = 0, -1
        while True:
            rows = conn.execute(
                f"SELECT {_CUSTOMER_COLUMNS} FROM customer WHERE search_key > ? "
                "ORDER BY search_key LIMIT ?", (last, batch),
            ).fetchall()
            if not rows:
                return done
            _write(conn, rows, fresh=True)
            done += len(rows)
            last = rows[-1][1]
            if progress is not None:
                progress.update(done / max(total, 1), f"Indexed {done:,} of {total:,} customers")
    count = 0
    for i in range(0, len(customer_ids), 500):
        part = list(customer_ids[i : i + 500])
        marks = ",".join("?" * len(part))
        _assign_keys(conn, part)
        rows = conn.execute(
            f"SELECT {_CUSTOMER_COLUMNS} FROM customer WHERE id IN ({marks})", part
        ).fetchall()
        _write(conn, rows, fresh=False)
        count += len(rows)
    return count


def _assign_keys(conn: sqlite3.Connection, ids: list[str]) -> None:
    marks = ",".join("?" * len(ids))
    missing = [r[0] for r in conn.execute(
        f"SELECT id FROM customer WHERE id IN ({marks}) AND search_key IS NULL", ids)]
    if not missing:
        return
    start = conn.execute("SELECT coalesce(max(search_key), 0) FROM customer").fetchone()[0]
    conn.executemany(
        "UPDATE customer SET search_key = ? WHERE id = ?",
        [(start + i + 1, cid) for i, cid in enumerate(missing)],
    )


def _write(conn: sqlite3.Connection, rows: Sequence[tuple], fresh: bool) -> None:
    ids = [r[0] for r in rows]
    extra: dict[str, list[str]] = {}
    marks = ",".join("?" * len(ids))
    for cid, value in conn.execute(
        f"SELECT customer_id, value FROM contact_point WHERE customer_id IN ({marks}) "
        "AND deleted_at IS NULL", ids,
    ):
        extra.setdefault(cid, []).append(value)
    vocab = Counter[str]() if fresh else _remove_documents(conn, [r[1] for r in rows])
    docs = list(_documents(conn, rows, extra))
    conn.executemany("INSERT INTO customer_fts (rowid, name, other) VALUES (?, ?, ?)", docs)
    for _, names, _ in docs:
        vocab.update(set(names.split()))
    _apply_vocabulary(conn, vocab)


def _remove_documents(conn: sqlite3.Connection, keys: list[int]) -> Counter[str]:
    """Delete index rows; returns the vocabulary change (negative counts) their names make."""
    vocab: Counter[str] = Counter()
    marks = ",".join("?" * len(keys))
    for (names,) in conn.execute(f"SELECT name FROM customer_fts WHERE rowid IN ({marks})", keys):
        vocab.subtract(set(names.split()))
    conn.execute(f"DELETE FROM customer_fts WHERE rowid IN ({marks})", keys)
    return vocab


def _apply_vocabulary(conn: sqlite3.Connection, vocab: Counter[str]) -> None:
    """Add a vocabulary change, drop terms no customer carries, and tell searchers to reload."""
    conn.executemany(
        "INSERT INTO search_vocab (term, docs) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET docs = docs + excluded.docs",
        [(t, n) for t, n in vocab.items() if n and not t.isdigit()],
    )
    conn.execute("DELETE FROM search_vocab WHERE docs <= 0")
    conn.execute(
        "INSERT INTO cache_meta (key, value) VALUES ('search_generation', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def forget_customers(conn: sqlite3.Connection, customer_ids: Sequence[str]) -> None:
    """Take customers out of the index and the vocabulary (before they leave the cache)."""
    for i in range(0, len(customer_ids), 500):
        part = list(customer_ids[i : i + 500])
        marks = ",".join("?" * len(part))
        keys = [r[0] for r in conn.execute(
            f"SELECT search_key FROM customer WHERE id IN ({marks}) AND search_key IS NOT NULL", part)]
        if keys:
            _apply_vocabulary(conn, _remove_documents(conn, keys))
