"""SQLAlchemy 2 models of the local cache: every synchronised entity of DESIGN.md plus local tables.

Synchronised tables carry ``id`` (UUID string made by whoever creates the row), ``row_version``
(assigned by the central database), ``updated_at``, ``deleted_at`` (soft delete) and
``updated_by``. Timestamps are stored as UTC text 'YYYY-MM-DD HH:MM:SS', so they sort as text.
Money is integer cents (JMD). The migrations in ``migrations/versions`` are the source of truth
for the file layout; ``tests/core/test_storage.py`` checks that they and these models agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Synced:
    """Columns every synchronised table carries."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    row_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(100))


def _fk(table: str, nullable: bool = True) -> Any:
    return mapped_column(String(36), ForeignKey(f"{table}.id"), nullable=nullable)


class Territory(Synced, Base):
    __tablename__ = "territory"
    code: Mapped[str] = mapped_column(String(5), unique=True)  # ISO 3166-2 parish code
    name: Mapped[str] = mapped_column(String(100))
    county: Mapped[str | None] = mapped_column(String(20))


class SalesRep(Synced, Base):
    __tablename__ = "sales_rep"
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default="field_rep")
    territory_id: Mapped[str | None] = _fk("territory")


class Segment(Synced, Base):
    __tablename__ = "segment"
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(20), default="rule")


class Product(Synced, Base):
    __tablename__ = "product"
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    gct_applicable: Mapped[bool] = mapped_column(Boolean, default=True)


class Customer(Synced, Base):
    """The golden record."""

    __tablename__ = "customer"
    # Local, stable integer key of the customer's row in the full-text index (migration 0002).
    search_key: Mapped[int | None] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # individual | business
    display_name: Mapped[str] = mapped_column(String(300))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    business_name: Mapped[str | None] = mapped_column(String(300))
    trn: Mapped[str | None] = mapped_column(String(9))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    street: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    parish: Mapped[str | None] = mapped_column(String(5))
    postal_zone: Mapped[str | None] = mapped_column(String(30))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    primary_phone: Mapped[str | None] = mapped_column(String(20))
    primary_email: Mapped[str | None] = mapped_column(String(200))
    segment_id: Mapped[str | None] = _fk("segment")
    rep_id: Mapped[str | None] = _fk("sales_rep")
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (
        Index("ix_customer_parish", "parish"),
        Index("ix_customer_trn", "trn"),
        Index("ix_customer_primary_phone", "primary_phone"),
        Index("ix_customer_primary_email", "primary_email"),
        Index("ix_customer_rep", "rep_id"),
        Index("ix_customer_segment", "segment_id"),
    )


class ContactPoint(Synced, Base):
    __tablename__ = "contact_point"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    kind: Mapped[str] = mapped_column(String(10))  # phone | email
    value: Mapped[str] = mapped_column(String(200))  # E.164 or lower-case e-mail
    label: Mapped[str | None] = mapped_column(String(30))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(30))
    __table_args__ = (
        Index("ix_contact_point_customer", "customer_id"),
        Index("ix_contact_point_value", "value"),
    )


class CustomerAddress(Synced, Base):
    __tablename__ = "customer_address"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    kind: Mapped[str] = mapped_column(String(20))  # billing | shipping | previous ...
    street: Mapped[str] = mapped_column(String(200))
    town: Mapped[str] = mapped_column(String(100))
    parish: Mapped[str] = mapped_column(String(5))
    postal_zone: Mapped[str | None] = mapped_column(String(30))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (Index("ix_customer_address_customer", "customer_id"),)


class SourceRecord(Synced, Base):
    """One record in a source system, with its raw fields and lineage."""

    __tablename__ = "source_record"
    system: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(100))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # file, sheet, row, checksum
    imported_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("system", "external_id", name="uq_source_record_system_ext"),)


class IdentityLink(Synced, Base):
    __tablename__ = "identity_link"
    source_record_id: Mapped[str] = _fk("source_record", nullable=False)
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    probability: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(100))
    reviewer: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (
        Index("ix_identity_link_customer", "customer_id"),
        Index("ix_identity_link_source", "source_record_id"),
    )


class Transaction(Synced, Base):
    __tablename__ = "transaction"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    product_id: Mapped[str | None] = _fk("product")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # before GCT
    gct_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20))
    rep_id: Mapped[str | None] = _fk("sales_rep")
    campaign_id: Mapped[str | None] = _fk("marketing_campaign")
    __table_args__ = (Index("ix_transaction_customer_time", "customer_id", "occurred_at"),)


class Interaction(Synced, Base):
    """A call, e-mail, visit, social mention or support ticket."""

    __tablename__ = "interaction"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    sentiment: Mapped[float | None] = mapped_column(Float)  # -1 .. 1
    rep_id: Mapped[str | None] = _fk("sales_rep")
    __table_args__ = (Index("ix_interaction_customer_time", "customer_id", "occurred_at"),)


class SocialProfile(Synced, Base):
    __tablename__ = "social_profile"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    platform: Mapped[str] = mapped_column(String(30))
    handle: Mapped[str] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(300))
    followers: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (Index("ix_social_profile_customer", "customer_id"),)


class Business(Synced, Base):
    """A business-directory entry (a PostGIS geography point centrally; lat/lon here)."""

    __tablename__ = "business"
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    parish: Mapped[str | None] = mapped_column(String(5))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (Index("ix_business_parish", "parish"),)


class BusinessCustomerRelationship(Synced, Base):
    __tablename__ = "business_customer_relationship"
    business_id: Mapped[str] = _fk("business", nullable=False)
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    role: Mapped[str] = mapped_column(String(30))  # self | owner | contact
    __table_args__ = (
        Index("ix_bcr_customer", "customer_id"),
        Index("ix_bcr_business", "business_id"),
    )


class MarketingCampaign(Synced, Base):
    __tablename__ = "marketing_campaign"
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(30))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    target_segment_id: Mapped[str | None] = _fk("segment")


class CampaignSpend(Synced, Base):
    __tablename__ = "campaign_spend"
    campaign_id: Mapped[str] = _fk("marketing_campaign", nullable=False)
    spend_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(30))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    impressions: Mapped[int | None] = mapped_column(Integer)
    clicks: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (Index("ix_campaign_spend_campaign", "campaign_id", "spend_date"),)


class SalesActivity(Synced, Base):
    __tablename__ = "sales_activity"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    lead_id: Mapped[str | None] = _fk("lead")
    rep_id: Mapped[str | None] = _fk("sales_rep")
    kind: Mapped[str] = mapped_column(String(20))  # call | email | meeting | visit
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_sales_activity_customer", "customer_id", "occurred_at"),)


class Lead(Synced, Base):
    __tablename__ = "lead"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    rep_id: Mapped[str | None] = _fk("sales_rep")
    status: Mapped[str] = mapped_column(String(20))  # new | contacted | qualified | won | lost
    source: Mapped[str | None] = mapped_column(String(30))
    estimated_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    campaign_id: Mapped[str | None] = _fk("marketing_campaign")
    __table_args__ = (
        Index("ix_lead_customer", "customer_id"),
        Index("ix_lead_rep_status", "rep_id", "status"),
    )


class Score(Synced, Base):
    """A model's score for a customer with per-feature contributions."""

    __tablename__ = "score"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    model: Mapped[str] = mapped_column(String(30))  # churn | clv | lead
    model_version: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(DateTime)
    contributions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # by customer and model, not time: a retrain rewrites each score in place (migration 0012)
    __table_args__ = (Index("ix_score_customer_model", "customer_id", "model"),
                      Index("ix_score_model_retired", "model", "deleted_at"))


class Alert(Synced, Base):
    __tablename__ = "alert"
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    customer_id: Mapped[str | None] = _fk("customer")
    type: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index("ix_alert_created", "created_at"),)


class NoteRow(Synced, Base):
    __tablename__ = "note"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_note_customer", "customer_id", "created_at"),)


class Consent(Synced, Base):
    __tablename__ = "consent"
    customer_id: Mapped[str] = _fk("customer", nullable=False)
    channel: Mapped[str] = mapped_column(String(20))  # email | sms | whatsapp | phone
    purpose: Mapped[str] = mapped_column(String(30))  # marketing | service
    status: Mapped[str] = mapped_column(String(10))  # granted | withdrawn
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str | None] = mapped_column(String(30))
    # consent | contract | legal_obligation | legitimate_interests (models.LEGAL_BASES); NULL:
    # recorded before the basis was asked (taken as consent)
    legal_basis: Mapped[str | None] = mapped_column(String(30))
    __table_args__ = (Index("ix_consent_customer", "customer_id"),)


class AuditEvent(Synced, Base):
    __tablename__ = "audit_event"
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # a user's actions by time: the audit pane's filter and the anomaly rules (core/audit/anomaly.py)
    __table_args__ = (Index("ix_audit_event_actor", "actor", "action", "occurred_at"),)


# ---- local-only tables (never synchronised) ----


class AuditChain(Base):
    """The local audit log's hash chain: one link per audited action (core/audit/log.py);
    append-only (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_chain"
    __table_args__ = (UniqueConstraint("event_id"), {"sqlite_autoincrement": True})
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Outbox(Base):
    """Local changes waiting to be pushed, each with a client-generated idempotency key."""

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(36))
    operation: Mapped[str] = mapped_column(String(10))  # insert | update | delete
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_row_version: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime)


class SyncConflict(Base):
    """A field edited here and centrally since the last sync, to different values: the user decides."""

    __tablename__ = "sync_conflict"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(100))
    base: Mapped[Any] = mapped_column(JSON, nullable=True)
    mine: Mapped[Any] = mapped_column(JSON, nullable=True)
    theirs: Mapped[Any] = mapped_column(JSON, nullable=True)
    theirs_row_version: Mapped[int] = mapped_column(BigInteger)
    outbox_key: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution: Mapped[str | None] = mapped_column(String(10))  # mine | theirs
    __table_args__ = (Index("ix_sync_conflict_open", "resolved_at", "entity_id"),)


class SyncState(Base):
    __tablename__ = "sync_state"
    table_name: Mapped[str] = mapped_column(String(50), primary_key=True)
    # The pull cursor: (watermark, cursor_id) = (row_xid or rowversion, id) of the last row taken.
    watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_id: Mapped[str] = mapped_column(String(36), default="", server_default="")
    last_pull_at: Mapped[datetime | None] = mapped_column(DateTime)


class CacheMeta(Base):
    __tablename__ = "cache_meta"
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class CustomerSummary(Base):
    """Per-customer figures derived from transactions and leads, refreshed locally."""

    __tablename__ = "customer_summary"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    txn_count: Mapped[int] = mapped_column(Integer, default=0)
    lifetime_spend_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    first_purchase_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_purchase_at: Mapped[datetime | None] = mapped_column(DateTime)
    open_leads: Mapped[int] = mapped_column(Integer, default=0)


class AlertRuleRow(Base):
    """An alert rule (see core/alerts/rules.py): data the user edits, stored as its JSON definition."""

    __tablename__ = "alert_rule"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AlertLocal(Base):
    """What this desktop knows of an alert beyond the shared row: why, from where, read or not."""

    __tablename__ = "alert_local"
    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rule_ids: Mapped[list[str]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    topic: Mapped[str] = mapped_column(String(100))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    email_to: Mapped[list[str] | None] = mapped_column(JSON)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime)
    email_error: Mapped[str | None] = mapped_column(Text)


class DeadLetter(Base):
    """A message the alert listener could not use, with the reason; one row per topic position."""

    __tablename__ = "dead_letter"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(100))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # the first 64 KiB
    __table_args__ = (UniqueConstraint("topic", "partition", "offset", name="uq_dead_letter_position"),)


class RecentEvent(Base):
    """The most recent valid events (a ring of a few thousand), for testing rules against."""

    __tablename__ = "recent_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    customer_id: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class LeadRank(Base):
    """Open leads with their score, band and next best action, denormalised so that the lead
    queue filters and sorts in SQL (core/leads.py keeps it in step)."""

    __tablename__ = "lead_rank"
    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    customer_name: Mapped[str] = mapped_column(String(300), server_default="")
    rep_id: Mapped[str | None] = mapped_column(String(36))
    parish: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    estimated_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(4))
    scored_by: Mapped[str] = mapped_column(String(64))
    contributions: Mapped[list[Any]] = mapped_column(JSON)
    next_action: Mapped[str] = mapped_column(String(40))
    next_action_reason: Mapped[str] = mapped_column(String(300))
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        Index("ix_lead_rank_score", "score"),
        Index("ix_lead_rank_parish_score", "parish", "score"),
        Index("ix_lead_rank_rep_score", "rep_id", "score"),
        Index("ix_lead_rank_customer", "customer_id"),
        Index("ix_lead_rank_value", "estimated_value_cents"),
        Index("ix_lead_rank_created", "created_at"),
        Index("ix_lead_rank_contact", "last_contact_at"),
        Index("ix_lead_rank_name", "customer_name"),
    )


class CustomerPlace(Base):
    """Where each customer is, from the address (core/geocode.py; kept by geo.refresh_geo)."""

    __tablename__ = "customer_place"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    search_key: Mapped[int | None] = mapped_column(Integer)
    parish: Mapped[str | None] = mapped_column(String(5))
    town: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[str] = mapped_column(String(6))  # exact | town | parish | none
    __table_args__ = (
        Index("ix_customer_place_parish", "parish"),
        Index("ix_customer_place_key", "search_key"),
    )


class GoldenValueRow(Base):
    """Where each golden field of a customer came from (core/identity/golden.py)."""

    __tablename__ = "golden_value"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    source_record_id: Mapped[str] = mapped_column(String(36))
    system: Mapped[str] = mapped_column(String(30))
    seen_at: Mapped[str] = mapped_column(String(30))
    rule: Mapped[str] = mapped_column(String(30))


class MergeLedger(Base):
    """Every merge with a snapshot of the rows it changed, so it can be undone exactly."""

    __tablename__ = "merge_ledger"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    action: Mapped[str] = mapped_column(String(10))
    target_customer_id: Mapped[str] = mapped_column(String(36))
    customer_ids: Mapped[list[str]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    user: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_by: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (Index("ix_merge_ledger_target", "target_customer_id"),)


class ReviewPairRow(Base):
    """A customer pair waiting for (or given) an analyst's decision (core/identity/review.py)."""

    __tablename__ = "review_pair"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_a: Mapped[str] = mapped_column(String(36))
    customer_b: Mapped[str] = mapped_column(String(36))
    probability: Mapped[float] = mapped_column(Float)
    contributions: Mapped[list[Any]] = mapped_column(JSON)
    value: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10))
    skipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    ledger_id: Mapped[str | None] = mapped_column(String(36))
    __table_args__ = (
        Index("ix_review_pair_status_value", "status", "value"),
        Index("ix_review_pair_customers", "customer_a", "customer_b"),
    )


class ModelVersionRow(Base):
    """A trained model version with its window, metrics, report and population (core/analytics/registry.py)."""

    __tablename__ = "model_version"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    model: Mapped[str] = mapped_column(String(20))
    trained_at: Mapped[datetime] = mapped_column(DateTime)
    data_from: Mapped[str | None] = mapped_column(String(10))
    data_to: Mapped[str | None] = mapped_column(String(10))
    rows: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    scored: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_model_version_model", "model", "trained_at"),)


class ModelDriftRow(Base):
    """A drift check of a model version: population stability index per feature."""

    __tablename__ = "model_drift"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    psi: Mapped[dict[str, Any]] = mapped_column(JSON)
    worst: Mapped[float] = mapped_column(Float)


class CustomerSegmentRow(Base):
    """A customer's RFM scores and segment, and their cluster (core/analytics/segments.py)."""

    __tablename__ = "customer_segment"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    r: Mapped[int] = mapped_column(Integer)
    f: Mapped[int] = mapped_column(Integer)
    m: Mapped[int] = mapped_column(Integer)
    rfm_segment: Mapped[str] = mapped_column(String(40))
    cluster: Mapped[int] = mapped_column(Integer)
    cluster_name: Mapped[str] = mapped_column(String(80))
    # read by customer only: no index by cluster (migration 0012), which cost each retrain's write


class DemoTruthPerson(Base):
    """Demo data only: which real person each golden record is, and their hidden behaviour."""

    __tablename__ = "demo_truth_person"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36))
    is_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    churned_at: Mapped[datetime | None] = mapped_column(DateTime)
    purchase_rate_per_year: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_demo_truth_person_person", "person_id"),)


class DemoTruthSource(Base):
    """Demo data only: the real person behind each source record (identity ground truth)."""

    __tablename__ = "demo_truth_source"
    source_record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36))
    variations: Mapped[str | None] = mapped_column(String(200))  # e.g. "typo,phone_format"


class SavedReportRow(Synced, Base):
    """A report saved by name, shared with colleagues through sync (core/reports/saved.py)."""

    __tablename__ = "saved_report"
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)  # JSON: measures, dimensions, period, filters, chart
    owner: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_saved_report_name", "name"),)


class ReportAnnotationRow(Synced, Base):
    """A note pinned to a saved report, or to one data point of it (``point``: its labels)."""

    __tablename__ = "report_annotation"
    report_id: Mapped[str] = _fk("saved_report", nullable=False)
    point: Mapped[str | None] = mapped_column(Text)  # JSON {column: label}, or None: the whole report
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_report_annotation_report", "report_id", "created_at"),)


class ReportTargetRow(Synced, Base):
    """A target for a measure over a period (a month, a quarter...), for all of the company or one
    dimension's value (parish St. Ann); imported from CSV and shared through sync."""

    __tablename__ = "report_target"
    measure: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # included
    dimension: Mapped[str | None] = mapped_column(String(40))
    dimension_value: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200))  # the file it came from
    __table_args__ = (Index("ix_report_target_measure", "measure", "period_start"),)


class ReportScheduleRow(Base):
    """When this desktop runs a saved report and where the result goes (core/reports/schedules.py).
    Local: each desktop keeps its own schedules."""

    __tablename__ = "report_schedule"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(36))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # every, at, format, delivery, condition
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_slot: Mapped[datetime | None] = mapped_column(DateTime)  # the last slot run (or skipped by its condition)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ReportRunRow(Base):
    """One scheduled run: its slot, what became of it, and why."""

    __tablename__ = "report_run"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(36))
    slot: Mapped[datetime] = mapped_column(DateTime)
    ran_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))  # written | sent | waiting | skipped | failed
    detail: Mapped[str] = mapped_column(Text)
    rows: Mapped[int | None] = mapped_column(Integer)
    file: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_report_run_schedule", "schedule_id", "slot"),)


class ReportMailRow(Base):
    """A scheduled report's e-mail, waiting until the mail server takes it (offline: the next start)."""

    __tablename__ = "report_mail"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(Text)  # a file beside the cache, kept until sent
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class QualityIssueRow(Synced, Base):
    """A data-quality problem on one row and its suggested fix, for a data steward to approve or
    reject (core/quality/stewardship.py); shared through sync so it can be assigned to anyone."""

    __tablename__ = "quality_issue"
    rule_id: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(60))
    found_value: Mapped[str | None] = mapped_column(Text)
    suggested_value: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # open | approved | rejected
    assignee: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_quality_issue_status", "status", "assignee"),
                      Index("ix_quality_issue_entity", "entity_id", "rule_id"))


class QualityRunRow(Base):
    """One measurement of the data's quality (after a sync, an import, or asked for). Local."""

    __tablename__ = "quality_run"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(DateTime)
    trigger: Mapped[str] = mapped_column(String(20))  # sync | import | manual | first_start
    __table_args__ = (Index("ix_quality_run_ran_at", "ran_at"),)


class QualityResultRow(Base):
    """One rule's figures in one run: the history the trends are drawn from."""

    __tablename__ = "quality_result"
    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    checked: Mapped[int] = mapped_column(Integer)
    failing: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(Text)



class SubjectRequestRow(Synced, Base):
    """A data-subject request (access, rectification, objection, erasure), its due date and what
    became of it (core/privacy/requests.py). ``customer_id`` is no foreign key: the request is the
    proof that an erasure was honoured, so it outlives the customer."""

    __tablename__ = "subject_request"
    customer_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))  # access | rectification | objection | erasure
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(30))  # how it came: email, letter, phone, in person
    detail: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # open | done | refused
    recorded_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_subject_request_status", "status", "due_on"),
                      Index("ix_subject_request_customer", "customer_id"))


class ErasureRow(Synced, Base):
    """The tombstone of an erased person: ids only. The centre writes it when it deletes their
    rows; every cache applies it on its next pull (core/privacy/erasure.py)."""

    __tablename__ = "erasure"
    customer_ids: Mapped[list[str]] = mapped_column(JSON)  # the golden record and those merged into it
    source_record_ids: Mapped[list[str]] = mapped_column(JSON)
    # audit events whose details named the person and were redacted (core/audit/log.verify allows them)
    redacted_events: Mapped[list[str]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(36))
    erased_at: Mapped[datetime] = mapped_column(DateTime)


SYNCED_TABLES: tuple[str, ...] = tuple(
    t.name for t in Base.metadata.sorted_tables if "row_version" in t.columns
)
