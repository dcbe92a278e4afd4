"""One chunk of the demo dataset: a few thousand customers and everything hanging off them.

Behaviour is drawn vectorised (numpy) for the whole chunk: who buys how often, who leaves and
when, every purchase and interaction. Identity details (names, contact points, source records
with their variations) are drawn per customer. A chunk depends only on (seed, chunk number).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from c360_desktop.core.demo import reference as R
from c360_desktop.core.demo import variations as V
from c360_desktop.core.demo.world import Ids, World
from c360_desktop.core.models import OPEN_LEAD_STATUSES

# how much a lead's source moves its odds of being won (log-odds), in the demo's hidden process
_SOURCE_LIFT = {"referral": 1.2, "walk-in": 0.7, "website": 0.0, "campaign": -0.3, "social": -0.8}

CHUNK = 5_000  # customers per chunk; fixed, because the random streams depend on it
TABLES = (
    "customer", "contact_point", "customer_address", "source_record", "identity_link", "transaction",
    "interaction", "social_profile", "business", "business_customer_relationship", "lead",
    "sales_activity", "consent", "note", "demo_truth_person", "demo_truth_source", "customer_summary",
)


@dataclass
class Person:
    """Who customer ``i`` of the chunk is, as the golden record holds it."""

    i: int
    id: str
    business: bool
    display: str
    given: str
    family: str
    business_name: str
    phone: str
    second_phone: str | None
    email: str | None
    trn: str | None
    street: str
    town: str
    parish: str
    old_address: tuple[str, str, str] | None
    created: str


class Chunk:
    def __init__(self, k: int, n: int, world: World) -> None:
        self.k, self.n, self.w = k, n, world
        seed = world.spec.seed
        self.rng = np.random.default_rng([seed, k])
        self.pyr = random.Random(seed * 1_000_003 + k)
        self.ids = Ids(self.rng, k)
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES}

    def synced(self, rid: str, *values: object) -> tuple:
        return (rid, 0, self.w.as_of_text, None, "demo-data", *values)

    def build(self) -> dict[str, list[tuple]]:
        self._draw_behaviour()
        self._transactions()
        self._summaries()
        self._draw_identity_arrays()
        for i in range(self.n):
            person = self._person(i)
            self._contacts(person)
            self._sources(person)
            self._business_and_social(person)
            self._consent_leads_notes(person)
        self._interactions()
        return self.rows

    # -- behaviour, vectorised ------------------------------------------------------------
    def _draw_behaviour(self) -> None:
        rng, w, n = self.rng, self.w, self.n
        self.cust = self.ids("customer", n)
        self.is_biz = rng.random(n) < 0.22
        self.parish = rng.choice(14, n, p=w.parish_w)
        self.town = np.empty(n, dtype=np.int64)
        for pi in range(14):
            mask = self.parish == pi
            self.town[mask] = rng.choice(w.towns_of[pi], int(mask.sum()), p=w.town_w[pi])
        self.lat = w.town_lat[self.town] + rng.normal(0, 0.01, n)
        self.lon = w.town_lon[self.town] + rng.normal(0, 0.01, n)
        self.female = rng.random(n) < 0.52
        self.first_f = rng.integers(0, len(w.female), n)
        self.first_m = rng.integers(0, len(w.male), n)
        self.surname = rng.choice(len(w.surnames), n, p=w.surname_w)
        self.rep = np.array([w.reps_of_parish[pi][rng.integers(0, len(w.reps_of_parish[pi]))]
                             for pi in self.parish])
        self.acq = (w.days * rng.beta(1.4, 1.0, n)).astype(np.int64).clip(0, w.days - 1)
        life = rng.exponential(np.where(self.is_biz, 12.0, 8.0) * 365.0)
        churn_day = self.acq + life.astype(np.int64)
        self.churned = churn_day < w.days - 1
        self.end = np.minimum(churn_day, w.days - 1)
        self.rate = rng.gamma(1.5, np.where(self.is_biz, 9.0, 3.0) / 1.5)  # purchases a year
        self.trade = rng.integers(0, len(R.TRADES), n)
        self.cat_pref = np.array([
            w.categories.index(self.pyr.choice(R.TRADE_CATEGORIES[R.TRADES[t][1]])) if b
            else int(rng.integers(0, len(w.categories)))
            for t, b in zip(self.trade.tolist(), self.is_biz.tolist(), strict=True)
        ])

    def _transactions(self) -> None:
        """A Poisson process per customer, thinned by the day-of-year multiplier; buying slows
        in the six months before a customer leaves."""
        rng, w = self.rng, self.w
        acq, end = self.acq, self.end
        mmax = float(w.day_mult.max())
        cnt = np.minimum(rng.poisson(self.rate * (end - acq + 1) / 365.0 * mmax), 2_000)
        t_c = np.repeat(np.arange(self.n), cnt)
        t_day = acq[t_c] + (rng.random(t_c.size) * (end - acq + 1)[t_c]).astype(np.int64)
        keep = rng.random(t_c.size) < w.day_mult[t_day] / mmax
        fading = self.churned[t_c] & (t_day > end[t_c] - 180)
        keep &= ~fading | (rng.random(t_c.size) < 0.5)
        t_c, t_day = t_c[keep], t_day[keep]
        t_sec = 13 * 3600 + rng.integers(0, 11 * 3600, t_c.size)  # 08:00-19:00 Jamaica = 13:00-24:00 UTC
        order = np.lexsort((t_sec, t_day, t_c))
        t_c, t_day, t_sec = t_c[order], t_day[order], t_sec[order]
        nt = t_c.size
        pick = rng.random(nt)
        cat = np.where(rng.random(nt) < 0.65, self.cat_pref[t_c], rng.integers(0, len(w.cat_sizes), nt))
        within = (pick * w.cat_sizes[cat]).astype(int)
        prod = np.array([w.cat_products[c][j] for c, j in zip(cat.tolist(), within.tolist(), strict=True)],
                        dtype=np.int64)
        qty = rng.geometric(np.where(self.is_biz[t_c], 0.25, 0.7))
        qty = np.where(w.product_price[prod] > 5_000_000, 1, np.maximum(qty, 1))
        amount = w.product_price[prod] * qty
        permille = np.where(t_day >= w.gct_day, 150, 165)  # GCT 16.5% until 31 March 2020
        gct = np.where(w.product_gct[prod], (amount * permille + 500) // 1000, 0)
        channel = np.where(self.is_biz[t_c], rng.choice(4, nt, p=[0.3, 0.25, 0.15, 0.3]),
                           rng.choice(4, nt, p=[0.55, 0.15, 0.15, 0.15]))
        camp = w.campaign_of_day[t_day]
        camp = np.where((camp >= 0) & (rng.random(nt) < 0.3), camp, -1)
        stamps = w.stamps(t_day, t_sec)
        channels = ("store", "phone", "online", "field")
        rep = self.rep.tolist()
        self.rows["transaction"] = [
            self.synced(tid, self.cust[c], ts, w.product_ids[p], q, a, g, a + g, channels[ch],
                        w.rep_ids[rep[c]] if ch in (1, 3) else None, w.campaigns[cp].id if cp >= 0 else None)
            for tid, c, ts, p, q, a, g, ch, cp in zip(
                self.ids("transaction", nt), t_c.tolist(), stamps, prod.tolist(), qty.tolist(),
                amount.tolist(), gct.tolist(), channel.tolist(), camp.tolist(), strict=True)
        ]
        self.t_c, self.t_day, self.t_stamps, self.t_total = t_c, t_day, stamps, amount + gct

    def _summaries(self) -> None:
        """Per-customer counts, spend, first and last purchase, and the RFM segment as of today."""
        n, w, t_c = self.n, self.w, self.t_c
        count = np.bincount(t_c, minlength=n)
        spend = np.bincount(t_c, weights=self.t_total.astype(float), minlength=n).astype(np.int64)
        has = count > 0
        last_day = np.full(n, -1, dtype=np.int64)
        self.first_stamp: list[str | None] = [None] * n
        self.last_stamp: list[str | None] = [None] * n
        if t_c.size:  # sorted by (customer, day, time)
            first_i = np.searchsorted(t_c, np.arange(n))
            last_i = first_i + count - 1
            last_day[has] = self.t_day[last_i[has]]
            for c, a, b in zip(np.flatnonzero(has).tolist(), first_i[has].tolist(), last_i[has].tolist(), strict=True):
                self.first_stamp[c], self.last_stamp[c] = self.t_stamps[a], self.t_stamps[b]
        recency = np.where(has, w.days - 1 - last_day, 10_000)
        vip_line = np.quantile(spend[has], 0.9) if has.any() else 0
        self.segment = np.select(
            [(w.days - 1 - self.acq) <= 90, recency > 365, (recency > 120) & (count >= 5),
             (spend >= vip_line) & (recency <= 120) & has, (count >= 12) & (recency <= 120), count >= 4],
            ["New", "Dormant", "At risk", "VIP", "Loyal", "Regular"], "Occasional")
        self.count, self.spend = count, spend

    # -- identity, per customer --------------------------------------------------------------
    def _draw_identity_arrays(self) -> None:
        rng, w, n = self.rng, self.w, self.n

        def numbers(exchanges: np.ndarray) -> np.ndarray:  # +1 876 xxx xxxx
            return exchanges[rng.integers(0, exchanges.size, n)] * 10_000 + rng.integers(0, 10_000, n)

        self.mob, self.fix, self.alt = numbers(w.mobile), numbers(w.fixed), numbers(w.mobile)
        self.trn = rng.integers(0, 100_000_000, n)
        self.dob_days = rng.integers(18 * 365, 85 * 365, n)
        self.id_pool = {t: iter(self.ids(t, m * n)) for t, m in (
            ("contact_point", 3), ("customer_address", 2), ("source_record", 5), ("identity_link", 5),
            ("social_profile", 1), ("business", 1), ("bcr", 1), ("lead", 1), ("sales_activity", 3),
            ("consent", 3), ("note", 1))}
        self.duplicate_ids = iter(self.ids("customer", n))  # for records never merged

    def _next(self, table: str) -> str:
        return next(self.id_pool[table])

    def _person(self, i: int) -> Person:
        w, pyr = self.w, self.pyr
        parish = w.parishes[int(self.parish[i])]
        town = w.towns[int(self.town[i])]
        street = f"{pyr.randint(1, 250)} {pyr.choice(R.STREETS)}"
        surname = w.surnames[int(self.surname[i])]
        given = w.female[int(self.first_f[i])] if self.female[i] else w.male[int(self.first_m[i])]
        business = bool(self.is_biz[i])
        business_name = ""
        if business:
            trade = R.TRADES[int(self.trade[i])][0]
            style = pyr.random()
            stem = (f"{surname}'s {trade}" if style < 0.35 else
                    f"{pyr.choice(R.BUSINESS_WORDS)} {trade}" if style < 0.7 else f"{town.name} {trade}")
            business_name = f"{stem} {pyr.choice(R.BUSINESS_SUFFIXES)}".strip()
            phone = f"+1{self.fix[i]}"
            slug = V.slug(business_name)[:20]
            email = f"info@{slug}.com.jm" if pyr.random() < 0.7 else (f"{slug}@gmail.com" if pyr.random() < 0.5 else None)
            trn = f"0{self.trn[i]:08d}" if pyr.random() < 0.95 else None
        else:
            phone = f"+1{self.mob[i]}"
            email = None
            if pyr.random() < 0.72:
                domain = pyr.choices([d for d, _ in R.EMAIL_DOMAINS], [x for _, x in R.EMAIL_DOMAINS])[0]
                email = f"{V.slug(given)}.{V.slug(surname)}{pyr.randint(1, 999)}@{domain}"
            trn = f"1{self.trn[i]:08d}" if pyr.random() < 0.65 else None
        second = f"+1{self.alt[i]}" if pyr.random() < 0.3 else None
        old, old_town = None, None
        if pyr.random() < 0.15:  # moved: the older systems still hold the previous address
            old_town = w.towns[pyr.randrange(len(w.towns))]
            old = (f"{pyr.randint(1, 250)} {pyr.choice(R.STREETS)}", old_town.name, old_town.parish_code)
        p = Person(i=i, id=self.cust[i], business=business,
                   display=business_name if business else f"{given} {surname}", given=given, family=surname,
                   business_name=business_name, phone=phone, second_phone=second, email=email, trn=trn,
                   street=street, town=town.name, parish=parish.code, old_address=old,
                   created=f"{w.day_text(int(self.acq[i]))} 12:00:00")
        lat, lon = round(float(self.lat[i]), 5), round(float(self.lon[i]), 5)
        dob = None if business else (w.spec.as_of - timedelta(days=int(self.dob_days[i]))).isoformat()
        self.rows["customer"].append(self.synced(
            p.id, "business" if business else "individual", p.display, None if business else given,
            None if business else surname, business_name or None, trn, dob, street, town.name, parish.code,
            None, lat, lon, phone, email, w.segment_ids[str(self.segment[i])], w.rep_ids[int(self.rep[i])],
            "churned" if self.churned[i] else "active", p.created))
        self.rows["customer_address"].append(self.synced(
            self._next("customer_address"), p.id, "billing", street, town.name, parish.code, None, lat, lon))
        if old and old_town:
            self.rows["customer_address"].append(self.synced(
                self._next("customer_address"), p.id, "previous", *old, None, old_town.lat, old_town.lon))
        churned_at = f"{w.day_text(int(self.end[i]))} 00:00:00" if self.churned[i] else None
        self.rows["demo_truth_person"].append((p.id, p.id, 0, churned_at, float(self.rate[i])))
        return p

    def _contacts(self, p: Person) -> None:
        add = self.rows["contact_point"].append
        add(self.synced(self._next("contact_point"), p.id, "phone", p.phone, "work" if p.business else "mobile", 1, "demo"))
        if p.second_phone:
            add(self.synced(self._next("contact_point"), p.id, "phone", p.second_phone,
                            "mobile" if p.business else "home", 0, "demo"))
        if p.email:
            add(self.synced(self._next("contact_point"), p.id, "email", p.email, "", 1, "demo"))

    def _source(self, p: Person, system: str, ext: str, fields: dict, variations: list[str],
                owner: str | None = None) -> None:
        """One record in a source system, linked to its golden record, with its ground truth."""
        sid = self._next("source_record")
        lineage = json.dumps({"file": f"demo/{system}", "row": p.i + self.k * CHUNK})
        self.rows["source_record"].append(self.synced(sid, system, ext, json.dumps(fields), lineage, p.created))
        self.rows["identity_link"].append(self.synced(
            self._next("identity_link"), sid, owner or p.id, 1.0, "demo:seed", None, p.created))
        self.rows["demo_truth_source"].append((sid, p.id, ",".join(variations) or None))

    def _sources(self, p: Person) -> None:
        pyr, number = self.pyr, p.i + self.k * CHUNK + 1
        street, town, parish = p.old_address if p.old_address and pyr.random() < 0.7 else (p.street, p.town, p.parish)
        if self.count[p.i] > 0 or pyr.random() < 0.5:  # QuickBooks, the accounting system
            var: list[str] = []
            name = p.business_name if p.business else f"{p.family}, {p.given}"
            if not p.business and pyr.random() < 0.12:
                name, var = V.typo(name, pyr), ["typo"]
            var.append("phone_format")
            if street != p.street:
                var.append("old_address")
            self._source(p, "quickbooks", f"QB-{number:07d}", {
                "Customer": name, "Phone": V.phone_variant(p.phone, pyr), "Email": p.email or "",
                "Bill to": f"{street}, {town}, {V.parish_variant(parish, pyr)}", "Tax ID": p.trn or ""}, var)
        if pyr.random() < 0.5:  # the sales team's spreadsheet
            var = []
            if p.business:
                name = V.business_variant(p.business_name, pyr)
                var += ["business_suffix"] if name != p.business_name else []
            else:
                nick = R.NICKNAMES.get(p.given)
                first = nick if nick and pyr.random() < 0.5 else p.given
                var += ["nickname"] if first != p.given else []
                name = f"{first} {p.family}"
                if pyr.random() < 0.25:
                    name, var = V.typo(name, pyr), [*var, "typo"]
            phone = p.second_phone if p.second_phone and pyr.random() < 0.5 else p.phone
            var.append("phone_format")
            owner = None
            if not p.business and pyr.random() < 0.04:
                owner = self._unresolved_duplicate(p, name)
                var.append("unresolved_duplicate")
            self._source(p, "spreadsheet", f"SHEET-{number:07d}", {
                "Name": name, "Phone": V.phone_variant(phone, pyr), "Town": p.town,
                "Parish": V.parish_variant(p.parish, pyr)}, var, owner)

    def _unresolved_duplicate(self, p: Person, name: str) -> str:
        """A second golden record made from a spreadsheet row nobody merged: same person."""
        dup = next(self.duplicate_ids)
        given, _, family = name.partition(" ")
        self.rows["customer"].append(self.synced(
            dup, "individual", name, given, family, None, None, None, None, p.town, p.parish, None, None, None,
            p.phone, None, None, self.w.rep_ids[int(self.rep[p.i])], "active", p.created))
        self.rows["contact_point"].append(self.synced(
            self._next("contact_point"), dup, "phone", p.phone, "mobile", 1, "spreadsheet"))
        self.rows["demo_truth_person"].append((dup, p.id, 1, None, 0.0))
        self.rows["customer_summary"].append((dup, 0, 0, None, None, 0))
        return dup

    def _business_and_social(self, p: Person) -> None:
        pyr, number = self.pyr, p.i + self.k * CHUNK + 1
        if p.business:
            trade_kind, trade = R.TRADES[int(self.trade[p.i])][1], R.TRADES[int(self.trade[p.i])][0]
            bid = self._next("business")
            self.rows["business"].append(self.synced(
                bid, p.business_name, trade_kind, p.street, p.town, p.parish, p.phone, p.email,
                f"https://{V.slug(p.business_name)[:20]}.com.jm" if pyr.random() < 0.4 else None,
                round(float(self.lat[p.i]), 5), round(float(self.lon[p.i]), 5)))
            self.rows["business_customer_relationship"].append(self.synced(self._next("bcr"), bid, p.id, "self"))
            if pyr.random() < 0.7:  # the business directory
                name = V.business_variant(p.business_name, pyr)
                self._source(p, "directory", f"DIR-{number:07d}", {
                    "Business Name": name, "Telephone": V.phone_variant(p.phone, pyr),
                    "Address": f"{p.street}, {p.town}", "Parish": V.parish_variant(p.parish, pyr),
                    "Category": trade}, ["phone_format"] + (["business_suffix"] if name != p.business_name else []))
        if pyr.random() < (0.6 if p.business else 0.35):  # social
            platform = pyr.choice(("Facebook", "Instagram", "LinkedIn") if p.business
                                  else ("Facebook", "Instagram", "TikTok", "X"))
            handle = (V.slug(p.business_name)[:18] + "ja" if p.business
                      else f"{V.slug(p.given)}{V.slug(p.family)[:6]}{pyr.randint(1, 99)}")
            self.rows["social_profile"].append(self.synced(
                self._next("social_profile"), p.id, platform, handle, f"https://{platform.lower()}.com/{handle}",
                int(pyr.paretovariate(1.2) * 80)))
            shown = p.business_name if p.business else (
                f"{R.NICKNAMES.get(p.given, p.given)} {p.family}" if pyr.random() < 0.5 else f"{p.given} {p.family[0]}.")
            self._source(p, "social", f"{platform.upper()}-{number:07d}", {
                "Display name": shown, "Handle": f"@{handle}", "Platform": platform, "Location": p.town},
                ["nickname"] if shown != p.display else [])

    def _consent_leads_notes(self, p: Person) -> None:
        pyr, w, i = self.pyr, self.w, p.i
        for channel, share in (("email", 0.6), ("sms", 0.4), ("whatsapp", 0.3)):
            if pyr.random() < share:
                status = "withdrawn" if pyr.random() < 0.08 else "granted"
                self.rows["consent"].append(self.synced(
                    self._next("consent"), p.id, channel, "marketing", status, p.created, "demo"))
        open_leads = 0
        rep_id = w.rep_ids[int(self.rep[i])]
        if pyr.random() < 0.12:  # an open or recent sales opportunity
            u = pyr.random()  # 30% new, 30% contacted, 20% qualified, 20% closed (won or lost, below)
            status = "new" if u < 0.3 else "contacted" if u < 0.6 else "qualified" if u < 0.8 else "closed"
            lead_day = max(int(self.acq[i]), w.days - 1 - pyr.randint(0, 200))
            lead_id = self._next("lead")
            count, spend = int(self.count[i]), int(self.spend[i])
            ask = pyr.randint(2, 6)
            value = spend // count * ask if count else pyr.randint(20, 400) * 100_000
            last_contact = None
            touches = pyr.randint(0, 3) if status != "new" else 0
            for _ in range(touches):
                day = min(w.days - 1, lead_day + pyr.randint(0, 30))
                stamp = f"{w.day_text(day)} {pyr.randint(13, 23):02d}:{pyr.randint(0, 59):02d}:00"
                last_contact = max(last_contact or stamp, stamp)
                self.rows["sales_activity"].append(self.synced(
                    self._next("sales_activity"), p.id, lead_id, rep_id, pyr.choice(("call", "email", "meeting", "visit")),
                    stamp, pyr.choice(("reached", "left message", "no answer", "interested", "quote sent")), None))
            source = pyr.choice(("campaign", "referral", "walk-in", "website", "social"))
            if status == "closed":
                # Won more often by referrals and walk-ins, customers who buy often, leads worked
                # more, and modest asks; less often by customers on their way out.
                logit = (-1.9 + _SOURCE_LIFT[source] + 0.7 * math.log1p(float(self.rate[i])) + 0.5 * touches
                         - 0.35 * (ask - 4) * (count > 0) + 0.4 * bool(self.is_biz[i]) - 1.2 * bool(self.churned[i]))
                status = "won" if pyr.random() < 1 / (1 + math.exp(-logit)) else "lost"
            camp = int(w.lead_campaign_of_day[lead_day]) if source == "campaign" else -1
            self.rows["lead"].append(self.synced(
                lead_id, p.id, rep_id, status, source, value, f"{w.day_text(lead_day)} 15:00:00", last_contact,
                w.campaigns[camp].id if camp >= 0 else None))
            open_leads = int(status in OPEN_LEAD_STATUSES)
        if pyr.random() < 0.05:
            self.rows["note"].append(self.synced(
                self._next("note"), p.id, pyr.choice(R.NOTE_TEXTS), w.rep_names[int(self.rep[i])],
                f"{w.day_text(int(self.end[i]))} 16:30:00"))
        self.rows["customer_summary"].append((
            p.id, int(self.count[i]), int(self.spend[i]), self.first_stamp[i], self.last_stamp[i], open_leads))

    # -- interactions, vectorised ---------------------------------------------------------
    def _interactions(self) -> None:
        """Calls, e-mails, visits, social mentions, tickets; churners complain more before leaving."""
        rng, w, pyr = self.rng, self.w, self.pyr
        icnt = np.minimum(rng.poisson(1.5 + 0.5 * np.sqrt(self.count) + 2.0 * self.churned), 60)
        i_c = np.repeat(np.arange(self.n), icnt)
        ni = i_c.size
        span = np.minimum(self.end + 30, w.days - 1) - self.acq + 1
        i_day = self.acq[i_c] + (rng.random(ni) * span[i_c]).astype(np.int64)
        late = self.churned[i_c] & (i_day > self.end[i_c] - 120)
        p_neg = np.where(late, 0.55, 0.12)
        u = rng.random(ni)
        mood = np.where(u < p_neg, 2, np.where(u < p_neg + 0.35, 0, 1))  # 0 positive, 1 neutral, 2 negative
        sentiment = np.select([mood == 0, mood == 1],
                              [rng.uniform(0.4, 0.95, ni), rng.uniform(-0.15, 0.2, ni)], rng.uniform(-0.95, -0.4, ni))
        chan = np.where(mood == 2, rng.choice(7, ni, p=[0.25, 0.2, 0.05, 0.2, 0.25, 0.0, 0.05]),
                        rng.choice(7, ni, p=[0.3, 0.25, 0.15, 0.1, 0.05, 0.05, 0.1]))
        stamps = w.stamps(i_day, 13 * 3600 + rng.integers(0, 12 * 3600, ni))
        channels = ("call", "email", "visit", "social", "support", "sms", "whatsapp")
        moods = ("positive", "neutral", "negative")
        rep = self.rep.tolist()
        for iid, c, ts, m, s, ch in zip(self.ids("interaction", ni), i_c.tolist(), stamps, mood.tolist(),
                                        sentiment.tolist(), chan.tolist(), strict=True):
            subject, body = pyr.choice(R.INTERACTION_TEMPLATES[moods[m]])
            body = body.format(product=pyr.choice(w.products)[1].lower(), town=w.towns[int(self.town[c])].name,
                               rep=w.rep_names[rep[c]])
            self.rows["interaction"].append(self.synced(
                iid, self.cust[c], ts, channels[ch], "outbound" if pyr.random() < 0.3 else "inbound",
                subject, body, round(s, 2), w.rep_ids[rep[c]] if ch in (0, 2) else None))
