"""Realistic events for the demo data: interactions, social mentions, tickets, orders, lead score
changes, sales activities and campaign spend, in the proportions a Jamaican sales organisation
sees. Deterministic for a seed. Used by ``c360-server simulate``, the tests and the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from c360_desktop.core.events import EVENT_TYPES, make_event

COMPETITORS = ("Island Wholesale", "KingsTrade", "CaribMart", "Blue Mountain Supply")
_MIX = (("interaction.logged", 35), ("social.mention", 15), ("support.ticket_opened", 8), ("order.placed", 25),
        ("lead.score_changed", 7), ("activity.logged", 5), ("campaign.spend", 3), ("campaign.response", 2))
_COMPLAINTS = ("Delivery to {town} was three days late again.", "Invoice shows the wrong GCT amount.",
               "Nobody called back about the broken cooler.", "Prices went up without notice.")
_PRAISE = ("Great service at the {town} branch today.", "Thanks for the quick delivery!",
           "The new product line is selling well for us.")
_SUBJECTS = ("Damaged goods on delivery", "Billing query", "Account access", "Warranty claim", "Late order")


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    budget: Decimal


class EventSimulator:
    def __init__(self, customer_ids: Sequence[str], campaigns: Sequence[Campaign] = (), seed: int = 1,
                 towns: Sequence[str] = ("Kingston", "Mandeville", "Montego Bay", "Ocho Rios")) -> None:
        if not customer_ids:
            raise ValueError("no customers to simulate events for (seed the central database first)")
        self.rng = random.Random(seed)
        self.customers = list(customer_ids)
        self.campaigns = list(campaigns) or [Campaign("00000000-0000-4000-8000-00000000c001", "Back to school",
                                                      Decimal("1500000"))]
        self._spent = {c.id: Decimal(0) for c in self.campaigns}
        self.towns = list(towns)
        self._types = [t for t, _w in _MIX]
        self._weights = [w for _t, w in _MIX]
        self._n = 0

    def _uuid(self) -> Any:
        import uuid

        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def event(self, event_type: str | None = None, occurred_at: datetime | None = None) -> tuple[str, dict[str, Any]]:
        """(topic, envelope dict) of one event."""
        rng = self.rng
        kind = event_type or rng.choices(self._types, self._weights)[0]
        customer = rng.choice(self.customers)
        town = rng.choice(self.towns)
        payload: dict[str, Any]
        if kind == "interaction.logged":
            complaint = rng.random() < 0.08
            payload = {"channel": rng.choice(("phone", "email", "visit", "whatsapp", "store")),
                       "direction": rng.choice(("inbound", "outbound")),
                       "sentiment": round(rng.uniform(-1, -0.3) if complaint else rng.uniform(-0.3, 1), 2),
                       "complaint": complaint,
                       "text": (rng.choice(_COMPLAINTS) if complaint else rng.choice(_PRAISE)).format(town=town)}
            if rng.random() < 0.03:
                payload["competitor"] = rng.choice(COMPETITORS)
        elif kind == "social.mention":
            complaint = rng.random() < 0.15
            payload = {"platform": rng.choice(("facebook", "instagram", "x", "tiktok")),
                       "handle": f"@user{rng.randrange(10_000)}",
                       "text": (rng.choice(_COMPLAINTS) if complaint else rng.choice(_PRAISE)).format(town=town),
                       "sentiment": round(rng.uniform(-1, -0.4) if complaint else rng.uniform(-0.2, 1), 2),
                       "complaint": complaint, "reach": int(rng.paretovariate(1.2) * 50)}
            if rng.random() < 0.05:
                payload["competitor"] = rng.choice(COMPETITORS)
        elif kind == "support.ticket_opened":
            payload = {"ticket_id": f"T-{rng.randrange(10**6):06d}",
                       "priority": rng.choices(("low", "normal", "high", "urgent"), (2, 6, 2, 1))[0],
                       "subject": rng.choice(_SUBJECTS)}
        elif kind == "order.placed":
            amount = Decimal(str(round(rng.lognormvariate(10.2, 1.1), 2)))
            payload = {"order_id": f"SO-{rng.randrange(10**7):07d}", "amount": str(amount), "currency": "JMD"}
        elif kind == "lead.score_changed":
            old = rng.randrange(0, 80)
            payload = {"lead_id": str(self._uuid()), "old_score": old,
                       "new_score": min(100, old + rng.choice((-10, -5, 5, 10, 25, 30)) if old >= 10 else old + 5)}
        elif kind == "activity.logged":
            payload = {"kind": rng.choice(("call", "email", "meeting", "visit")),
                       "outcome": rng.choice(("reached", "no answer", "interested", "not interested"))}
        elif kind == "campaign.spend":
            c = rng.choice(self.campaigns)
            self._spent[c.id] += (c.budget * Decimal(str(round(rng.uniform(0.01, 0.08), 4)))).quantize(Decimal("0.01"))
            payload = {"campaign_id": c.id, "campaign_name": c.name, "spend_to_date": str(self._spent[c.id]),
                       "budget": str(c.budget)}
            customer = None
        else:
            c = rng.choice(self.campaigns)
            payload = {"campaign_id": c.id, "response": rng.choice(("open", "click", "reply", "unsubscribe", "convert"))}
        self._n += 1
        env = make_event(kind, payload, customer_id=customer, source="c360-simulator",
                         occurred_at=occurred_at or datetime.now(UTC), event_id=self._uuid())
        return EVENT_TYPES[kind].topic, env

    def stream(self, count: int) -> Iterator[tuple[str, dict[str, Any]]]:
        for _ in range(count):
            yield self.event()


def load_demo_targets(url: str, password: str | None = None) -> tuple[list[str], list[Campaign]]:
    """Customer ids and campaigns from a central database (seeded with ``c360-server seed``)."""
    from sqlalchemy import create_engine, text

    from c360_desktop.core.sync.urls import central_url

    u = central_url(url)
    if password:
        u = u.set(password=password)
    engine = create_engine(u)
    try:
        with engine.connect() as conn:
            customers = [r[0] for r in conn.execute(text(
                "SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id LIMIT 200000"))]
            campaigns = [Campaign(r[0], r[1], Decimal(r[2]) / 100) for r in conn.execute(text(
                "SELECT id, name, budget_cents FROM marketing_campaign WHERE deleted_at IS NULL AND budget_cents > 0"))]
    finally:
        engine.dispose()
    return customers, campaigns
