"""Identity resolution at scale, beside Splink (DuckDB) in the same run: time, peak memory, F1.

Data: realistic Jamaican person records with known truth (benchmarks/identity_data.py):
    link     two files of N records, 70% of the second being perturbed copies of people in the
             first (typos, swapped names, nicknames, other phone and date formats, missing
             values, old addresses)
    dedupe   N records of people with 0-3 perturbed copies each

Each method runs in its own process (peak memory is that process's maximum resident set):
    ours     c360_desktop.core.identity.engine.resolve from the raw records (standardising
             included), links at probability >= 0.9 (and, for dedupe, clusters)
    splink   Splink 5 on DuckDB, given the records already standardised by our standardisers
             (so it is judged on matching, not cleaning; its time does not include that),
             blocking on phone, e-mail, date of birth, names and street+town; name, date,
             e-mail, edit-distance and exact comparisons with term-frequency adjustments;
             u by random sampling (1e6 pairs), m by EM on two blocking rules; links at
             probability >= 0.9

    python -m benchmarks.bench_identity_scale --task link --n 100000
    python -m benchmarks.bench_identity_scale --task dedupe --n 1000000
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FIELDS = [("given_name", "given_name"), ("surname", "surname"), ("dob", "date"), ("phone", "phone"),
          ("email", "email"), ("street", "street"), ("town", "locality"), ("parish", "region")]


def f1(pred: set, truth: set) -> tuple[float, float, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def dedupe_truth(person: np.ndarray) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    order = np.argsort(person, kind="stable")
    p = person[order]
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    ends = np.r_[starts[1:], len(p)]
    for s, e in zip(starts, ends, strict=True):
        if e - s > 1:
            members = sorted(order[s:e].tolist())
            out |= {(a, b) for k, a in enumerate(members) for b in members[k + 1:]}
    return out


def worker_ours(task: str, data: dict) -> dict:
    from c360_desktop.core.identity.engine import Field, resolve

    fields = [Field(n, t) for n, t in FIELDS]
    started = time.perf_counter()
    if task == "link":
        r = resolve(data["a"], data["b"], fields, with_clusters=False)
    else:
        r = resolve(data["records"], None, fields, with_clusters=True)
    took = time.perf_counter() - started
    keep = r.probability >= 0.9
    pred = set(zip(r.i[keep].tolist(), r.j[keep].tolist(), strict=True))
    return {"seconds": took, "pred": pred, "candidates": int(r.blocking.candidates),
            "stages": {k: round(v, 2) for k, v in r.timings.items()}}


def standardised(frame: pd.DataFrame) -> pd.DataFrame:
    from c360_desktop.core.identity.standardise import standardise_column

    out = pd.DataFrame({n: standardise_column(frame[n].to_numpy(dtype=object), t).to_numpy(dtype=object)
                        for n, t in FIELDS})
    return out.replace("", None)


def worker_splink(task: str, data: dict) -> dict:
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    frames = [standardised(data["a"]), standardised(data["b"])] if task == "link" else [standardised(data["records"])]
    for k, frame in enumerate(frames):
        frame.insert(0, "row", np.arange(len(frame)))
        frames[k] = frame
    settings = SettingsCreator(
        unique_id_column_name="row",
        link_type="link_only" if task == "link" else "dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("phone"), block_on("email"), block_on("dob"),
                                                block_on("surname", "given_name"), block_on("street", "town")],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.LevenshteinAtThresholds("phone", [1, 2]),
            cl.EmailComparison("email"),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.8]),
            cl.ExactMatch("town").configure(term_frequency_adjustments=True),
            cl.ExactMatch("parish"),
        ],
    )
    started = time.perf_counter()
    db = DuckDBAPI()
    tables = [db.register(f, table_name=f"input_{k}") for k, f in enumerate(frames)]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("phone"), block_on("email")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname", "given_name"))
    out = linker.inference.predict(threshold_match_probability=0.9).as_pandas_dataframe()
    took = time.perf_counter() - started
    if task == "link":
        left_is_0 = out["source_dataset_l"].astype(str).str.endswith("0")
        a = np.where(left_is_0, out.row_l, out.row_r).astype(int)
        b = np.where(left_is_0, out.row_r, out.row_l).astype(int)
        pred = set(zip(a.tolist(), b.tolist(), strict=True))
    else:
        lo = np.minimum(out.row_l, out.row_r).astype(int)
        hi = np.maximum(out.row_l, out.row_r).astype(int)
        pred = set(zip(lo.tolist(), hi.tolist(), strict=True))
    return {"seconds": took, "pred": pred, "candidates": None, "stages": {}}


def child(method: str, task: str, path: str, out: str) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    result = (worker_ours if method == "ours" else worker_splink)(task, data)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["input_mib"] = data.get("input_mib", 0)
    with open(out, "wb") as fh:
        pickle.dump(result, fh)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=("link", "dedupe"), default="link")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--only", choices=("ours", "splink"), action="append")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--child", nargs=4, metavar=("METHOD", "TASK", "DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child)
    from benchmarks.identity_data import dedupe_set, link_pair

    started = time.perf_counter()
    if args.task == "link":
        a, b, truth = link_pair(args.n)
        data = {"a": a, "b": b}
        desc = f"link {args.n:,} x {args.n:,} records ({len(truth):,} true pairs)"
    else:
        records, person = dedupe_set(args.n)
        truth = dedupe_truth(person)
        data = {"records": records}
        desc = f"deduplicate {args.n:,} records ({len(truth):,} true pairs)"
    print(f"{desc}; data made in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.pkl"
        with open(path, "wb") as fh:
            pickle.dump(data, fh)
        for method in args.only or ["ours", "splink"]:
            out = Path(tmp) / f"{method}.pkl"
            try:
                proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_identity_scale", "--child", method,
                                       args.task, str(path), str(out)], timeout=args.timeout, capture_output=True,
                                      text=True)
            except subprocess.TimeoutExpired:
                print(f"{method:7s} did not finish within {args.timeout:.0f} s")
                continue
            if proc.returncode != 0:
                print(f"{method:7s} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else '?'}")
                continue
            with open(out, "rb") as fh:
                r = pickle.load(fh)
            p, rec, f = f1(r["pred"], truth)
            extra = (f"  {r['candidates']:,} candidates; stages {json.dumps(r['stages'])}" if r["candidates"] else "")
            print(f"{method:7s} {r['seconds']:8.1f} s  peak {r['peak_mib']:7.0f} MiB  "
                  f"precision {p:.4f}  recall {rec:.4f}  F1 {f:.4f}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
