"""Realistic person records with known truth, for the identity-resolution scale benchmark.

Base people get a given name and surname (the Jamaican lists in resources plus common names
of the island's English, Irish, Scottish, Chinese, Indian and Lebanese families), a date of
birth, a phone (876/658), an e-mail, a street address, a town and its parish. Copies are
perturbed as real source systems perturb them: typos (swap, drop, double, substitute a
letter), given name and surname swapped, nicknames (William -> Bill), missing values, phones in
other formats or without the area code, e-mail in capitals, dates written day-first or
US-style, "Rd"/"Road", an old address, a business suffix. The id carries nothing; the truth
is returned apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from c360_desktop.core.identity.standardise import NICKNAMES
from c360_desktop.core.jamaica import names, towns

EXTRA_SURNAMES = tuple((  # noqa: SIM905
    "Allen Anderson Atkinson Bailey Barnes Barrett Beckford Bennett Blake Bogle Bowen Bryan Burke Chambers Chin "
    "Chung Clarke Cole Cooper Cunningham Dacosta Daley Davis Dixon Douglas Duncan Dyer Edwards Ellis Facey Ferguson "
    "Fletcher Ford Forbes Foster Francis Fraser Gayle Gordon Graham Grant Gray Green Hall Hamilton Harris Harvey "
    "Henry Hibbert Hinds Hines Hylton Issa Jackson James Johnson Jones Kelly Kennedy Lawrence Lee Levy Lewis Lindo "
    "Livingston Lyn Mahfood Mais Malcolm Marshall Martin Matalon McCalla McDonald McFarlane McKenzie McLean "
    "Miller Mitchell Moodie Morgan Morrison Murray Nelson Nembhard Nicholson Palmer Parchment Patterson Pinnock "
    "Powell Ramdial Reid Richards Riley Roberts Robinson Rodney Rowe Russell Samuels Scott Seaga Shaw Simpson "
    "Sinclair Singh Smith Spence Stephens Stewart Sutherland Taylor Thomas Thompson Tulloch Tomlinson Walker "
    "Walters Watson Webb White Whyte Williams Wilson Wong Wright Young Yap Azan Hanna Chen Ho Lyew Fong Chang").split())
EXTRA_GIVEN = tuple((  # noqa: SIM905
    "Aaliyah Abigail Adrian Ainsley Ajani Akeem Alicia Andre Andrea Annette Antoinette Ashley Audrey Barrington "
    "Beverley Brian Camille Carlene Carlton Carol Charmaine Chevelle Claudette Clive Collin Courtney Damion Delroy "
    "Denise Desmond Devon Donovan Dwayne Earl Everton Fitzroy Gareth Garfield Gillian Glenroy Hopeton Horace "
    "Janet Jermaine Jodi Kadian Kamar Karen Kerry-Ann Kimberley Latoya Leroy Lloyd Marcia Marlon Maxine Merline "
    "Monique Nadine Natalie Neville Nicola Norman Novelette Odane Omar Orville Patrice Paulette Renee Ricardo "
    "Rohan Roxanne Sanjay Shanique Shawn Sheldon Sherine Simone Sonia Tamika Tanya Trevor Tyrone Vanessa "
    "Winston Yvonne Zara").split())


def _typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 3:
        return text
    k = int(rng.integers(1, len(text) - 1))
    kind = rng.integers(0, 4)
    if kind == 0:
        return text[:k] + text[k + 1] + text[k] + text[k + 2:]
    if kind == 1:
        return text[:k] + text[k + 1:]
    if kind == 2:
        return text[:k] + text[k] + text[k:]
    return text[:k] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))] + text[k + 1:]


def people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lists = names()
    surnames = sorted(set(lists["surname"]) | set(EXTRA_SURNAMES))
    given = sorted(set(lists["female"]) | set(lists["male"]) | set(EXTRA_GIVEN)
                   | {v.capitalize() for v in NICKNAMES.values()})
    place = towns()
    weights = np.array([max(t.population, 500) for t in place], dtype=float) ** 0.6
    weights /= weights.sum()
    town_idx = rng.choice(len(place), n, p=weights)
    streets = ("Hope Road", "Constant Spring Road", "Main Street", "King Street", "Church Street", "Barbican Road",
               "Red Hills Road", "Molynes Road", "Hagley Park Road", "Manchester Road", "Brumalia Road",
               "Caledonia Road", "Market Street", "Gloucester Avenue", "Spanish Town Road", "Old Hope Road",
               "Mountain View Avenue", "Waltham Park Road", "Washington Boulevard", "Orange Street")
    g = rng.choice(given, n)
    s = rng.choice(surnames, n)
    dob = pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 365 * 65, n), unit="D")
    area = rng.choice(["876", "658"], n, p=[0.9, 0.1])
    line = rng.integers(2_000_000, 9_999_999, n)
    domains = rng.choice(["gmail.com", "yahoo.com", "hotmail.com", "cwjamaica.com", "flowja.com"], n)
    return pd.DataFrame({
        "given_name": g, "surname": s, "dob": dob.strftime("%Y-%m-%d"),
        "phone": [f"{a}{x}" for a, x in zip(area, line, strict=True)],
        "email": [f"{a.lower()}.{b.lower()}{k % 997}@{d}" for k, (a, b, d) in enumerate(zip(g, s, domains, strict=True))],
        "street": [f"{int(rng.integers(1, 300))} {rng.choice(streets)}" for _ in range(n)],
        "town": [place[k].name for k in town_idx],
        "parish": [place[k].parish_code for k in town_idx],
    })


def perturb(base: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A copy of each row as another system would hold it."""
    rng = np.random.default_rng(seed)
    out = base.copy()
    n = len(out)
    inverse = {}
    for nick, formal in NICKNAMES.items():
        inverse.setdefault(formal.capitalize(), nick.capitalize())
    for col in ("given_name", "surname", "street", "town"):
        hit = rng.random(n) < (0.15 if col in ("given_name", "surname") else 0.08)
        out.loc[hit, col] = [_typo(rng, v) for v in out.loc[hit, col]]
    nick = rng.random(n) < 0.08
    out.loc[nick, "given_name"] = [inverse.get(v, v) for v in out.loc[nick, "given_name"]]
    swap = rng.random(n) < 0.03
    out.loc[swap, ["given_name", "surname"]] = out.loc[swap, ["surname", "given_name"]].to_numpy()
    fmt = rng.integers(0, 5, n)
    phones = out["phone"].to_numpy()
    out["phone"] = [p if f == 0 else f"({p[:3]}) {p[3:6]}-{p[6:]}" if f == 1 else f"{p[:3]}.{p[3:6]}.{p[6:]}"
                    if f == 2 else f"+1 {p[:3]} {p[3:6]} {p[6:]}" if f == 3 else f"{p[3:6]}-{p[6:]}"
                    for p, f in zip(phones, fmt, strict=True)]
    newphone = rng.random(n) < 0.1  # a different number altogether
    out.loc[newphone, "phone"] = [f"876{x}" for x in rng.integers(2_000_000, 9_999_999, int(newphone.sum()))]
    d = pd.to_datetime(out["dob"])
    style = rng.integers(0, 3, n)
    out["dob"] = np.where(style == 0, d.dt.strftime("%Y-%m-%d"), np.where(style == 1, d.dt.strftime("%d/%m/%Y"),
                                                                            d.dt.strftime("%d %b %Y")))
    dtypo = rng.random(n) < 0.05
    out.loc[dtypo, "dob"] = [_typo(rng, v) for v in out.loc[dtypo, "dob"]]
    out["email"] = np.where(rng.random(n) < 0.2, out["email"].str.upper(), out["email"])
    out["street"] = out["street"].str.replace("Road", "Rd", regex=False).where(rng.random(n) < 0.5, out["street"])
    moved = rng.random(n) < 0.07
    if moved.any():
        others = base.sample(int(moved.sum()), random_state=seed, replace=True)
        out.loc[moved, ["street", "town", "parish"]] = others[["street", "town", "parish"]].to_numpy()
    for col, rate in (("email", 0.3), ("dob", 0.1), ("phone", 0.05), ("street", 0.05)):
        gone = rng.random(n) < rate
        out.loc[gone, col] = ""
    return out


def link_pair(n: int, overlap: float = 0.7, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[int, int]]]:
    """Two files of n records; ``overlap`` of the second are people of the first."""
    a = people(n, seed)
    shared = int(n * overlap)
    rng = np.random.default_rng(seed + 1)
    who = rng.choice(n, shared, replace=False)
    b = pd.concat([perturb(a.iloc[who].reset_index(drop=True), seed + 2), people(n - shared, seed + 5)],
                  ignore_index=True)
    order = rng.permutation(n)
    b = b.iloc[order].reset_index(drop=True)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    truth = {(int(who[k]), int(position[k])) for k in range(shared)}
    a.insert(0, "id", [f"A{k:07d}" for k in range(n)])
    b.insert(0, "id", [f"B{k:07d}" for k in range(n)])
    return a, b, truth


def dedupe_set(n: int, seed: int = 11) -> tuple[pd.DataFrame, np.ndarray]:
    """n records of people with 0-3 extra copies each; returns the records and each one's person."""
    rng = np.random.default_rng(seed)
    copies = rng.choice([1, 2, 3, 4], size=n, p=[0.6, 0.25, 0.1, 0.05])
    persons = int(np.searchsorted(np.cumsum(copies), n)) + 1
    copies = copies[:persons]
    base = people(persons, seed)
    parts, who = [base], [np.arange(persons)]
    for extra in range(1, 4):
        take = np.flatnonzero(copies > extra)
        parts.append(perturb(base.iloc[take].reset_index(drop=True), seed + extra))
        who.append(take)
    data = pd.concat(parts, ignore_index=True).iloc[:n]
    person = np.concatenate(who)[:n]
    order = rng.permutation(len(data))
    data = data.iloc[order].reset_index(drop=True)
    data.insert(0, "id", [f"R{k:08d}" for k in range(len(data))])
    return data, person[order]
