"""Town and parish geocoding of Jamaican addresses, offline, from the bundled reference tables.

A customer's parish comes from the address (the parish written on it, else the parish of the
town), never from a point-in-polygon test: the bundled parish polygons are generalised, and towns
near a border would land in the wrong parish. The position is the customer's own coordinates when
they have them, else the town's (GeoNames), else the parish's label point; ``precision`` says
which ("exact", "town", "parish" or "none").

Towns match by name written any common way ("Mo Bay", "Montego-Bay", "Saint Ann's Bay",
"Mandevile"), checked against the parish when one is given: a town of the same name in another
parish is not taken, and the parish alone is used.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from c360_desktop.core.jamaica import Town, parish_by_code, parish_code, towns

# Names people write for towns that the gazetteer spells differently.
_TOWN_ALIASES = {
    "mobay": "Montego Bay", "mo bay": "Montego Bay", "ochi": "Ocho Rios", "ochie": "Ocho Rios",
    "halfway tree": "Half Way Tree", "hwt": "Half Way Tree", "new kgn": "New Kingston",
    "kgn": "Kingston", "sav": "Savanna-la-Mar", "sav la mar": "Savanna-la-Mar", "savlamar": "Savanna-la-Mar",
    "spanish twn": "Spanish Town", "port antonio": "Port Antonio", "st anns bay": "Saint Ann's Bay",
}
_FUZZY_CUTOFF = 88  # rapidfuzz ratio: "Mandevile" -> Mandeville (94), "May Pen" vs "Mays Pen" (93)


@dataclass(frozen=True, slots=True)
class Place:
    parish: str | None  # ISO 3166-2 code
    town: str | None  # the gazetteer's name
    lat: float | None
    lon: float | None
    precision: str  # exact | town | parish | none
    note: str = ""


def _key(text: str) -> str:
    t = text.lower().replace("\u2019", "'").replace("'", "").replace("-", " ").replace(".", " ")
    t = " ".join(re.sub(r"[^a-z0-9 ]", " ", t).split())
    t = re.sub(r"^(saint|st) ", "st ", t)
    return re.sub(r" \d+$", "", t)  # "Kingston 10": the postal zone says nothing about the town


@functools.cache
def _towns_by_key() -> dict[str, tuple[Town, ...]]:
    out: dict[str, list[Town]] = {}
    for t in towns():
        out.setdefault(_key(t.name), []).append(t)
    return {k: tuple(v) for k, v in out.items()}


@functools.cache
def _alias_keys() -> dict[str, str]:
    return {_key(a): _key(name) for a, name in _TOWN_ALIASES.items()}


def _town_candidates(town: str) -> tuple[Town, ...]:
    key = _key(town)
    if not key:
        return ()
    index = _towns_by_key()
    key = _alias_keys().get(key, key)
    if key in index:
        return index[key]
    best = process.extractOne(key, list(index), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return index[best[0]] if best else ()


@functools.lru_cache(maxsize=20_000)
def geocode(town: str | None, parish: str | None, lat: float | None = None, lon: float | None = None) -> Place:
    """Where an address is: its parish (ISO code), town, a position and how precise it is."""
    code = parish_code(parish) if parish else None
    notes = []
    if parish and code is None:
        notes.append(f"parish {parish!r} is not a Jamaican parish")
    found = _town_candidates(town) if town else ()
    match: Town | None = None
    if found:
        in_parish = [t for t in found if code is None or t.parish_code == code]
        if in_parish:
            match = max(in_parish, key=lambda t: t.population)
        else:
            notes.append(f"town {town!r} is not in {parish_by_code()[code].name if code else parish}; parish used")
    elif town:
        notes.append(f"town {town!r} is not in the gazetteer")
    note = "; ".join(notes)
    if match is not None and code is None:
        code = match.parish_code
    if lat is not None and lon is not None:
        return Place(code, match.name if match else None, lat, lon, "exact", note)
    if match is not None:
        return Place(code, match.name, match.lat, match.lon, "town", note)
    if code is not None:
        p = parish_by_code()[code]
        return Place(code, None, p.lat, p.lon, "parish", note)
    return Place(None, None, None, None, "none", note or "no town or parish on the address")
