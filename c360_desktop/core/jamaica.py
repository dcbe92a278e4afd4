"""Jamaican reference data (parishes, towns, names) loaded once from the bundled CSV files."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

ATTRIBUTION = (
    "Parish boundaries: Natural Earth (public domain). Towns and coordinates: GeoNames "
    "(geonames.org, CC BY 4.0). Census figures: STATIN 2011."
)


@dataclass(frozen=True, slots=True)
class Parish:
    code: str  # ISO 3166-2, JM-01 .. JM-14
    name: str  # "Saint Andrew"
    address_name: str  # "St. Andrew", as written on addresses
    capital: str
    lat: float
    lon: float
    population: int


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    parish_code: str
    lat: float
    lon: float
    population: int


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("c360_desktop.resources").joinpath("jamaica", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def parishes() -> tuple[Parish, ...]:
    return tuple(
        Parish(
            code=r["iso_3166_2"],
            name=r["name"],
            address_name=r["address_name"],
            capital=r["capital"],
            lat=float(r["label_lat"]),
            lon=float(r["label_lon"]),
            population=int(r["population_2011_census"]),
        )
        for r in _rows("jamaica_parishes.csv")
    )


@functools.cache
def parish_by_code() -> dict[str, Parish]:
    return {p.code: p for p in parishes()}


def parish_name(code: str | None) -> str | None:
    """The parish's name as addresses write it ("St. Andrew"), or None for an unknown code."""
    parish = parish_by_code().get(code or "")
    return parish.address_name if parish else None


@functools.cache
def towns() -> tuple[Town, ...]:
    return tuple(
        Town(
            name=r["name"].replace("\u2019", "'"),
            parish_code=r["parish_iso"],
            lat=float(r["lat"]),
            lon=float(r["lon"]),
            population=int(r["population_geonames"]),
        )
        for r in _rows("jamaica_towns_geonames.csv")
    )


@functools.cache
def names() -> dict[str, tuple[str, ...]]:
    """Name lists by kind: 'surname', 'female', 'male'."""
    out: dict[str, list[str]] = {}
    for r in _rows("jamaican_names.csv"):
        out.setdefault(r["kind"], []).append(r["name"])
    return {k: tuple(v) for k, v in out.items()}


def _alias_key(text: str) -> str:
    t = " ".join(text.lower().replace(".", " ").replace("'", "").split())
    for prefix in ("saint ", "st "):
        if t.startswith(prefix):
            return "st " + t[len(prefix) :]
    return t


@functools.cache
def _parish_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for p in parishes():
        for text in (p.code, p.name, p.address_name, p.code.replace("JM-", "")):
            aliases[_alias_key(text)] = p.code
    return aliases


def parish_code(text: str) -> str | None:
    """The ISO code for a parish written any common way ("St Andrew", "Saint Andrew", "JM-02")."""
    return _parish_aliases().get(_alias_key(text)) if text and text.strip() else None
