"""Row ids: UUIDv7 text, in time order, the same from a seeded generator."""

from __future__ import annotations

import uuid

import numpy as np

from c360_desktop.core.ids import id_batch, new_id


def test_a_batch_of_ids_is_uuid7_text_in_time_order_and_repeats_from_a_seed():
    ids = id_batch(np.random.default_rng(5), 1_700_000_000_000, 5_000)
    parsed = [uuid.UUID(i) for i in ids]
    assert [str(u) for u in parsed] == ids  # canonical lower-case text, 36 characters with dashes
    assert {u.version for u in parsed} == {7} and {u.variant for u in parsed} == {uuid.RFC_4122}
    assert [u.int >> 80 for u in parsed] == list(range(1_700_000_000_000, 1_700_000_005_000))  # the ms prefix
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert id_batch(np.random.default_rng(5), 1_700_000_000_000, 5_000) == ids
    # the random tail is the generator's next 10 bytes per id, as before the ids were cut from one text
    tail = np.random.default_rng(5).integers(0, 256, size=(5_000, 10), dtype=np.uint8)
    assert [u.bytes[9:] for u in parsed] == [bytes(t[3:]) for t in tail]
    assert id_batch(np.random.default_rng(5), 0, 0) == []


def test_a_fresh_id_is_uuid7():
    assert uuid.UUID(new_id()).version == 7
