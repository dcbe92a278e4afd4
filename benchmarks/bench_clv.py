"""Customer lifetime value on CDNOW, against the published figures, in the same run.

The CDNOW sample (2,357 customers who first bought in early 1997; the copy shipped inside the
PyPI package lifetimes, read as a data file), 39-week calibration to 1997-09-30 and a 39-week
holdout to 1998-06-30, as in Fader, Hardie and Lee (2005), "Counting Your Customers the Easy
Way". Published: BG/NBD r 0.243, alpha 4.414, a 0.793, b 2.426 (log-likelihood -9582.4);
Gamma-Gamma (Fader and Hardie 2013) p 6.25, q 3.74, v 15.44. The published model's holdout
prediction is computed from the published parameters; ours from the fitted ones.

    python -m benchmarks.bench_clv
"""

from __future__ import annotations

import time
from datetime import date
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.clv import BgNbd, fit_bgnbd, fit_gamma_gamma, summarise

PUBLISHED_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def cdnow() -> pd.DataFrame:
    spec = find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the CDNOW sample ships in the PyPI package lifetimes: pip install lifetimes")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "CDNOW_sample.txt"
    return pd.read_csv(path, sep=r"\s+", header=None, names=["customer", "id", "date", "quantity", "amount"],
                       dtype=str)


def main() -> int:
    data = cdnow()
    started = time.perf_counter()
    s = summarise(data, "id", "date", "amount", date(1997, 9, 30), date(1998, 6, 30))
    bg = fit_bgnbd(s)
    gg = fit_gamma_gamma(s)
    took = time.perf_counter() - started
    t = s.table
    x, t_x, T = (t[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    actual = float(t["holdout"].sum())
    ours = float(bg.expected(39.0, x, t_x, T).sum())
    published = float(BgNbd(**PUBLISHED_BG, log_likelihood=float("nan")).expected(39.0, x, t_x, T).sum())
    print(f"CDNOW sample: {len(t):,} customers, {int((t.frequency > 0).sum()):,} repeat buyers; fitted in {took:.2f} s")
    print(f"{'':14s} {'ours':>10s} {'published':>10s} {'difference':>11s}")
    for k, v in PUBLISHED_BG.items():
        print(f"BG/NBD {k:7s} {getattr(bg, k):10.4f} {v:10.3f} {abs(getattr(bg, k) - v):11.4f}")
    print(f"BG/NBD LL      {bg.log_likelihood:10.1f} {-9582.4:10.1f}")
    for k, v in PUBLISHED_GG.items():
        print(f"Gamma-Gamma {k:2s} {getattr(gg, k):10.4f} {v:10.2f} {abs(getattr(gg, k) - v):11.4f}")
    print(f"holdout weeks 40-78: actual {actual:,.0f} repeat purchases; predicted: ours {ours:,.1f} "
          f"(off by {abs(ours - actual):,.1f}), published BG/NBD {published:,.1f} (off by {abs(published - actual):,.1f})")
    mae = float(np.mean(np.abs(bg.expected(39.0, x, t_x, T) - t["holdout"].to_numpy(float))))
    print(f"mean absolute error per customer, ours: {mae:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
