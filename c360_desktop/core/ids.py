"""Row identifiers: time-ordered UUIDs (version 7 layout), created by whoever creates the row.

Time order keeps SQLite's B-tree inserts near the end of the index, which matters at millions of
rows; the random tail keeps ids created offline on different machines from colliding.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def _format(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def new_id() -> str:
    """A fresh UUIDv7 string."""
    ms = time.time_ns() // 1_000_000
    raw = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return _format(bytes(raw))


_HEX = b"0123456789abcdef"


def id_batch(rng: np.random.Generator, start_ms: int, n: int) -> list[str]:
    """``n`` UUIDv7 strings with strictly increasing timestamps from ``start_ms``: deterministic
    for a seeded generator (demo data), vectorised because the demo builds millions of them."""
    import numpy as np  # kept off the app's start-up path

    hex_digits = np.frombuffer(_HEX, dtype=np.uint8)
    raw = np.empty((n, 16), dtype=np.uint8)
    ms = (np.arange(n, dtype=np.uint64) + np.uint64(start_ms)).astype(">u8").view(np.uint8)
    raw[:, :6] = ms.reshape(n, 8)[:, 2:]
    raw[:, 6:] = rng.integers(0, 256, size=(n, 10), dtype=np.uint8)
    raw[:, 6] = 0x70 | (raw[:, 6] & 0x0F)
    raw[:, 8] = 0x80 | (raw[:, 8] & 0x3F)
    # the text too is put together in arrays (hex digits, dashes), then cut into ids: half the
    # time of formatting each id, which matters when a million scores are written
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2], digits[:, 1::2] = hex_digits[raw >> 4], hex_digits[raw & 0x0F]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for start, stop, first in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        text[:, start:stop] = digits[:, first:first + stop - start]
    joined = text.tobytes().decode("ascii")
    return [joined[i:i + 36] for i in range(0, 36 * n, 36)]


def stable_id(namespace: str, key: str) -> str:
    """A deterministic id for reference rows (parishes, segments) so every cache agrees on them."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"c360:{namespace}:{key}"))
