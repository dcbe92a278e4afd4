"""The world a demo dataset is drawn from: parishes, towns, names, phone ranges, the calendar,
products, reps and campaigns. Computed once per build, shared by every chunk."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays
import numpy as np
import phonenumbers

from c360_desktop.core import jamaica
from c360_desktop.core.demo import MAX_DEMO_CUSTOMERS
from c360_desktop.core.demo import reference as R
from c360_desktop.core.ids import id_batch, stable_id

HISTORY_YEARS = 7
_ID_EPOCH_MS = 1_577_836_800_000  # 2020-01-01: the time prefix of demo ids
_GCT_CHANGE = date(2020, 4, 1)


@dataclass(frozen=True)
class DemoSpec:
    customers: int
    seed: int = 1
    as_of: date = field(default_factory=date.today)

    def __post_init__(self) -> None:
        if not 1 <= self.customers <= MAX_DEMO_CUSTOMERS:
            raise ValueError(f"a demo has 1 to {MAX_DEMO_CUSTOMERS:,} customers, not {self.customers:,}")


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    start: date
    end: date
    channel: str
    budget_cents: int
    segment: str | None


def _exchanges(area: str, kind: int) -> np.ndarray:
    """Area code + exchange (6 digits) that phonenumbers accepts as mobile (1) or fixed (0)."""
    ok = []
    for ex in range(200, 1000):
        num = phonenumbers.parse(f"+1{area}{ex}4567")
        if phonenumbers.is_valid_number(num) and int(phonenumbers.number_type(num)) == kind:
            ok.append(int(f"{area}{ex}"))
    return np.array(ok, dtype=np.int64)


class World:
    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self.parishes = jamaica.parishes()
        pop = np.array([p.population for p in self.parishes], dtype=float)
        self.parish_w = pop / pop.sum()
        self.towns = jamaica.towns()
        self.town_lat = np.array([t.lat for t in self.towns])
        self.town_lon = np.array([t.lon for t in self.towns])
        self.towns_of: list[np.ndarray] = []
        self.town_w: list[np.ndarray] = []
        for parish in self.parishes:
            idx = np.array([i for i, t in enumerate(self.towns) if t.parish_code == parish.code])
            w = np.sqrt(np.array([self.towns[i].population for i in idx], dtype=float))
            self.towns_of.append(idx)
            self.town_w.append(w / w.sum())
        names = jamaica.names()
        self.female = names["female"] + R.EXTRA_FEMALE
        self.male = names["male"] + R.EXTRA_MALE
        self.surnames = names["surname"] + R.EXTRA_SURNAMES
        # The bundled counts rank the top surnames; the rest get a gentle Zipf tail.
        w = np.array([1.0 / (i + 3) for i in range(len(self.surnames))])
        w[:7] = np.array([63965, 54095, 40995, 36908, 32643, 26521, 25254]) / 40995 * 0.1
        self.surname_w = w / w.sum()
        self.mobile = np.concatenate([_exchanges("876", 1), _exchanges("658", 1)])
        self.fixed = _exchanges("876", 0)
        self.start = date(spec.as_of.year - HISTORY_YEARS, 1, 1)
        self.days = (spec.as_of - self.start).days  # history runs over days [0, days)
        self.day_mult = self._day_multipliers()
        self.gct_day = (_GCT_CHANGE - self.start).days
        self.products = R.PRODUCTS
        self.product_ids = [stable_id("product", p[0]) for p in R.PRODUCTS]
        self.product_price = np.array([p[3] * 100 for p in R.PRODUCTS], dtype=np.int64)
        self.product_gct = np.array([p[4] for p in R.PRODUCTS])
        self.categories = sorted({p[2] for p in R.PRODUCTS})
        self.cat_products = [np.array([i for i, p in enumerate(R.PRODUCTS) if p[2] == c]) for c in self.categories]
        self.cat_sizes = np.array([len(c) for c in self.cat_products])
        self.segment_ids = {name: stable_id("segment", name) for name, _ in R.SEGMENTS}
        self.territory_ids = [stable_id("territory", p.code) for p in self.parishes]
        n_reps = max(28, spec.customers // 2500)
        self.rep_parish = np.arange(n_reps) % 14
        self.reps_of_parish = [np.flatnonzero(self.rep_parish == p) for p in range(14)]
        self.rep_ids = [stable_id("sales_rep", f"{spec.seed}:{i}") for i in range(n_reps)]
        rng = random.Random(spec.seed)
        self.rep_names = [f"{rng.choice(self.female + self.male)} {rng.choice(self.surnames)}"
                          for _ in range(n_reps)]
        self.campaigns = self._campaigns()
        self.campaign_of_day = np.full(self.days, -1, dtype=np.int64)
        for i, c in enumerate(self.campaigns):
            a, b = (c.start - self.start).days, (c.end - self.start).days
            self.campaign_of_day[max(a, 0) : max(min(b + 1, self.days), 0)] = i
        # the campaign a lead from "campaign" came through: the one running that day, else the
        # last one to end in the 30 days before (none: the lead carries no campaign code)
        self.lead_campaign_of_day = np.full(self.days, -1, dtype=np.int64)
        for i, c in sorted(enumerate(self.campaigns), key=lambda ic: ic[1].end):
            b = (c.end - self.start).days
            self.lead_campaign_of_day[max(b + 1, 0) : max(min(b + 31, self.days), 0)] = i
        running = self.campaign_of_day >= 0
        self.lead_campaign_of_day[running] = self.campaign_of_day[running]
        self.as_of_text = f"{spec.as_of.isoformat()} 00:00:00"

    def _day_multipliers(self) -> np.ndarray:
        """Relative sales per day (mean 1): month, weekday, public holidays, pre-Christmas rush."""
        month = np.array([0.8, 0.85, 0.95, 1.0, 0.95, 0.95, 1.0, 1.15, 1.0, 0.95, 1.05, 1.5])
        weekday = np.array([1.0, 1.0, 1.05, 1.05, 1.2, 1.3, 0.4])  # Monday .. Sunday
        years = range(self.start.year, self.spec.as_of.year + 1)
        closed = set(holidays.country_holidays("JM", years=years))
        mult = np.empty(self.days)
        for i in range(self.days):
            d = self.start + timedelta(days=i)
            m = month[d.month - 1] * weekday[d.weekday()]
            if d in closed:
                m *= 0.1
            elif d.month == 12 and 18 <= d.day <= 24:
                m *= 1.6
            mult[i] = m
        return mult / mult.mean()

    def _campaigns(self) -> list[Campaign]:
        out = []
        for year in range(self.start.year, self.spec.as_of.year + 1):
            for name, channel, mmdd, days, budget, segment in R.CAMPAIGNS:
                start = date.fromisoformat(f"{year}-{mmdd}")
                if start <= self.spec.as_of:
                    out.append(Campaign(stable_id("campaign", f"{name}:{year}"), f"{name} {year}", start,
                                        start + timedelta(days=days - 1), channel, budget * 100, segment))
        return out

    def day_text(self, day: int) -> str:
        return (self.start + timedelta(days=day)).isoformat()

    def stamps(self, day: np.ndarray, seconds: np.ndarray) -> list[str]:
        """UTC timestamps 'YYYY-MM-DD HH:MM:SS' for day offsets plus seconds."""
        base = np.datetime64(self.start.isoformat(), "s")
        t = base + day.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
        return [s.replace("T", " ") for s in np.datetime_as_string(t, unit="s").tolist()]


class Ids:
    """Time-ordered ids: each (chunk, table) gets its own millisecond range, so ids never collide
    and grow with insertion order (cheap B-tree appends)."""

    TABLES = ("customer", "contact_point", "customer_address", "source_record", "identity_link",
              "transaction", "interaction", "social_profile", "business", "bcr", "lead",
              "sales_activity", "consent", "note", "campaign_spend")

    def __init__(self, rng: np.random.Generator, chunk: int) -> None:
        self.rng = rng
        self.chunk = chunk

    def __call__(self, table: str, n: int) -> list[str]:
        base = _ID_EPOCH_MS + self.chunk * 40_000_000 + self.TABLES.index(table) * 2_000_000
        return id_batch(self.rng, base, n)
