"""Domain models (pydantic v2): the unified customer profile and the records it is made of.

Validators use ``core.validation`` so a bad value gives a message naming the field and the value.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from c360_desktop.core import validation as v


def _phone(value: str) -> str:
    return v.normalize_phone(value)


def _parish(value: str) -> str:
    return v.normalize_parish(value)


def _trn(value: str) -> str:
    return v.normalize_trn(value)


Phone = Annotated[str, AfterValidator(_phone)]
ParishCode = Annotated[str, AfterValidator(_parish)]
Trn = Annotated[str, AfterValidator(_trn)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Model):
    """A Jamaican address: street, town and parish are required; Jamaica has no postal codes."""

    street: str = Field(min_length=1)
    town: str = Field(min_length=1)
    parish: ParishCode
    postal_zone: str | None = None  # "Kingston 5": optional, never used to infer the parish
    kind: Literal["billing", "shipping", "home", "business", "previous"] = "billing"
    lat: float | None = None
    lon: float | None = None

    @field_validator("street", "town")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class ContactPoint(_Model):
    kind: Literal["phone", "email"]
    value: str
    label: str = ""  # "mobile", "work", ...
    is_primary: bool = False
    source: str = ""

    @field_validator("value")
    @classmethod
    def _normalise(cls, value: str, info: Any) -> str:
        if info.data.get("kind") == "phone":
            return v.normalize_phone(value, "contact phone")
        return v.normalize_email(value, "contact email")


class SourceRecordRef(_Model):
    id: str
    system: str  # "quickbooks", "spreadsheet", "directory", "social"
    external_id: str
    fields: dict[str, Any]
    imported_at: datetime | None = None
    match_probability: float | None = None
    match_rule: str | None = None


class TransactionData(_Model):
    id: str
    customer_id: str
    occurred_at: datetime
    product: str | None = None
    quantity: int = 1
    amount: Decimal  # before GCT, JMD
    gct: Decimal
    total: Decimal
    channel: str = "store"

    @field_validator("amount", "gct", "total", mode="before")
    @classmethod
    def _money(cls, value: object, info: Any) -> Decimal:
        return v.to_money(value, info.field_name)


class TransactionsSummary(_Model):
    count: int = 0
    lifetime_spend: Decimal = Decimal("0.00")
    average_order: Decimal | None = None
    first_purchase: datetime | None = None
    last_purchase: datetime | None = None
    spend_last_12_months: Decimal = Decimal("0.00")


class InteractionEvent(_Model):
    id: str
    customer_id: str
    occurred_at: datetime
    channel: Literal["call", "email", "visit", "social", "support", "sms", "whatsapp"]
    direction: Literal["inbound", "outbound"] = "inbound"
    subject: str = ""
    body: str = ""
    sentiment: float | None = Field(default=None, ge=-1.0, le=1.0)


class SocialMediaProfile(_Model):
    id: str
    platform: str
    handle: str
    url: str | None = None
    followers: int | None = Field(default=None, ge=0)


CONSENT_CHANNELS = ("email", "sms", "whatsapp", "phone")
CHANNEL_WORDS = {"email": "e-mail", "sms": "SMS", "whatsapp": "WhatsApp", "phone": "phone calls"}  # in a sentence
CONSENT_PURPOSES = ("marketing", "profiling")
# Why the company may process for the purpose (Jamaica's Data Protection Act 2020, first schedule;
# GDPR article 6). A withdrawal is recorded with the basis it ends.
LEGAL_BASES = {"consent": "Consent", "contract": "Contract", "legal_obligation": "Legal obligation",
               "legitimate_interests": "Legitimate interests"}
# SQL: the consent row ``k`` is its customer's latest for its purpose and channel (ties: the
# larger id), so the 360 view and the lead queue read the same state.
LATEST_CONSENT = """NOT EXISTS (SELECT 1 FROM consent k2 WHERE k2.customer_id = k.customer_id
    AND k2.purpose = k.purpose AND k2.channel = k.channel AND k2.deleted_at IS NULL
    AND (k2.recorded_at > k.recorded_at OR (k2.recorded_at = k.recorded_at AND k2.id > k.id)))"""


class Consent(_Model):
    """A customer's latest consent for one purpose on one channel, and where it came from."""

    channel: str
    purpose: str
    status: Literal["granted", "withdrawn"]
    recorded_at: datetime
    source: str | None = None  # how it was given or withdrawn: "phone call", "web form"...
    legal_basis: str = "consent"  # a key of LEGAL_BASES (records from before it was asked: consent)
    recorded_by: str | None = None
    pending_sync: bool = False


class CustomerSegment(_Model):
    id: str
    name: str
    description: str = ""
    method: str = "rule"


class FeatureContribution(_Model):
    feature: str
    value: Any = None
    contribution: float  # in the score's own units (probability points, JMD, score points)


class ModelScore(_Model):
    """A model's score for a customer, with the model version and the reasons behind it."""

    model: str
    model_version: str
    value: float
    scored_at: datetime
    contributions: tuple[FeatureContribution, ...] = ()

    def top_reasons(self, n: int = 3) -> tuple[FeatureContribution, ...]:
        return tuple(sorted(self.contributions, key=lambda c: -abs(c.contribution))[:n])


class ChurnPrediction(ModelScore):
    model: str = "churn"
    value: float = Field(ge=0.0, le=1.0)


class LeadScore(ModelScore):
    model: str = "lead"
    value: float = Field(ge=0.0, le=100.0)

    @property
    def band(self) -> Literal["hot", "warm", "cold"]:
        return "hot" if self.value >= 70 else "warm" if self.value >= 40 else "cold"


OPEN_LEAD_STATUSES = ("new", "contacted", "qualified")  # a lead still being worked


class Lead(_Model):
    id: str
    status: str
    source: str = ""
    estimated_value: Decimal | None = None
    created_at: datetime
    rep_name: str | None = None


class Note(_Model):
    id: str
    customer_id: str
    body: str = Field(min_length=1, max_length=20_000)
    created_at: datetime
    author: str
    pending_sync: bool = True


class UnifiedCustomerProfile(_Model):
    """The golden record and everything hung off it: what the 360 view shows."""

    id: str
    kind: Literal["individual", "business"]
    display_name: str
    given_name: str | None = None
    family_name: str | None = None
    business_name: str | None = None
    trn: Trn | None = None
    date_of_birth: date | None = None
    parish: ParishCode | None = None
    rep_name: str | None = None
    created_at: datetime | None = None
    contact_points: tuple[ContactPoint, ...] = ()
    addresses: tuple[Address, ...] = ()
    source_records: tuple[SourceRecordRef, ...] = ()
    transactions: TransactionsSummary = TransactionsSummary()
    recent_interactions: tuple[InteractionEvent, ...] = ()
    social_profiles: tuple[SocialMediaProfile, ...] = ()
    segments: tuple[CustomerSegment, ...] = ()
    scores: tuple[ModelScore, ...] = ()
    open_leads: tuple[Lead, ...] = ()
    notes: tuple[Note, ...] = ()
    consents: tuple[Consent, ...] = ()

    def score(self, model: str) -> ModelScore | None:
        return next((s for s in self.scores if s.model == model), None)

    @property
    def primary_phone(self) -> str | None:
        phones = [c for c in self.contact_points if c.kind == "phone"]
        return next((c.value for c in phones if c.is_primary), phones[0].value if phones else None)

    @property
    def primary_email(self) -> str | None:
        emails = [c for c in self.contact_points if c.kind == "email"]
        return next((c.value for c in emails if c.is_primary), emails[0].value if emails else None)
