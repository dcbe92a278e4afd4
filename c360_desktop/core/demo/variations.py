"""The differences real source systems have: typos, phone formats, parish spellings, suffixes."""

from __future__ import annotations

import random

from c360_desktop.core import jamaica


def typo(text: str, rng: random.Random) -> str:
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


def phone_variant(e164: str, rng: random.Random) -> str:
    d = e164[2:]
    return rng.choice((
        f"{d[:3]}-{d[3:6]}-{d[6:]}", f"({d[:3]}) {d[3:6]} {d[6:]}", f"({d[:3]}) {d[3:6]}-{d[6:]}",
        f"{d}", f"+1 {d[:3]} {d[3:6]} {d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}", e164,
        f"{d[:3]}.{d[3:6]}.{d[6:]}",
    ))


def parish_variant(code: str, rng: random.Random) -> str:
    p = jamaica.parish_by_code()[code]
    name = p.address_name
    if name.startswith("St. "):
        name = rng.choice((name, name.replace("St. ", "St "), p.name, name.upper()))
    return name


def business_variant(name: str, rng: random.Random) -> str:
    swaps = (("Company Limited", "Co. Ltd"), ("Limited", "Ltd"), ("Ltd", "Limited"),
             ("& Sons", "and Sons"), ("Co.", "Company"))
    for a, b in swaps:
        if a in name and rng.random() < 0.7:
            return name.replace(a, b, 1)
    return name.upper() if rng.random() < 0.3 else name


def slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())
