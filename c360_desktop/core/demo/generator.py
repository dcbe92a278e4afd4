"""The demo dataset: a believable Jamaican distributor, its customers and their history.

Customers live in all 14 parishes, weighted by the 2011 census; they buy with seasonality
(Christmas, back to school, quiet Sundays, shops shut on public holidays), some of them stop
buying (churn) after a run of complaints, and each appears in several source systems with the
differences real systems have (typos, nicknames, phone formats, "Ltd" vs "Limited", old
addresses). The hidden truth (who is who, who churned) is recorded in the ``demo_truth_*``
tables, so identity resolution and churn models have something real to find.

Generation is streamed in chunks of ``CHUNK`` customers with a generator seeded by
(seed, chunk number), so memory stays bounded at any size and a seed always gives the same data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from c360_desktop.core.demo import reference as R
from c360_desktop.core.demo.chunk import CHUNK, Chunk
from c360_desktop.core.demo.variations import slug
from c360_desktop.core.demo.world import DemoSpec, Ids, World
from c360_desktop.core.progress import Progress
from c360_desktop.core.search import index as search_index
from c360_desktop.core.storage.cache import CacheError, ensure_writable_dir, open_cache

__all__ = ["CHUNK", "DemoSpec", "build_demo_cache", "generate", "insert_rows"]

_SYNC = ("id", "row_version", "updated_at", "deleted_at", "updated_by")
Rows = tuple[tuple[str, ...], list[tuple]]


_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": _SYNC + ("kind", "display_name", "given_name", "family_name", "business_name", "trn",
                         "date_of_birth", "street", "town", "parish", "postal_zone", "lat", "lon",
                         "primary_phone", "primary_email", "segment_id", "rep_id", "status", "created_at"),
    "contact_point": _SYNC + ("customer_id", "kind", "value", "label", "is_primary", "source"),
    "customer_address": _SYNC + ("customer_id", "kind", "street", "town", "parish", "postal_zone", "lat", "lon"),
    "source_record": _SYNC + ("system", "external_id", "fields", "lineage", "imported_at"),
    "identity_link": _SYNC + ("source_record_id", "customer_id", "probability", "rule", "reviewer", "decided_at"),
    "transaction": _SYNC + ("customer_id", "occurred_at", "product_id", "quantity", "amount_cents",
                            "gct_cents", "total_cents", "channel", "rep_id", "campaign_id"),
    "interaction": _SYNC + ("customer_id", "occurred_at", "channel", "direction", "subject", "body",
                            "sentiment", "rep_id"),
    "social_profile": _SYNC + ("customer_id", "platform", "handle", "url", "followers"),
    "business": _SYNC + ("name", "category", "street", "town", "parish", "phone", "email", "website", "lat", "lon"),
    "business_customer_relationship": _SYNC + ("business_id", "customer_id", "role"),
    "lead": _SYNC + ("customer_id", "rep_id", "status", "source", "estimated_value_cents", "created_at",
                     "last_contact_at", "campaign_id"),
    "sales_activity": _SYNC + ("customer_id", "lead_id", "rep_id", "kind", "occurred_at", "outcome", "note"),
    "consent": _SYNC + ("customer_id", "channel", "purpose", "status", "recorded_at", "source"),
    "note": _SYNC + ("customer_id", "body", "author", "created_at"),
    "demo_truth_person": ("customer_id", "person_id", "is_duplicate", "churned_at", "purchase_rate_per_year"),
    "demo_truth_source": ("source_record_id", "person_id", "variations"),
    "customer_summary": ("customer_id", "txn_count", "lifetime_spend_cents", "first_purchase_at",
                         "last_purchase_at", "open_leads"),
}


def _reference_rows(world: World) -> dict[str, Rows]:
    """Territories, segments, products, reps, campaigns and their weekly spend."""

    def synced(rid: str, *values: object) -> tuple:
        return (rid, 0, world.as_of_text, None, "demo-data", *values)

    rng = np.random.default_rng([world.spec.seed, 999_999])
    spend_ids = Ids(rng, 10_000_000)
    spend = []
    for c in world.campaigns:
        days = (min(c.end, world.spec.as_of) - c.start).days + 1
        weeks = max(1, (days + 6) // 7)
        share = rng.dirichlet(np.ones(weeks)) * c.budget_cents * rng.uniform(0.8, 1.15)
        for wk, sid in enumerate(spend_ids("campaign_spend", weeks)):
            impressions = int(share[wk] / 100 * rng.uniform(3, 12))
            spend.append(synced(sid, c.id, (c.start + timedelta(days=7 * wk)).isoformat(), c.channel,
                                int(share[wk]), impressions, int(impressions * rng.uniform(0.005, 0.03))))
    return {
        "territory": (_SYNC + ("code", "name", "county"), [
            synced(tid, p.code, p.name, None) for tid, p in zip(world.territory_ids, world.parishes, strict=True)]),
        "segment": (_SYNC + ("name", "description", "method"), [
            synced(world.segment_ids[name], name, desc, "rfm-rule") for name, desc in R.SEGMENTS]),
        "product": (_SYNC + ("sku", "name", "category", "unit_price_cents", "gct_applicable"), [
            synced(pid, *p[:3], p[3] * 100, int(p[4])) for pid, p in zip(world.product_ids, world.products, strict=True)]),
        "sales_rep": (_SYNC + ("name", "email", "phone", "role", "territory_id"), [
            synced(rid, name, f"{slug(name)}@bluemahoe.com.jm", None, "field_rep",
                   world.territory_ids[int(world.rep_parish[i])])
            for i, (rid, name) in enumerate(zip(world.rep_ids, world.rep_names, strict=True))]),
        "marketing_campaign": (_SYNC + ("name", "channel", "start_date", "end_date", "budget_cents", "target_segment_id"), [
            synced(c.id, c.name, c.channel, c.start.isoformat(), c.end.isoformat(), c.budget_cents,
                   world.segment_ids[c.segment] if c.segment else None) for c in world.campaigns]),
        "campaign_spend": (_SYNC + ("campaign_id", "spend_date", "channel", "amount_cents", "impressions", "clicks"), spend),
    }


def generate(spec: DemoSpec) -> Iterator[dict[str, Rows]]:
    """The dataset as a stream of {table: (columns, rows)} batches, reference data first."""
    if spec.customers < 1:
        raise ValueError(f"customers: {spec.customers} must be at least 1")
    world = World(spec)
    yield _reference_rows(world)
    for k, start in enumerate(range(0, spec.customers, CHUNK)):
        rows = Chunk(k, min(CHUNK, spec.customers - start), world).build()
        yield {table: (_COLUMNS[table], data) for table, data in rows.items()}


def insert_rows(conn: sqlite3.Connection, batch: dict[str, Rows]) -> int:
    total = 0
    for table, (columns, data) in batch.items():
        if data:
            cols = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" * len(columns))
            conn.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', data)
            total += len(data)
    return total


def build_demo_cache(out: str | Path, spec: DemoSpec, progress: Progress | None = None,
                     overwrite: bool = False, prepare: bool = False) -> Path:
    """Write the demo dataset to a new cache at ``out``. The cache is built beside it under a
    temporary name and moved into place at the end, so an interrupted build leaves nothing.
    ``prepare``: the app trains the models on it at its first start (core.demo.first_start)."""
    out = Path(out).expanduser().resolve()
    if out.is_dir():
        raise CacheError(f"{out} is a folder; give the path of the cache file to write (e.g. {out / 'demo.db'}).")
    if out.exists() and not overwrite:
        raise CacheError(f"{out} already exists; choose another path (or pass --force to replace it).")
    ensure_writable_dir(out.parent)
    tmp = out.with_name(out.name + ".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    progress = progress or Progress()
    try:
        cache = open_cache(tmp, encrypt=False)  # built plain; encrypted where it is opened for use
        conn = cache.connect()
        try:
            chunks = max(1, -(-spec.customers // CHUNK))
            rows = 0
            for k, batch in enumerate(generate(spec)):
                conn.execute("BEGIN")
                rows += insert_rows(conn, batch)
                conn.execute("COMMIT")
                progress.update(0.85 * k / chunks, f"Generated {min(k * CHUNK, spec.customers):,} of "
                                f"{spec.customers:,} customers ({rows:,} rows)")
            conn.execute("BEGIN")
            search_index.index_customers(conn, progress=_Scaled(progress, 0.85, 0.97))
            from c360_desktop.core.geo.places import refresh_geo
            from c360_desktop.core.leads.queue import refresh_lead_ranks

            refresh_geo(conn)
            refresh_lead_ranks(conn, now=datetime.combine(spec.as_of, datetime.min.time()).replace(hour=18))
            meta = {"demo_seed": spec.seed, "demo_as_of": spec.as_of.isoformat(),
                    "demo_customers": spec.customers, "created_at": datetime.now().isoformat(timespec="seconds"),
                    "last_sync_at": None, "demo_prepare": "wanted" if prepare else None}
            conn.executemany("INSERT OR REPLACE INTO cache_meta (key, value) VALUES (?, ?)",
                             [(key, None if v is None else str(v)) for key, v in meta.items()])
            conn.execute("COMMIT")
            progress.update(0.98, "Optimising the cache")
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
            cache.close()
        tmp.replace(out)
        for suffix in ("-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    except BaseException:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        raise
    progress.update(1.0, f"Demo cache ready: {spec.customers:,} customers")
    return out


class _Scaled(Progress):
    """Maps a sub-task's 0..1 onto a slice of the parent's progress."""

    def __init__(self, parent: Progress, lo: float, hi: float) -> None:
        super().__init__()
        self._parent, self._lo, self._hi = parent, lo, hi

    def update(self, fraction: float, message: str = "") -> None:
        self._parent.update(self._lo + (self._hi - self._lo) * fraction, message)
