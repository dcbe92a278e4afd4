"""Record linkage: blocking, comparison, an unsupervised Fellegi-Sunter model, clustering.

Everything past the standardisers works on whole columns: candidate pairs are numpy index
arrays, comparisons run in rapidfuzz's C++ over aligned arrays (``process.cpdist``), the EM
works on the distinct agreement patterns (a few hundred, however many pairs), so there is no
Python loop per candidate pair.

1. Blocking: several rules, each a key built from one or two standardised fields (exact
   identifiers; name prefixes with a second field; postcode and house number...). A pair is a
   candidate when any rule puts both records in one block, so one bad field cannot hide a true
   pair. A block larger than ``max_block`` (one shared office address, a default phone number)
   is not expanded in full: it falls back to a sorted neighbourhood (each record against the
   next ``window`` records in the order of all its fields), so it cannot explode the pair count.
2. Comparison levels per field type (exact, close, similar, different; missing is "no
   information" and weighs nothing).
3. Fellegi-Sunter by EM on the candidate pairs (m and u per level and the share of matches),
   started from u-probabilities measured on random record pairs; exact agreement on a name is
   weighted by how rare the name is (term-frequency adjustment: sharing "Brown" says less than
   sharing "Fong-Yee"). Labels from review, when given, pin their pairs' posteriors. The result
   per pair is a match probability and each field's contribution in bits (log2 Bayes factor).
4. Clustering that resists chaining: links are taken strongest first, and two groups join only
   when at least half of the pairs between them are links, so one weak link between two big
   groups never glues them together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from c360_desktop.core.identity.standardise import FIELD_TYPES, standardise_column

PAIRS_PER_RECORD = 2  # a blocking rule proposing more pairs than this per input record is narrowed
PAIRS_PER_RULE_MIN = 50_000  # ... but small inputs keep their rules whole
PRIOR_PAIRS = 20.0  # weight of the starting m and the random-pair u in the EM, in pairs
NAME_TYPES = ("given_name", "surname", "full_name", "business_name")
TF_TYPES = NAME_TYPES + ("locality", "street", "phone", "email")


@dataclass(frozen=True)
class Field:
    name: str  # the column (the same name in both inputs once mapped)
    type: str  # one of standardise.FIELD_TYPES

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name}: type {self.type!r} is not one of {', '.join(FIELD_TYPES)}")


# ---- comparison levels ------------------------------------------------------------------------

def _jw(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(process.cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=-1))


def _lev(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(process.cpdist(a, b, scorer=Levenshtein.distance, workers=-1))


def _levels_text(a: np.ndarray, b: np.ndarray, token: bool) -> np.ndarray:
    out = np.zeros(len(a), dtype=np.int8)
    sim = _jw(a, b)
    if token:  # word order and extra words ("jerk centre" / "centre jerk", "hope road" / "hope rd")
        sim = np.maximum(sim, np.asarray(process.cpdist(a, b, scorer=fuzz.token_set_ratio, workers=-1)) / 100)
    out[sim >= 0.80] = 1
    out[sim >= 0.92] = 2
    out[a == b] = 3
    return out


def _levels_code(a: np.ndarray, b: np.ndarray, near: int) -> np.ndarray:
    out = np.zeros(len(a), dtype=np.int8)
    if near:
        d = _lev(a, b)
        out[d <= near] = 1
        if near > 1:
            out[d <= 1] = 2
            out[a == b] = 3
            return out
    out[a == b] = 2 if near else 1
    return out


def _levels_phone(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = _levels_code(a, b, 1)  # 0 different, 1 one digit off, 2 equal
    tail_a = np.array([x[-7:] for x in a], dtype=object)
    tail_b = np.array([x[-7:] for x in b], dtype=object)
    same_tail = (tail_a == tail_b) & (out < 2)  # the same line written with or without its area code
    out[same_tail] = 1
    return out


def _levels_email(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(len(a), dtype=np.int8)
    local_a = np.array([x.split("@")[0] for x in a], dtype=object)
    local_b = np.array([x.split("@")[0] for x in b], dtype=object)
    out[_jw(a, b) >= 0.9] = 1
    out[local_a == local_b] = 2
    out[a == b] = 3
    return out


LEVELS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], tuple[str, ...]]] = {
    "given_name": (lambda a, b: _levels_text(a, b, False), ("different", "similar", "close", "exact")),
    "surname": (lambda a, b: _levels_text(a, b, False), ("different", "similar", "close", "exact")),
    "full_name": (lambda a, b: _levels_text(a, b, True), ("different", "similar", "close", "exact")),
    "business_name": (lambda a, b: _levels_text(a, b, True), ("different", "similar", "close", "exact")),
    "street": (lambda a, b: _levels_text(a, b, True), ("different", "similar", "close", "exact")),
    "locality": (lambda a, b: _levels_text(a, b, False), ("different", "similar", "close", "exact")),
    "other": (lambda a, b: _levels_text(a, b, False), ("different", "similar", "close", "exact")),
    "street_number": (lambda a, b: _levels_code(a, b, 0), ("different", "exact")),
    "region": (lambda a, b: _levels_code(a, b, 0), ("different", "exact")),
    "postcode": (lambda a, b: _levels_code(a, b, 1), ("different", "one character off", "exact")),
    "date": (lambda a, b: _levels_code(a, b, 2), ("different", "two digits off", "one digit off", "exact")),
    "id_number": (lambda a, b: _levels_code(a, b, 2), ("different", "two characters off", "one character off",
                                                        "exact")),
    "phone": (_levels_phone, ("different", "one digit off or same line", "exact")),
    "email": (_levels_email, ("different", "similar", "same mailbox name", "exact")),
}


def compare(left: dict[str, np.ndarray], right: dict[str, np.ndarray], fields: Sequence[Field],
            i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Levels (pairs x fields, int8); -1 where either side is missing."""
    out = np.empty((len(i), len(fields)), dtype=np.int8)
    for k, f in enumerate(fields):
        a, b = left[f.name][i], right[f.name][j]
        fn = LEVELS[f.type][0]
        levels = fn(a, b) if len(a) else np.zeros(0, dtype=np.int8)
        levels[(a == "") | (b == "")] = -1
        out[:, k] = levels
    _swapped_names(left, right, fields, i, j, out)
    return out


def _swapped_names(left: dict[str, np.ndarray], right: dict[str, np.ndarray], fields: Sequence[Field],
                   i: np.ndarray, j: np.ndarray, out: np.ndarray) -> None:
    """Given name and surname written in each other's place: both count as close, not as two
    disagreements."""
    names = {f.type: k for k, f in enumerate(fields) if f.type in ("given_name", "surname")}
    if len(names) < 2 or not len(i):
        return
    g, s = names["given_name"], names["surname"]
    gl, sl = left[fields[g].name][i], left[fields[s].name][i]
    gr, sr = right[fields[g].name][j], right[fields[s].name][j]
    low = (out[:, g] < 2) & (out[:, s] < 2) & (gl != "") & (sl != "") & (gr != "") & (sr != "")
    if not low.any():
        return
    idx = np.flatnonzero(low)
    # Both crossings exact: near misses ("David Williams" / "Liam Davis", Liam being short for
    # William) are different people far more often than swapped-and-misspelt ones.
    swapped = (gl[idx] == sr[idx]) & (sl[idx] == gr[idx])
    out[idx[swapped], g] = 2
    out[idx[swapped], s] = 2


# ---- blocking -------------------------------------------------------------------------------------

def _prefix(col: np.ndarray, n: int) -> np.ndarray:
    return np.array([x[:n] for x in col], dtype=object)


def blocking_keys(data: dict[str, np.ndarray], fields: Sequence[Field]) -> dict[str, np.ndarray]:
    """Rule name -> key per record ("" = the record takes no part in that rule)."""
    by_type: dict[str, list[str]] = {}
    for f in fields:
        by_type.setdefault(f.type, []).append(f.name)
    first = {t: names[0] for t, names in by_type.items()}
    keys: dict[str, np.ndarray] = {}

    def both(name: str, a: np.ndarray, b: np.ndarray) -> None:
        keys[name] = _join(a, b)

    for t in ("id_number", "phone", "email", "date"):  # identifiers: exact
        for name in by_type.get(t, []):
            keys[f"{name} exact"] = data[name]
    surname = first.get("surname") or first.get("full_name") or first.get("business_name")
    given = first.get("given_name")
    place = first.get("postcode") or first.get("locality")
    if surname:
        s = data[surname]
        if given:  # the two name prefixes in either order: names swapped between fields still meet
            a, b = _prefix(s, 3), _prefix(data[given], 3)
            both(f"{{{surname}[:3], {given}[:3]}}", np.minimum(a, b), np.maximum(a, b))
        if place:
            both(f"{surname}[:4]+{place}", _prefix(s, 4), data[place])
        if "date" in first:
            both(f"{surname}[:2]+{first['date']}[:4]", _prefix(s, 2), _prefix(data[first["date"]], 4))
        if not given and not place:
            keys[f"{surname}[:6]"] = _prefix(s, 6)
    if given:
        g = data[given]
        if place:
            both(f"{given}[:3]+{place}", _prefix(g, 3), data[place])
        if "date" in first:
            both(f"{given}[:2]+{first['date']}[4:]", _prefix(g, 2),
                 np.array([x[4:] for x in data[first["date"]]], dtype=object))
    if "street_number" in first and place:
        both(f"{first['street_number']}+{place}", data[first["street_number"]], data[place])
    if "street" in first and place:
        both(f"{first['street']}[:6]+{place}", _prefix(data[first["street"]], 6), data[place])
    if "street" in first and "street_number" in first:
        both(f"{first['street_number']}+{first['street']}[:6]", data[first["street_number"]],
             _prefix(data[first["street"]], 6))
    if not keys:  # nothing to block on: everything is one block (the fallback keeps it bounded)
        keys["all"] = np.full(len(next(iter(data.values()))), "all", dtype=object)
    return keys


def _join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where((a == "") | (b == ""), "", a + "|" + b).astype(object)


def tighteners(data: dict[str, np.ndarray], fields: Sequence[Field]) -> dict[str, np.ndarray]:
    """Short extra key parts a too-broad rule can be narrowed with (by name)."""
    out: dict[str, np.ndarray] = {}
    for f in fields:
        col = data[f.name]
        if f.type == "date":
            out[f"{f.name}[:4]"] = _prefix(col, 4)
        elif f.type in ("given_name", "surname", "full_name", "business_name"):
            out[f"{f.name}[:1]"] = _prefix(col, 1)
        elif f.type in ("region", "street_number", "postcode"):
            out[f.name] = col
        elif f.type in ("locality", "street"):
            out[f"{f.name}[:3]"] = _prefix(col, 3)
    return out


def _codes(lk: np.ndarray, rk: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Keys as shared integer codes (-1: no key), so blocks are compared as numbers."""
    both = lk if rk is None else np.concatenate([lk, rk])
    codes, uniques = pd.factorize(both)
    codes = codes.astype(np.int64)
    if len(uniques):
        empty = np.flatnonzero(uniques == "")
        if len(empty):
            codes[codes == empty[0]] = -1
    return (codes, None) if rk is None else (codes[: len(lk)], codes[len(lk):])


def _combine(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    return np.where((a < 0) | (b < 0), -1, a * width + b)


def _pair_count(lc: np.ndarray, rc: np.ndarray | None) -> int:
    if rc is None:
        _u, counts = np.unique(lc[lc >= 0], return_counts=True)
        return int((counts * (counts - 1) // 2).sum())
    lu, lcount = np.unique(lc[lc >= 0], return_counts=True)
    ru, rcount = np.unique(rc[rc >= 0], return_counts=True)
    common, li, ri = np.intersect1d(lu, ru, assume_unique=True, return_indices=True)
    return int((lcount[li] * rcount[ri]).sum())


def narrow_rules(lkeys: dict[str, np.ndarray], rkeys: dict[str, np.ndarray] | None,
                 ltight: dict[str, np.ndarray], rtight: dict[str, np.ndarray] | None,
                 budget: int, recipes: dict[str, str | None] | None = None
                 ) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Rule name -> (left codes, right codes). A rule that would propose more than ``budget``
    pairs gets one more key part: the one that keeps it broadest while under the budget (or
    narrows it most, if none does). Small inputs keep their rules as they are. ``recipes``
    (base rule -> extra key part or None), from an earlier run, fixes the choice instead."""
    tight = {t: _codes(lt, None if rtight is None else rtight[t]) for t, lt in ltight.items()}
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for rule, lk in lkeys.items():
        rk = None if rkeys is None else rkeys.get(rule)
        if rkeys is not None and rk is None:
            continue
        if recipes is not None and rule not in recipes:
            continue
        lc, rc = _codes(lk, rk)
        if recipes is not None:
            extra = recipes[rule]
            if extra is None or extra not in tight:
                out[rule] = (lc, rc)
            else:
                tl, tr = tight[extra]
                width = int(max(tl.max(initial=0), -1 if tr is None else tr.max(initial=0))) + 1
                out[f"{rule}+{extra}"] = (_combine(lc, tl, width),
                                          None if rc is None or tr is None else _combine(rc, tr, width))
            continue
        if _pair_count(lc, rc) <= budget:
            out[rule] = (lc, rc)
            continue
        options = []
        for t, (tl, tr) in tight.items():
            if t.split("[")[0] in rule:
                continue
            width = int(max(tl.max(initial=0), -1 if tr is None else tr.max(initial=0))) + 1
            nl = _combine(lc, tl, width)
            nr = None if rc is None or tr is None else _combine(rc, tr, width)
            options.append((_pair_count(nl, nr), t, nl, nr))
        if not options:
            out[rule] = (lc, rc)
            continue
        under = [o for o in options if o[0] <= budget]
        _count, t, nl, nr = max(under, key=lambda o: o[0]) if under else min(options, key=lambda o: o[0])
        out[f"{rule}+{t}"] = (nl, nr)
    return out


def _sorted_neighbourhood(idx: np.ndarray, order_key: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    order = idx[np.argsort(order_key[idx], kind="stable")]
    ii, jj = [], []
    for d in range(1, min(window, len(order) - 1) + 1):
        ii.append(order[:-d])
        jj.append(order[d:])
    if not ii:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ii), np.concatenate(jj)


@dataclass
class BlockingReport:
    rules: dict[str, int] = field(default_factory=dict)  # rule -> pairs it proposed
    oversized: dict[str, int] = field(default_factory=dict)  # rule -> blocks that fell back
    candidates: int = 0
    members: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # rule -> its pairs' codes
    recipes: dict[str, str | None] = field(default_factory=dict)  # base rule -> extra key part


def candidate_pairs(left: dict[str, np.ndarray], right: dict[str, np.ndarray] | None, fields: Sequence[Field],
                    max_block: int = 1000, window: int = 20, recipes: dict[str, str | None] | None = None
                    ) -> tuple[np.ndarray, np.ndarray, BlockingReport]:
    """Candidate pairs (i into left, j into right; i < j when deduplicating) from all rules
    (narrowed as their sizes demand, or as ``recipes`` from an earlier run say)."""
    dedupe = right is None
    n_left = len(next(iter(left.values())))
    n_right = n_left if dedupe else len(next(iter(right.values())))  # type: ignore[union-attr]
    lkeys = blocking_keys(left, fields)
    rules = narrow_rules(
        lkeys, None if dedupe else blocking_keys(right, fields),  # type: ignore[arg-type]
        tighteners(left, fields), None if dedupe else tighteners(right, fields),  # type: ignore[arg-type]
        budget=max(PAIRS_PER_RULE_MIN, PAIRS_PER_RECORD * (n_left + (0 if dedupe else n_right))), recipes=recipes)
    order_l: np.ndarray | None = None
    order_r: np.ndarray | None = None
    report = BlockingReport()
    for name in rules:
        base = max((b for b in lkeys if name == b or name.startswith(b + "+")), key=len, default=name)
        report.recipes[base] = None if name == base else name[len(base) + 1:]
    found: list[np.ndarray] = []
    big_pairs = max_block * (max_block - 1) // 2
    for rule, (lc, rc) in rules.items():
        lf = pd.DataFrame({"k": lc, "i": np.arange(n_left)})
        lf = lf[lf.k >= 0]
        if dedupe:
            size = lf.k.value_counts()
            big = size.index[size * (size - 1) // 2 > big_pairs]
            small = lf[~lf.k.isin(big)]
            m = small.merge(small.rename(columns={"i": "j"}), on="k")
            m = m[m.i < m.j]
        else:
            rf = pd.DataFrame({"k": rc, "j": np.arange(n_right)})
            rf = rf[rf.k >= 0]
            work = lf.k.value_counts().mul(rf.k.value_counts(), fill_value=0)
            big = work.index[work > big_pairs]
            m = lf[~lf.k.isin(big)].merge(rf[~rf.k.isin(big)], on="k")
        parts_i, parts_j = [m.i.to_numpy(np.int64)], [m.j.to_numpy(np.int64)]
        if len(big):
            if order_l is None:
                order_l = _order_key(left, fields)
                order_r = order_l if dedupe else _order_key(right, fields)  # type: ignore[arg-type]
            report.oversized[rule] = len(big)
        for key in big:  # an oversized block: sorted neighbourhood instead of every pair
            li = lf.i[lf.k == key].to_numpy()
            if dedupe:
                a, b = _sorted_neighbourhood(li, order_l, window)  # type: ignore[arg-type]
                parts_i.append(np.minimum(a, b))
                parts_j.append(np.maximum(a, b))
                continue
            rj = rf.j[rf.k == key].to_numpy()
            # one sorted list of both sides; pairs are neighbours from opposite sides
            tags = np.concatenate([np.zeros(len(li), np.int8), np.ones(len(rj), np.int8)])
            ids = np.concatenate([li, rj])
            okey = np.concatenate([order_l[li], order_r[rj]])  # type: ignore[index]
            order = np.argsort(okey, kind="stable")
            ids, tags = ids[order], tags[order]
            for d in range(1, window + 1):
                x, y, tx, ty = ids[:-d], ids[d:], tags[:-d], tags[d:]
                cross = tx != ty
                parts_i.append(np.where(tx == 0, x, y)[cross])
                parts_j.append(np.where(tx == 0, y, x)[cross])
        ri, rj2 = np.concatenate(parts_i), np.concatenate(parts_j)
        report.rules[rule] = len(ri)
        found.append(ri * n_right + rj2)
        report.members[rule] = np.unique(found[-1])
    codes = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    report.candidates = len(codes)
    return codes // n_right, codes % n_right, report


def _order_key(data: dict[str, np.ndarray], fields: Sequence[Field]) -> np.ndarray:
    cols = [data[f.name] for f in fields]
    return np.array(["|".join(parts) for parts in zip(*cols, strict=True)], dtype=object)


# ---- the model ------------------------------------------------------------------------------------

@dataclass
class Model:
    """m and u per field and level, the share of matches among candidates, TF tables."""

    fields: list[Field]
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float
    tf: dict[str, pd.Series] = field(default_factory=dict)  # field -> frequency by value
    tf_mean: dict[str, float] = field(default_factory=dict)  # field -> E[p_v] over exact agreements
    iterations: int = 0


def _encode(levels: np.ndarray, sizes: list[int]) -> np.ndarray:
    code = np.zeros(len(levels), dtype=np.int64)
    for k, size in enumerate(sizes):
        code = code * (size + 1) + (levels[:, k].astype(np.int64) + 1)
    return code


def estimate_u(left: dict[str, np.ndarray], right: dict[str, np.ndarray] | None, fields: Sequence[Field],
               sample: int = 200_000, seed: int = 7) -> list[np.ndarray]:
    """Level frequencies among random record pairs (almost all non-matches)."""
    rng = np.random.default_rng(seed)
    n_left = len(next(iter(left.values())))
    other = left if right is None else right
    n_right = len(next(iter(other.values())))
    i = rng.integers(0, n_left, sample)
    j = rng.integers(0, n_right, sample)
    if right is None:
        keep = i != j
        i, j = i[keep], j[keep]
    levels = compare(left, other, fields, i, j)
    u = []
    for k, f in enumerate(fields):
        size = len(LEVELS[f.type][1])
        col = levels[:, k]
        col = col[col >= 0]
        counts = np.bincount(col, minlength=size).astype(float) + 0.5  # smoothed: never exactly 0
        u.append(counts / counts.sum())
    return u


def _term_frequencies(data: Sequence[np.ndarray]) -> tuple[pd.Series, float]:
    values = pd.Series(np.concatenate(list(data)))
    values = values[values != ""]
    if values.empty:
        return pd.Series(dtype=float), 1.0
    p = values.value_counts(normalize=True)
    mean = float((p ** 3).sum() / (p ** 2).sum())  # E[p_v] over random pairs that agree exactly
    return p, mean


def fit(levels: np.ndarray, fields: Sequence[Field], u_start: list[np.ndarray], labels: np.ndarray | None = None,
        max_iterations: int = 100, tolerance: float = 1e-6, fix_u: bool = False) -> Model:
    """EM for m, u and the share of matches, over the distinct agreement patterns.

    ``labels`` (optional, per pair: 1 match, 0 not a match, -1 unknown) pin those pairs'
    posteriors, so the analyst's decisions steer the estimates."""
    sizes = [len(LEVELS[f.type][1]) for f in fields]
    code = _encode(levels, sizes)
    if labels is not None and (labels >= 0).any():
        code = code * 3 + (labels.astype(np.int64) + 1)
    uniq, first, counts = np.unique(code, return_index=True, return_counts=True)
    pats = levels[first]
    pinned = (labels[first] if labels is not None and (labels >= 0).any() else np.full(len(uniq), -1))
    counts = counts.astype(float)
    m = []
    for size in sizes:  # a start that says "agreeing is likelier for matches"
        start = np.geomspace(0.02, 1.0, size)
        m.append(start / start.sum())
    m_start = [x.copy() for x in m]
    u = [x.copy() for x in u_start]
    prior = 0.1
    iterations = 0
    # Seeded start: a pair is first taken for a match when most of the fields both records have
    # agree at their top level (the EM then refines it). Starting from "everything is 10% a
    # match" lets EM settle on another split when true matches are rare among the candidates
    # (e.g. "same town" instead of "same person").
    top = np.array([size - 1 for size in sizes])
    present_all = pats >= 0
    agree = ((pats == top) & present_all).sum(axis=1)
    known = present_all.sum(axis=1)
    seed = np.where((known >= 2) & (agree >= np.ceil(0.6 * known)), 0.95, 0.01)
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported in the model
        if iterations == 1:
            w = seed
        else:
            log_m = np.full(len(pats), math.log(prior))
            log_u = np.full(len(pats), math.log(1 - prior))
            for k in range(len(sizes)):
                col = pats[:, k]
                present = col >= 0
                log_m[present] += np.log(m[k][col[present]])
                log_u[present] += np.log(u[k][col[present]])
            w = 1 / (1 + np.exp(np.clip(log_u - log_m, -700, 700)))
        w = np.where(pinned == 1, 1.0, np.where(pinned == 0, 0.0, w))
        wm, wu = counts * w, counts * (1 - w)
        new_prior = float(wm.sum() / counts.sum())
        new_m, new_u = [], []
        for k, size in enumerate(sizes):
            col = pats[:, k]
            present = col >= 0
            # Priors worth a few pairs: the random-pair u (so a level no candidate non-match
            # happened to show is rare, not impossible) and the starting m.
            mm = np.bincount(col[present], weights=wm[present], minlength=size) + PRIOR_PAIRS * m_start[k]
            uu = np.bincount(col[present], weights=wu[present], minlength=size) + PRIOR_PAIRS * u_start[k]
            new_m.append(mm / mm.sum())
            new_u.append(u_start[k] if fix_u else uu / uu.sum())
        change = abs(new_prior - prior) + max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True))
        m, u, prior = new_m, new_u, min(max(new_prior, 1e-6), 1 - 1e-6)
        if change < tolerance:
            break
    # A level where matches are rarer than non-matches at the top of the scale would mean the
    # EM swapped its classes; the top level of every field must favour a match.
    return Model(list(fields), m, u, prior, iterations=iterations)


# Fields that go together: records agreeing on one agree more often than chance on the others
# (same parish -> same town; same name -> similar e-mail address). A training session blocked on
# one member leaves the whole family out, or EM would read that excess as "same person".
FAMILIES = ({"given_name", "surname", "full_name", "business_name", "email"},
            {"street_number", "street", "locality", "region", "postcode"})


def _rule_fields(rule: str, fields: Sequence[Field]) -> set[int]:
    """The fields a blocking rule's key is made of (its name says: "surname[:3]+parish"), with
    the fields of the same families."""
    parts = set(re.split(r"[\[\]{}, +:0-9]+", rule))
    used = {f.type for f in fields if f.name in parts}
    types = set(used)
    for family in FAMILIES:
        if used & family:
            types |= family
    return {k for k, f in enumerate(fields) if f.name in parts or f.type in types}


def fit_by_sessions(levels: np.ndarray, fields: Sequence[Field], u_random: list[np.ndarray],
                    sessions: dict[str, np.ndarray], total_pairs: float, labels: np.ndarray | None = None,
                    min_pairs: int = 30) -> Model:
    """m by EM within each blocking rule's pairs, u from random pairs, the prior over all pairs.

    Within one rule's pairs, the fields its key is made of agree by construction and say
    nothing: they are left out of that session, and u stays at its random-pair value, so EM
    cannot settle on "same town" (say) instead of "same person". Each field's m is the average
    of the sessions that estimated it, weighted by their expected matches. The prior (chance
    that two records picked at random match) comes last: the expected matches among the
    candidates (all others are taken as non-matches) over all possible pairs."""
    sizes = [len(LEVELS[f.type][1]) for f in fields]
    acc = [np.zeros(size) for size in sizes]
    weight = np.zeros(len(fields))
    for rule, mask in sessions.items():
        if mask.sum() < min_pairs:
            continue
        involved = sorted(_rule_fields(rule, fields))
        sub = levels[mask].copy()
        sub[:, involved] = -1
        model = fit(sub, fields, u_random, None if labels is None else labels[mask], fix_u=True)
        expected = model.prior * mask.sum()
        for k in range(len(fields)):
            if k not in involved and (sub[:, k] >= 0).any():
                acc[k] += expected * model.m[k]
                weight[k] += expected
    m = []
    for k, size in enumerate(sizes):
        if weight[k] > 0:
            m.append(acc[k] / weight[k])
        else:
            start = np.geomspace(0.02, 1.0, size)
            m.append(start / start.sum())
    bits = np.zeros(len(levels))
    for k in range(len(fields)):
        col = levels[:, k]
        present = col >= 0
        bits[present] += np.log2(m[k] / u_random[k])[col[present]]
    if labels is not None:
        bits = np.where(labels == 1, 200.0, np.where(labels == 0, -200.0, bits))
    prior = max(1.0 / max(total_pairs, 1.0), 1e-12)
    for _ in range(100):
        post = 1 / (1 + np.exp2(-np.clip(bits + math.log2(prior / (1 - prior)), -1000, 1000)))
        new = min(max(float(post.sum()) / max(total_pairs, 1.0), 1e-12), 0.5)
        if abs(new - prior) <= 1e-6 * prior:
            prior = new
            break
        prior = new
    return Model(list(fields), m, [x.copy() for x in u_random], prior)


def score(model: Model, levels: np.ndarray, tf_values: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Match probability per pair and each field's contribution in bits (pairs x fields)."""
    bits = np.zeros(levels.shape, dtype=np.float64)
    for k, f in enumerate(model.fields):
        col = levels[:, k]
        present = col >= 0
        table = np.log2(model.m[k] / model.u[k])
        bits[present, k] = table[col[present]]
        if tf_values is not None and f.name in model.tf and f.name in tf_values:
            top = len(model.m[k]) - 1
            exact = col == top
            if exact.any():
                a, _b = tf_values[f.name]
                freq = pd.Series(a[exact]).map(model.tf[f.name]).fillna(model.tf_mean[f.name]).to_numpy(float)
                adjust = np.log2(np.clip(model.tf_mean[f.name] / np.maximum(freq, 1e-12), 1 / 32, 32))
                bits[exact, k] += adjust
    total = bits.sum(axis=1) + math.log2(model.prior / (1 - model.prior))
    probability = 1 / (1 + np.exp2(-np.clip(total, -1000, 1000)))
    return probability, bits


# ---- clustering -----------------------------------------------------------------------------------

def cluster(n: int, i: np.ndarray, j: np.ndarray, probability: np.ndarray, threshold: float,
            min_share: float = 0.5) -> np.ndarray:
    """Cluster id per record (0..n-1; a record alone keeps its own index as id).

    Links (probability >= threshold) are taken strongest first; two groups join when at least
    ``min_share`` of the record pairs between them are links."""
    keep = probability >= threshold
    li, lj, lp = i[keep], j[keep], probability[keep]
    order = np.argsort(-lp, kind="stable")
    li, lj = li[order], lj[order]
    neighbours: dict[int, set[int]] = {}
    for a, b in zip(li.tolist(), lj.tolist(), strict=True):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    parent = list(range(n))
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(li.tolist(), lj.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ga, gb = members.get(ra, [ra]), members.get(rb, [rb])
        if len(ga) + len(gb) > 2:
            small, big_root = (ga, rb) if len(ga) <= len(gb) else (gb, ra)
            links = sum(1 for x in small for y in neighbours.get(x, ()) if find(y) == big_root)
            if links < min_share * len(ga) * len(gb):
                continue
        if len(ga) < len(gb):
            ra, rb, ga, gb = rb, ra, gb, ga
        parent[rb] = ra
        members[ra] = ga + gb
        members.pop(rb, None)
    return np.array([find(x) for x in range(n)], dtype=np.int64)


# ---- the whole run --------------------------------------------------------------------------------

@dataclass
class Resolution:
    fields: list[Field]
    i: np.ndarray  # candidate pairs (into left, into right; the same frame when deduplicating)
    j: np.ndarray
    probability: np.ndarray
    bits: np.ndarray  # pairs x fields
    model: Model
    blocking: BlockingReport
    clusters: np.ndarray | None = None  # per record (left then right when linking)
    timings: dict[str, float] = field(default_factory=dict)

    def contributions(self, k: int) -> list[dict[str, Any]]:
        """Pair k's evidence, field by field and the prior, in bits (as the review queue shows it)."""
        prior = math.log2(self.model.prior / (1 - self.model.prior))
        return [{"field": f.name, "bits": round(float(self.bits[k, n]), 3)} for n, f in enumerate(self.fields)] \
            + [{"field": "prior", "bits": round(prior, 3)}]


def prepare(frame: pd.DataFrame, fields: Sequence[Field]) -> dict[str, np.ndarray]:
    missing = [f.name for f in fields if f.name not in frame.columns]
    if missing:
        raise ValueError(f"no column {', '.join(repr(m) for m in missing)} in the input "
                         f"(it has {', '.join(map(str, frame.columns[:20]))})")
    return {f.name: standardise_column(frame[f.name].to_numpy(dtype=object), f.type).to_numpy(dtype=object)
            for f in fields}


def resolve(left: pd.DataFrame, right: pd.DataFrame | None, fields: Sequence[Field], threshold: float = 0.9,
            labels: dict[tuple[int, int], int] | None = None, progress: Callable[[float, str], None] | None = None,
            max_block: int = 1000, window: int = 20, with_clusters: bool = True, model: Model | None = None,
            recipes: dict[str, str | None] | None = None) -> Resolution:
    """Deduplicate ``left`` (``right`` None) or link it to ``right``. ``model`` and ``recipes``
    (from an earlier run) score with that model and block with those rules instead of
    estimating and choosing them again."""
    import time

    say = progress or (lambda _f, _m: None)
    t = {"start": time.perf_counter()}
    fields = list(fields)
    say(0.02, "Standardising")
    L = prepare(left, fields)
    R = None if right is None else prepare(right, fields)
    t["standardise"] = time.perf_counter()
    say(0.15, "Blocking")
    i, j, report = candidate_pairs(L, R, fields, max_block, window, recipes=recipes)
    t["blocking"] = time.perf_counter()
    say(0.3, f"Comparing {len(i):,} candidate pairs")
    other = L if R is None else R
    levels = compare(L, other, fields, i, j)
    t["compare"] = time.perf_counter()
    say(0.6, "Estimating the model")
    if model is not None:
        tf_fixed = {f.name: (L[f.name][i], other[f.name][j]) for f in fields if f.name in model.tf}
        probability, bits = score(model, levels, tf_fixed)
        return _finish(fields, L, R, i, j, probability, bits, model, report, threshold, with_clusters, say, t)
    u0 = estimate_u(L, R, fields)
    pinned = None
    if labels:
        n_right = len(next(iter(other.values())))
        code = i * n_right + j
        lookup = {a * n_right + b: v for (a, b), v in labels.items()}
        pinned = np.array([lookup.get(int(c), -1) for c in code], dtype=np.int8) if lookup else None
    n_l = len(next(iter(L.values())))
    n_r = len(next(iter(other.values())))
    total = n_l * (n_l - 1) / 2 if R is None else float(n_l) * n_r
    codes = i * n_r + j
    sessions = {rule: np.isin(codes, members, assume_unique=True) for rule, members in report.members.items()}
    model = fit_by_sessions(levels, fields, u0, sessions, total, pinned)
    tf_values = {}
    for f in fields:
        if f.type in TF_TYPES:
            model.tf[f.name], model.tf_mean[f.name] = _term_frequencies([L[f.name]] + ([] if R is None else [R[f.name]]))
            tf_values[f.name] = (L[f.name][i], other[f.name][j])
    probability, bits = score(model, levels, tf_values)
    return _finish(fields, L, R, i, j, probability, bits, model, report, threshold, with_clusters, say, t)


def _finish(fields: list[Field], L: dict[str, np.ndarray], R: dict[str, np.ndarray] | None, i: np.ndarray,
            j: np.ndarray, probability: np.ndarray, bits: np.ndarray, model: Model, report: BlockingReport,
            threshold: float, with_clusters: bool, say: Callable[[float, str], None], t: dict[str, float]
            ) -> Resolution:
    import time

    t["model"] = time.perf_counter()
    clusters = None
    if with_clusters:
        say(0.9, "Clustering")
        n_left = len(next(iter(L.values())))
        if R is None:
            clusters = cluster(n_left, i, j, probability, threshold)
        else:
            n_right = len(next(iter(R.values())))
            clusters = cluster(n_left + n_right, i, j + n_left, probability, threshold)
    t["cluster"] = time.perf_counter()
    timings = {k: t[k] - t[p] for p, k in zip(("start", "standardise", "blocking", "compare", "model"),
                                              ("standardise", "blocking", "compare", "model", "cluster"),
                                              strict=True)}
    say(1.0, "Done")
    return Resolution(fields, i, j, probability, bits, model, report, clusters, timings)


class Incremental:
    """Resolution that grows: new records are compared with the others (and each other) and
    scored with the model fitted at the start, never re-running the whole comparison; clusters
    are then formed again over all the links, so they are what a full run with the same model
    and blocking rules gives. ``refit()`` runs everything again when the model should learn
    from the new data."""

    def __init__(self, frame: pd.DataFrame, fields: Sequence[Field], threshold: float = 0.9) -> None:
        self.fields, self.threshold = list(fields), threshold
        first = resolve(frame, None, self.fields, threshold=threshold)
        self.model, self.recipes = first.model, first.blocking.recipes
        self.data = prepare(frame, self.fields)
        keep = first.probability >= threshold
        self.links = (first.i[keep], first.j[keep], first.probability[keep])
        self.clusters = first.clusters

    @property
    def size(self) -> int:
        return len(next(iter(self.data.values())))

    def add(self, frame: pd.DataFrame) -> np.ndarray:
        """Resolve new records (they take the next indices); returns the clusters of all."""
        old = self.size
        new = prepare(frame, self.fields)
        data = {k: np.concatenate([self.data[k], new[k]]) for k in self.data}
        i, j, _report = candidate_pairs(data, None, self.fields, recipes=self.recipes)
        fresh = j >= old  # pairs that involve a new record (i < j, new records come last)
        i, j = i[fresh], j[fresh]
        levels = compare(data, data, self.fields, i, j)
        tf_values = {f.name: (data[f.name][i], data[f.name][j]) for f in self.fields if f.name in self.model.tf}
        probability, _bits = score(self.model, levels, tf_values)
        keep = probability >= self.threshold
        li, lj, lp = self.links
        self.links = (np.concatenate([li, i[keep]]), np.concatenate([lj, j[keep]]),
                      np.concatenate([lp, probability[keep]]))
        self.data = data
        self.clusters = cluster(self.size, *self.links, threshold=self.threshold)
        return self.clusters


def best_match(i: np.ndarray, j: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Index (into the pairs) of each right record's single best pair."""
    order = np.lexsort((-probability, j))
    js = j[order]
    first = np.ones(len(js), dtype=bool)
    first[1:] = js[1:] != js[:-1]
    return order[first]
