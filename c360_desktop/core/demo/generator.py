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

import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import numpy as np
import phonenumbers

from c360_desktop.core import jamaica, search_index
from c360_desktop.core.demo import reference as R
from c360_desktop.core.ids import id_batch, stable_id
from c360_desktop.core.progress import Progress
from c360_desktop.core.storage.cache import CacheError, ensure_writable_dir, open_cache

CHUNK = 5_000  # fixed: the random streams depend on it
HISTORY_YEARS = 7
_ID_EPOCH_MS = 1_577_836_800_000  # 2020-01-01: the time prefix of demo ids
_GCT_CHANGE = date(2020, 4, 1)
_SYNC = ("id", "row_version", "updated_at", "deleted_at", "updated_by")

Rows = tuple[tuple[str, ...], list[tuple]]


@dataclass(frozen=True)
class DemoSpec:
    customers: int
    seed: int = 1
    as_of: date = field(default_factory=date.today)


# ---------------------------------------------------------------------------- reference data


def _exchanges(area: str, kind: int) -> np.ndarray:
    """Three-digit exchanges that phonenumbers accepts as mobile (1) or fixed (0) for an area."""
    ok = []
    for ex in range(200, 1000):
        num = phonenumbers.parse(f"+1{area}{ex}4567")
        if phonenumbers.is_valid_number(num) and int(phonenumbers.number_type(num)) == kind:
            ok.append(int(f"{area}{ex}"))
    return np.array(ok, dtype=np.int64)


class _Reference:
    """Everything a chunk draws from, computed once per build."""

    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self.parishes = jamaica.parishes()
        pop = np.array([p.population for p in self.parishes], dtype=float)
        self.parish_w = pop / pop.sum()
        towns = jamaica.towns()
        self.towns = towns
        self.town_lat = np.array([t.lat for t in towns])
        self.town_lon = np.array([t.lon for t in towns])
        self.towns_of: list[np.ndarray] = []
        self.town_w: list[np.ndarray] = []
        for p in self.parishes:
            idx = np.array([i for i, t in enumerate(towns) if t.parish_code == p.code])
            w = np.sqrt(np.array([towns[i].population for i in idx], dtype=float))
            self.towns_of.append(idx)
            self.town_w.append(w / w.sum())
        names = jamaica.names()
        self.female = names["female"] + R.EXTRA_FEMALE
        self.male = names["male"] + R.EXTRA_MALE
        self.surnames = tuple(n for n in names["surname"]) + R.EXTRA_SURNAMES
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
        cats = sorted({p[2] for p in R.PRODUCTS})
        self.categories = cats
        self.cat_products = [np.array([i for i, p in enumerate(R.PRODUCTS) if p[2] == c]) for c in cats]
        self.segment_ids = {name: stable_id("segment", name) for name, _ in R.SEGMENTS}
        self.territory_ids = [stable_id("territory", p.code) for p in self.parishes]
        n_reps = max(28, spec.customers // 2500)
        self.rep_parish = np.arange(n_reps) % 14
        self.rep_ids = [stable_id("sales_rep", f"{spec.seed}:{i}") for i in range(n_reps)]
        rng = random.Random(spec.seed)
        self.rep_names = [
            f"{rng.choice(self.female + self.male)} {rng.choice(self.surnames)}" for _ in range(n_reps)
        ]
        self.campaigns = self._campaigns()
        self.campaign_of_day = np.full(self.days, -1, dtype=np.int64)
        for i, (_, _, start, end, *_rest) in enumerate(self.campaigns):
            a, b = (start - self.start).days, (end - self.start).days
            self.campaign_of_day[max(a, 0) : max(min(b + 1, self.days), 0)] = i
        self.as_of_text = f"{spec.as_of.isoformat()} 00:00:00"

    def _day_multipliers(self) -> np.ndarray:
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

    def _campaigns(self) -> list[tuple]:
        out = []
        for year in range(self.start.year, self.spec.as_of.year + 1):
            for name, channel, mmdd, days, budget, segment in R.CAMPAIGNS:
                start = date.fromisoformat(f"{year}-{mmdd}")
                if start > self.spec.as_of:
                    continue
                end = start + timedelta(days=days - 1)
                cid = stable_id("campaign", f"{name}:{year}")
                out.append((cid, f"{name} {year}", start, end, channel, budget * 100, segment))
        return out


def _ts(day: np.ndarray, seconds: np.ndarray, start: date) -> list[str]:
    base = np.datetime64(start.isoformat(), "s")
    stamps = base + day.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
    return [s.replace("T", " ") for s in np.datetime_as_string(stamps, unit="s").tolist()]


def _day_text(day: np.ndarray, start: date) -> list[str]:
    return np.datetime_as_string(np.datetime64(start.isoformat(), "D") + day.astype("timedelta64[D]")).tolist()


class _Ids:
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


# ---------------------------------------------------------------------------- text variations


def _typo(text: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:])
    op = rng.random()
    if op < 0.3:
        return text[:i] + text[i + 1 :]  # deletion
    if op < 0.55 and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # transposition
    if op < 0.8:
        return text[:i] + rng.choice("aeiounrstlm") + text[i + 1 :]  # substitution
    return text[:i] + text[i] + text[i:]  # doubled letter


def _phone_variant(e164: str, rng: random.Random) -> str:
    d = e164[2:]
    return rng.choice((
        f"{d[:3]}-{d[3:6]}-{d[6:]}", f"({d[:3]}) {d[3:6]} {d[6:]}", f"({d[:3]}) {d[3:6]}-{d[6:]}",
        f"{d}", f"+1 {d[:3]} {d[3:6]} {d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}", e164,
        f"{d[:3]}.{d[3:6]}.{d[6:]}",
    ))


def _parish_variant(code: str, rng: random.Random) -> str:
    p = jamaica.parish_by_code()[code]
    name = p.address_name
    if name.startswith("St. "):
        name = rng.choice((name, name.replace("St. ", "St "), p.name, name.upper()))
    return name


def _business_variant(name: str, rng: random.Random) -> str:
    swaps = (("Company Limited", "Co. Ltd"), ("Limited", "Ltd"), ("Ltd", "Limited"),
             ("& Sons", "and Sons"), ("Co.", "Company"))
    for a, b in swaps:
        if a in name and rng.random() < 0.7:
            return name.replace(a, b, 1)
    return name.upper() if rng.random() < 0.3 else name


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


# ---------------------------------------------------------------------------- one chunk


def _chunk(k: int, n: int, ref: _Reference) -> dict[str, Rows]:
    spec = ref.spec
    rng = np.random.default_rng([spec.seed, k])
    pyr = random.Random(spec.seed * 1_000_003 + k)
    new_ids = _Ids(rng, k)
    as_of = ref.as_of_text

    def synced(rid: str, *values: object) -> tuple:
        return (rid, 0, as_of, None, "demo-data", *values)

    cust = new_ids("customer", n)
    is_biz = rng.random(n) < 0.22
    parish = rng.choice(14, n, p=ref.parish_w)
    town = np.empty(n, dtype=np.int64)
    for p in range(14):
        mask = parish == p
        town[mask] = rng.choice(ref.towns_of[p], int(mask.sum()), p=ref.town_w[p])
    lat = ref.town_lat[town] + rng.normal(0, 0.01, n)
    lon = ref.town_lon[town] + rng.normal(0, 0.01, n)
    female = rng.random(n) < 0.52
    first_f = rng.integers(0, len(ref.female), n)
    first_m = rng.integers(0, len(ref.male), n)
    surname = rng.choice(len(ref.surnames), n, p=ref.surname_w)
    rep_of_parish = [np.flatnonzero(ref.rep_parish == p) for p in range(14)]
    rep = np.array([rep_of_parish[p][rng.integers(0, len(rep_of_parish[p]))] for p in parish])
    acq = (ref.days * rng.beta(1.4, 1.0, n)).astype(np.int64).clip(0, ref.days - 1)
    life = rng.exponential(np.where(is_biz, 12.0, 8.0) * 365.0)
    churn_day = acq + life.astype(np.int64)
    churned = churn_day < ref.days - 1
    end = np.minimum(churn_day, ref.days - 1)
    rate = rng.gamma(1.5, np.where(is_biz, 9.0, 3.0) / 1.5)  # purchases a year
    trade = rng.integers(0, len(R.TRADES), n)
    cat_pref = np.array([
        ref.categories.index(pyr.choice(R.TRADE_CATEGORIES[R.TRADES[t][1]])) if b
        else int(rng.integers(0, len(ref.categories)))
        for t, b in zip(trade.tolist(), is_biz.tolist(), strict=True)
    ])

    # ---- transactions: a Poisson process thinned by the day-of-year multiplier
    years_active = (end - acq + 1) / 365.0
    mmax = float(ref.day_mult.max())
    cnt = np.minimum(rng.poisson(rate * years_active * mmax), 2_000)
    t_c = np.repeat(np.arange(n), cnt)
    t_day = acq[t_c] + (rng.random(t_c.size) * (end - acq + 1)[t_c]).astype(np.int64)
    keep = rng.random(t_c.size) < ref.day_mult[t_day] / mmax
    fading = churned[t_c] & (t_day > end[t_c] - 180)  # buying slows before a customer leaves
    keep &= ~fading | (rng.random(t_c.size) < 0.5)
    t_c, t_day = t_c[keep], t_day[keep]
    t_sec = 5 * 3600 + 8 * 3600 + rng.integers(0, 11 * 3600, t_c.size)  # 08:00-19:00 Jamaica, in UTC
    order = np.lexsort((t_sec, t_day, t_c))
    t_c, t_day, t_sec = t_c[order], t_day[order], t_sec[order]
    nt = t_c.size
    lens = np.array([len(c) for c in ref.cat_products])
    pick = rng.random(nt)
    cat = np.where(rng.random(nt) < 0.65, cat_pref[t_c], rng.integers(0, len(lens), nt))
    prod = np.array([ref.cat_products[c][i] for c, i in
                     zip(cat.tolist(), (pick * lens[cat]).astype(int).tolist(), strict=True)],
                    dtype=np.int64)
    qty = 1 + rng.geometric(np.where(is_biz[t_c], 0.25, 0.7)) - 1
    qty = np.where(ref.product_price[prod] > 5_000_000, 1, np.maximum(qty, 1))
    amount = ref.product_price[prod] * qty
    permille = np.where(t_day >= ref.gct_day, 150, 165)
    gct = np.where(ref.product_gct[prod], (amount * permille + 500) // 1000, 0)
    channel = np.where(
        is_biz[t_c], rng.choice(4, nt, p=[0.3, 0.25, 0.15, 0.3]), rng.choice(4, nt, p=[0.55, 0.15, 0.15, 0.15])
    )
    channels = ("store", "phone", "online", "field")
    camp = ref.campaign_of_day[t_day]
    camp = np.where((camp >= 0) & (rng.random(nt) < 0.3), camp, -1)
    t_ids = new_ids("transaction", nt)
    stamps = _ts(t_day, t_sec, ref.start)
    rep_l = rep.tolist()
    txn_rows = [
        synced(tid, cust[c], ts, ref.product_ids[p], q, a, g, a + g, channels[ch],
               ref.rep_ids[rep_l[c]] if ch in (1, 3) else None,
               ref.campaigns[cp][0] if cp >= 0 else None)
        for tid, c, ts, p, q, a, g, ch, cp in zip(
            t_ids, t_c.tolist(), stamps, prod.tolist(), qty.tolist(), amount.tolist(),
            gct.tolist(), channel.tolist(), camp.tolist(), strict=True)
    ]

    # ---- per-customer summary and segment (as of the as-of date)
    count = np.bincount(t_c, minlength=n)
    spend = np.bincount(t_c, weights=(amount + gct).astype(float), minlength=n).astype(np.int64)
    has = count > 0
    last_day = np.full(n, -1, dtype=np.int64)
    first_stamp: list[str | None] = [None] * n
    last_stamp: list[str | None] = [None] * n
    if nt:  # transactions are sorted by (customer, day); same-day order does not matter here
        first_i = np.searchsorted(t_c, np.arange(n))
        last_i = first_i + count - 1
        last_day[has] = t_day[last_i[has]]
        day_first = [stamps[j] for j in first_i[has].tolist()]
        day_last = [stamps[j] for j in last_i[has].tolist()]
        for j, c in enumerate(np.flatnonzero(has).tolist()):
            first_stamp[c], last_stamp[c] = day_first[j], day_last[j]
    recency = np.where(has, ref.days - 1 - last_day, 10_000)
    vip_line = np.quantile(spend[has], 0.9) if has.any() else 0
    seg = np.select(
        [(ref.days - 1 - acq) <= 90, recency > 365, (recency > 120) & (count >= 5),
         (spend >= vip_line) & (recency <= 120) & has, (count >= 12) & (recency <= 120),
         count >= 4],
        ["New", "Dormant", "At risk", "VIP", "Loyal", "Regular"], "Occasional",
    )
    open_leads = np.zeros(n, dtype=np.int64)

    # ---- people, contact points, addresses, source records
    rows: dict[str, list[tuple]] = {t: [] for t in (
        "customer", "contact_point", "customer_address", "source_record", "identity_link",
        "social_profile", "business", "business_customer_relationship", "lead", "sales_activity",
        "consent", "note", "demo_truth_person", "demo_truth_source", "customer_summary",
        "interaction")}
    # area code + exchange (6 digits) and a 4-digit line number: +1 876 xxx xxxx
    mob = ref.mobile[rng.integers(0, ref.mobile.size, n)] * 10_000 + rng.integers(0, 10_000, n)
    fix = ref.fixed[rng.integers(0, ref.fixed.size, n)] * 10_000 + rng.integers(0, 10_000, n)
    alt = ref.mobile[rng.integers(0, ref.mobile.size, n)] * 10_000 + rng.integers(0, 10_000, n)
    trn = rng.integers(0, 100_000_000, n)
    dob_days = rng.integers(18 * 365, 85 * 365, n)
    cp_ids = iter(new_ids("contact_point", 3 * n))
    addr_ids = iter(new_ids("customer_address", 2 * n))
    src_ids = iter(new_ids("source_record", 5 * n))
    link_ids = iter(new_ids("identity_link", 5 * n))
    soc_ids = iter(new_ids("social_profile", n))
    biz_ids = iter(new_ids("business", n))
    bcr_ids = iter(new_ids("bcr", n))
    lead_ids = iter(new_ids("lead", n))
    act_ids = iter(new_ids("sales_activity", 3 * n))
    con_ids = iter(new_ids("consent", 3 * n))
    note_ids = iter(new_ids("note", n))
    extra_customers = new_ids("customer", n)  # ids for unresolved duplicates (a few are used)
    dup_no = 0
    as_of_d = spec.as_of
    names: list[str] = []
    for i in range(n):
        cid = cust[i]
        p = ref.parishes[int(parish[i])]
        t = ref.towns[int(town[i])]
        street = f"{pyr.randint(1, 250)} {pyr.choice(R.STREETS)}"
        biz = bool(is_biz[i])
        if biz:
            sur = ref.surnames[int(surname[i])]
            trade_name = R.TRADES[int(trade[i])][0]
            style = pyr.random()
            if style < 0.35:
                bname = f"{sur}'s {trade_name}"
            elif style < 0.7:
                bname = f"{pyr.choice(R.BUSINESS_WORDS)} {trade_name}"
            else:
                bname = f"{t.name} {trade_name}"
            suffix = pyr.choice(R.BUSINESS_SUFFIXES)
            bname = f"{bname} {suffix}".strip()
            given = family = None
            display = bname
            phone = f"+1{fix[i]}"
            email = f"info@{_slug(bname)[:20]}.com.jm" if pyr.random() < 0.7 else (
                f"{_slug(bname)[:20]}@gmail.com" if pyr.random() < 0.5 else None)
            trn_s = f"0{trn[i]:08d}" if pyr.random() < 0.95 else None
            dob = None
        else:
            given = ref.female[int(first_f[i])] if female[i] else ref.male[int(first_m[i])]
            family = ref.surnames[int(surname[i])]
            bname = None
            display = f"{given} {family}"
            phone = f"+1{mob[i]}"
            if pyr.random() < 0.72:
                dom = pyr.choices([d for d, _ in R.EMAIL_DOMAINS], [w for _, w in R.EMAIL_DOMAINS])[0]
                email = f"{_slug(given)}.{_slug(family)}{pyr.randint(1, 999)}@{dom}"
            else:
                email = None
            trn_s = f"1{trn[i]:08d}" if pyr.random() < 0.65 else None
            dob = (as_of_d - timedelta(days=int(dob_days[i]))).isoformat()
        names.append(display)
        created = f"{(ref.start + timedelta(days=int(acq[i]))).isoformat()} 12:00:00"
        rows["customer"].append(synced(
            cid, "business" if biz else "individual", display, given, family, bname, trn_s, dob,
            street, t.name, p.code, None, round(float(lat[i]), 5), round(float(lon[i]), 5), phone,
            email, ref.segment_ids[str(seg[i])], ref.rep_ids[int(rep[i])],
            "churned" if churned[i] else "active", created))
        rows["contact_point"].append(synced(next(cp_ids), cid, "phone", phone,
                                            "work" if biz else "mobile", 1, "demo"))
        second = None
        if pyr.random() < 0.3:
            second = f"+1{alt[i]}"
            rows["contact_point"].append(synced(next(cp_ids), cid, "phone", second,
                                                "mobile" if biz else "home", 0, "demo"))
        if email:
            rows["contact_point"].append(synced(next(cp_ids), cid, "email", email, "", 1, "demo"))
        rows["customer_address"].append(synced(
            next(addr_ids), cid, "billing", street, t.name, p.code, None,
            round(float(lat[i]), 5), round(float(lon[i]), 5)))
        old_street = old_town = old_parish = None
        if pyr.random() < 0.15:  # moved: the older systems still hold the previous address
            ot = ref.towns[pyr.randrange(len(ref.towns))]
            old_street, old_town, old_parish = f"{pyr.randint(1, 250)} {pyr.choice(R.STREETS)}", ot.name, ot.parish_code
            rows["customer_address"].append(synced(
                next(addr_ids), cid, "previous", old_street, old_town, old_parish, None,
                ot.lat, ot.lon))
        person = cid
        rows["demo_truth_person"].append((cid, person, 0, f"{(ref.start + timedelta(days=int(end[i]))).isoformat()} 00:00:00" if churned[i] else None, float(rate[i])))

        def source(system: str, ext: str, fields: dict, variations: list[str], owner: str = cid) -> None:
            sid = next(src_ids)
            rows["source_record"].append(synced(
                sid, system, ext, json.dumps(fields), json.dumps({"file": f"demo/{system}", "row": i + k * CHUNK}), created))
            rows["identity_link"].append(synced(next(link_ids), sid, owner, 1.0, "demo:seed", None, created))
            rows["demo_truth_source"].append((sid, person, ",".join(variations) or None))

        addr_street, addr_town, addr_parish = street, t.name, p.code
        if old_street and pyr.random() < 0.7:
            addr_street, addr_town, addr_parish = old_street, old_town, old_parish
        if count[i] > 0 or pyr.random() < 0.5:  # QuickBooks: the accounting system
            var: list[str] = []
            name_qb = f"{family}, {given}" if not biz else bname
            if not biz and pyr.random() < 0.12:
                name_qb, var = _typo(name_qb, pyr), ["typo"]
            ph = _phone_variant(phone, pyr)
            var.append("phone_format")
            if addr_street != street:
                var.append("old_address")
            source("quickbooks", f"QB-{k * CHUNK + i + 1:07d}", {
                "Customer": name_qb, "Phone": ph, "Email": email or "",
                "Bill to": f"{addr_street}, {addr_town}, {_parish_variant(addr_parish, pyr)}",
                "Tax ID": trn_s or ""}, var)
        if pyr.random() < 0.5:  # the sales team's spreadsheet
            var = []
            if biz:
                nm = _business_variant(bname, pyr)
                if nm != bname:
                    var.append("business_suffix")
            else:
                nick = R.NICKNAMES.get(given)
                nm_given = nick if nick and pyr.random() < 0.5 else given
                if nm_given != given:
                    var.append("nickname")
                nm = f"{nm_given} {family}"
                if pyr.random() < 0.25:
                    nm, var = _typo(nm, pyr), [*var, "typo"]
            use_phone = second if second and pyr.random() < 0.5 else phone
            var.append("phone_format")
            fields = {"Name": nm, "Phone": _phone_variant(use_phone, pyr),
                      "Town": t.name, "Parish": _parish_variant(p.code, pyr)}
            owner = cid
            if not biz and pyr.random() < 0.04:  # never merged: a duplicate golden record
                owner = extra_customers[dup_no]
                dup_no += 1
                var.append("unresolved_duplicate")
                rows["customer"].append(synced(
                    owner, "individual", nm, nm.split(" ")[0], " ".join(nm.split(" ")[1:]), None,
                    None, None, None, t.name, p.code, None, None, None, phone, None, None,
                    ref.rep_ids[int(rep[i])], "active", created))
                rows["contact_point"].append(synced(next(cp_ids), owner, "phone", phone, "mobile", 1, "spreadsheet"))
                rows["demo_truth_person"].append((owner, person, 1, None, 0.0))
                rows["customer_summary"].append((owner, 0, 0, None, None, 0))
            source("spreadsheet", f"SHEET-{k * CHUNK + i + 1:07d}", fields, var, owner)
        if biz:
            bid = next(biz_ids)
            rows["business"].append(synced(
                bid, bname, R.TRADES[int(trade[i])][1], street, t.name, p.code, phone, email,
                f"https://{_slug(bname)[:20]}.com.jm" if pyr.random() < 0.4 else None,
                round(float(lat[i]), 5), round(float(lon[i]), 5)))
            rows["business_customer_relationship"].append(synced(next(bcr_ids), bid, cid, "self"))
            if pyr.random() < 0.7:  # the business directory
                nm = _business_variant(bname, pyr)
                source("directory", f"DIR-{k * CHUNK + i + 1:07d}", {
                    "Business Name": nm, "Telephone": _phone_variant(phone, pyr),
                    "Address": f"{street}, {t.name}", "Parish": _parish_variant(p.code, pyr),
                    "Category": R.TRADES[int(trade[i])][0]},
                    ["phone_format"] + (["business_suffix"] if nm != bname else []))
        if pyr.random() < (0.6 if biz else 0.35):  # social
            platform = pyr.choice(("Facebook", "Instagram", "TikTok", "X") if not biz else ("Facebook", "Instagram", "LinkedIn"))
            handle = (_slug(bname)[:18] + "ja") if biz else f"{_slug(given)}{_slug(family)[:6]}{pyr.randint(1, 99)}"
            rows["social_profile"].append(synced(
                next(soc_ids), cid, platform, handle, f"https://{platform.lower()}.com/{handle}",
                int(pyr.paretovariate(1.2) * 80)))
            display_social = bname if biz else (R.NICKNAMES.get(given, given) + " " + family if pyr.random() < 0.5 else f"{given} {family[0]}.")
            source("social", f"{platform.upper()}-{k * CHUNK + i + 1:07d}", {
                "Display name": display_social, "Handle": f"@{handle}", "Platform": platform,
                "Location": t.name}, ["nickname"] if display_social != display else [])
        for ch in ("email", "sms", "whatsapp"):
            if pyr.random() < {"email": 0.6, "sms": 0.4, "whatsapp": 0.3}[ch]:
                status = "withdrawn" if pyr.random() < 0.08 else "granted"
                rows["consent"].append(synced(next(con_ids), cid, ch, "marketing", status, created, "demo"))
        if pyr.random() < 0.12:  # an open or recent sales opportunity
            status = pyr.choices(("new", "contacted", "qualified", "won", "lost"), (3, 3, 2, 1, 1))[0]
            lead_day = max(int(acq[i]), ref.days - 1 - pyr.randint(0, 200))
            lid = next(lead_ids)
            value = int(spend[i] / max(count[i], 1)) * pyr.randint(2, 6) if count[i] else pyr.randint(20, 400) * 100_000
            last_contact = None
            for _ in range(pyr.randint(0, 3) if status != "new" else 0):
                aday = min(ref.days - 1, lead_day + pyr.randint(0, 30))
                stamp = f"{(ref.start + timedelta(days=aday)).isoformat()} {pyr.randint(13, 23):02d}:{pyr.randint(0, 59):02d}:00"
                last_contact = max(last_contact or stamp, stamp)
                rows["sales_activity"].append(synced(
                    next(act_ids), cid, lid, ref.rep_ids[int(rep[i])],
                    pyr.choice(("call", "email", "meeting", "visit")), stamp,
                    pyr.choice(("reached", "left message", "no answer", "interested", "quote sent")), None))
            rows["lead"].append(synced(
                lid, cid, ref.rep_ids[int(rep[i])], status,
                pyr.choice(("campaign", "referral", "walk-in", "website", "social")), value,
                f"{(ref.start + timedelta(days=lead_day)).isoformat()} 15:00:00", last_contact, None))
            if status in ("new", "contacted", "qualified"):
                open_leads[i] += 1
        rows["customer_summary"].append((
            cid, int(count[i]), int(spend[i]), first_stamp[i], last_stamp[i], int(open_leads[i])))
        if pyr.random() < 0.05:
            rows["note"].append(synced(
                next(note_ids), cid, pyr.choice(R.NOTE_TEXTS), ref.rep_names[int(rep[i])],
                f"{(ref.start + timedelta(days=int(end[i]))).isoformat()} 16:30:00"))

    # ---- interactions: churners complain more before they leave
    icnt = np.minimum(rng.poisson(1.5 + 0.5 * np.sqrt(count) + 2.0 * churned), 60)
    i_c = np.repeat(np.arange(n), icnt)
    ni = i_c.size
    span = np.minimum(end + 30, ref.days - 1) - acq + 1
    i_day = acq[i_c] + (rng.random(ni) * span[i_c]).astype(np.int64)
    late = churned[i_c] & (i_day > end[i_c] - 120)
    p_neg = np.where(late, 0.55, 0.12)
    u = rng.random(ni)
    mood = np.where(u < p_neg, 2, np.where(u < p_neg + 0.35, 0, 1))  # 0 pos, 1 neutral, 2 neg
    sentiment = np.select([mood == 0, mood == 1], [rng.uniform(0.4, 0.95, ni), rng.uniform(-0.15, 0.2, ni)],
                          rng.uniform(-0.95, -0.4, ni))
    ichan = ("call", "email", "visit", "social", "support", "sms", "whatsapp")
    chan = np.where(mood == 2, rng.choice(7, ni, p=[0.25, 0.2, 0.05, 0.2, 0.25, 0.0, 0.05]),
                    rng.choice(7, ni, p=[0.3, 0.25, 0.15, 0.1, 0.05, 0.05, 0.1]))
    i_sec = 5 * 3600 + 8 * 3600 + rng.integers(0, 12 * 3600, ni)
    i_stamps = _ts(i_day, i_sec, ref.start)
    i_ids = new_ids("interaction", ni)
    moods = ("positive", "neutral", "negative")
    for iid, c, ts, m, s, ch in zip(i_ids, i_c.tolist(), i_stamps, mood.tolist(), sentiment.tolist(), chan.tolist(), strict=True):
        subject, body = pyr.choice(R.INTERACTION_TEMPLATES[moods[m]])
        body = body.format(product=pyr.choice(ref.products)[1].lower(), town=ref.towns[int(town[c])].name,
                           rep=ref.rep_names[rep_l[c]])
        rows["interaction"].append(synced(
            iid, cust[c], ts, ichan[ch], "outbound" if pyr.random() < 0.3 else "inbound",
            subject, body, round(s, 2), ref.rep_ids[rep_l[c]] if ch in (0, 2) else None))

    out: dict[str, Rows] = {name: (_COLUMNS[name], data) for name, data in rows.items()}
    out["transaction"] = (_COLUMNS["transaction"], txn_rows)
    return out


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


def _reference_rows(ref: _Reference) -> dict[str, Rows]:
    as_of = ref.as_of_text

    def synced(rid: str, *values: object) -> tuple:
        return (rid, 0, as_of, None, "demo-data", *values)

    county = {r.code: None for r in ref.parishes}
    spend_rows = []
    spend_rng = np.random.default_rng([ref.spec.seed, 999_999])
    ids = _Ids(spend_rng, 10_000_000)
    for cid, _name, start, end, channel, budget, _seg in ref.campaigns:
        days = (min(end, ref.spec.as_of) - start).days + 1
        weeks = max(1, (days + 6) // 7)
        share = spend_rng.dirichlet(np.ones(weeks)) * budget * spend_rng.uniform(0.8, 1.15)
        for w, sid in enumerate(ids("campaign_spend", weeks)):
            impressions = int(share[w] / 100 * spend_rng.uniform(3, 12))
            spend_rows.append(synced(sid, cid, (start + timedelta(days=7 * w)).isoformat(), channel,
                                     int(share[w]), impressions, int(impressions * spend_rng.uniform(0.005, 0.03))))
    return {
        "territory": (_SYNC + ("code", "name", "county"), [
            synced(tid, p.code, p.name, county[p.code]) for tid, p in zip(ref.territory_ids, ref.parishes, strict=True)]),
        "segment": (_SYNC + ("name", "description", "method"), [
            synced(ref.segment_ids[name], name, desc, "rfm-rule") for name, desc in R.SEGMENTS]),
        "product": (_SYNC + ("sku", "name", "category", "unit_price_cents", "gct_applicable"), [
            synced(pid, *p[:3], p[3] * 100, int(p[4])) for pid, p in zip(ref.product_ids, ref.products, strict=True)]),
        "sales_rep": (_SYNC + ("name", "email", "phone", "role", "territory_id"), [
            synced(rid, name, f"{_slug(name)}@bluemahoe.com.jm", None, "field_rep",
                   ref.territory_ids[int(ref.rep_parish[i])])
            for i, (rid, name) in enumerate(zip(ref.rep_ids, ref.rep_names, strict=True))]),
        "marketing_campaign": (_SYNC + ("name", "channel", "start_date", "end_date", "budget_cents", "target_segment_id"), [
            synced(cid, name, channel, start.isoformat(), end.isoformat(), budget,
                   ref.segment_ids[seg] if seg else None)
            for cid, name, start, end, channel, budget, seg in ref.campaigns]),
        "campaign_spend": (_SYNC + ("campaign_id", "spend_date", "channel", "amount_cents", "impressions", "clicks"), spend_rows),
    }


def generate(spec: DemoSpec) -> Iterator[dict[str, Rows]]:
    """The dataset as a stream of {table: (columns, rows)} batches, reference data first."""
    if spec.customers < 1:
        raise ValueError(f"customers: {spec.customers} must be at least 1")
    ref = _Reference(spec)
    yield _reference_rows(ref)
    for k, start in enumerate(range(0, spec.customers, CHUNK)):
        yield _chunk(k, min(CHUNK, spec.customers - start), ref)


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
                     overwrite: bool = False) -> Path:
    """Write the demo dataset to a new cache at ``out``. The cache is built beside it under a
    temporary name and moved into place at the end, so an interrupted build leaves nothing."""
    out = Path(out).expanduser().resolve()
    if out.exists() and not overwrite:
        raise CacheError(f"{out} already exists; choose another path (or pass --force to replace it).")
    ensure_writable_dir(out.parent)
    tmp = out.with_name(out.name + ".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    progress = progress or Progress()
    try:
        cache = open_cache(tmp)
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
            meta = {"demo_seed": spec.seed, "demo_as_of": spec.as_of.isoformat(),
                    "demo_customers": spec.customers, "created_at": datetime.now().isoformat(timespec="seconds"),
                    "last_sync_at": None}
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
