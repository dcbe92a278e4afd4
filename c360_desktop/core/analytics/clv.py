"""Customer lifetime value: BG/NBD for how often customers buy and Gamma-Gamma for how much.

Both are fitted by maximum likelihood from the published likelihoods (numpy/scipy; the
`lifetimes` package is unmaintained):

- BG/NBD, Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way": each customer
  buys at a Poisson rate (gamma-distributed across customers, r and alpha) until they drop out,
  which may happen after any purchase with a probability (beta-distributed, a and b). From a
  customer's repeat purchases x, the time of the last one t_x and their time under observation
  T it gives the expected number of purchases in a coming period and the chance they are alive.
- Gamma-Gamma, Fader and Hardie (2013), "The Gamma-Gamma Model of Monetary Value": a customer's
  average spend per transaction varies around their own mean (p), which varies across
  customers (q, gamma); it gives the expected spend of a customer from x and their mean m_x.

Time is counted in weeks (or days). A customer's purchases on one day count as one purchase
with their amounts added, as in the papers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from c360_desktop.core.analytics.purchases import PurchaseLog, day_date
from c360_desktop.core.timestamps import db_now

UNITS = {"week": 7.0, "day": 1.0}


class ClvError(ValueError):
    """The transactions cannot be modelled as given; the message says why."""


@dataclass(frozen=True)
class Summary:
    """Per customer: repeat purchases, recency, age (in time units), mean repeat spend, and
    repeat purchases in the holdout period when there is one."""

    table: pd.DataFrame  # index customer; columns frequency, recency, T, monetary_value[, holdout]
    calibration_end: date
    holdout_end: date | None
    unit: str


def summarise(transactions: pd.DataFrame, customer: str, when: str, amount: str | None, calibration_end: date,
              holdout_end: date | None = None, unit: str = "week") -> Summary:
    """The RFM summary of a transaction log (customers whose first purchase is after the
    calibration end are left out: they were not yet customers)."""
    if unit not in UNITS:
        raise ClvError(f"time unit {unit!r}: choose week or day")
    for column in (customer, when) + ((amount,) if amount else ()):
        if column not in transactions.columns:
            raise ClvError(f"no column {column!r} (the file has {', '.join(map(str, transactions.columns[:20]))})")
    if transactions.empty:
        raise ClvError("there are no transactions")
    log = pd.DataFrame({"customer": transactions[customer].astype(str)})
    if pd.api.types.is_datetime64_any_dtype(transactions[when]):  # parsed already (the cache's own log)
        dates = transactions[when]
    else:
        dates = pd.to_datetime(transactions[when].astype(str), errors="coerce", format="mixed", dayfirst=False)
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise ClvError(f"column {when!r}, row {bad[0] + 2}: {transactions[when].iloc[bad[0]]!r} is not a date "
                       f"({len(bad)} such rows)")
    log["day"] = dates.dt.normalize()
    if amount:
        raw = transactions[amount]
        values = raw.astype(float) if pd.api.types.is_numeric_dtype(raw) else pd.to_numeric(
            raw.astype(str).str.replace(",", "").str.replace("$", ""), errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            raise ClvError(f"column {amount!r}, row {bad[0] + 2}: {transactions[amount].iloc[bad[0]]!r} is not an "
                           f"amount ({len(bad)} such rows)")
        amounts = values.to_numpy(dtype=float)
    else:
        amounts = np.zeros(len(log))
    # In integer arrays (customer codes, day numbers), so that a log of ten million rows takes
    # seconds: one row per customer-day, sorted by customer then day.
    codes, customers = pd.factorize(log["customer"], sort=True)
    days = log["day"].to_numpy().astype("datetime64[D]").astype(np.int64)
    origin = int(days.min())
    key, where = np.unique(codes.astype(np.int64) * 10_000_000 + (days - origin), return_inverse=True)
    day_amount = np.bincount(where.ravel(), weights=amounts, minlength=len(key))
    return _summary(np.asarray(customers, dtype=object), key // 10_000_000, key % 10_000_000 + origin, day_amount,
                    calibration_end, holdout_end, unit)


def summarise_log(log: PurchaseLog, calibration_end: date, holdout_end: date | None = None,
                  unit: str = "week") -> Summary:
    """``summarise`` for the cache's purchases, already one row per customer and day."""
    if log.empty:
        raise ClvError("there are no transactions")
    return _summary(log.customers, log.code, log.day, log.cents / 100.0, calibration_end, holdout_end, unit)


def _summary(customers: np.ndarray, day_code: np.ndarray, day: np.ndarray, day_amount: np.ndarray,
             calibration_end: date, holdout_end: date | None, unit: str) -> Summary:
    """The summary from one row per customer and day (code, day number, amount), sorted by code then day."""
    starts = np.flatnonzero(np.r_[True, day_code[1:] != day_code[:-1]])  # each customer's first day row
    first_of = np.repeat(day[starts], np.diff(np.r_[starts, len(day_code)]))  # that first day, on every row
    cal_end_day = int(np.datetime64(calibration_end, "D").astype(np.int64))
    scale = UNITS[unit]
    known_code = day_code[starts][day[starts] <= cal_end_day]
    if len(known_code) == 0:
        raise ClvError(f"nobody bought on or before the calibration end {calibration_end}")
    n = len(customers)
    in_cal = day <= cal_end_day  # a customer first buying later has no calibration rows at all
    cal_days = np.bincount(day_code[in_cal], minlength=n)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, day_code[in_cal], day[in_cal])
    first = np.full(n, -1, dtype=np.int64)
    first[day_code[starts]] = day[starts]
    repeat = in_cal & (day > first_of)
    repeat_n = np.bincount(day_code[repeat], minlength=n)
    repeat_sum = np.bincount(day_code[repeat], weights=day_amount[repeat], minlength=n)
    k = known_code
    table = pd.DataFrame({
        "frequency": cal_days[k] - 1,
        "recency": (last[k] - first[k]) / scale,
        "T": (cal_end_day - first[k]) / scale,
        "monetary_value": np.divide(repeat_sum[k], repeat_n[k], out=np.zeros(len(k)), where=repeat_n[k] > 0),
    }, index=pd.Index(customers[k], name="customer"))
    if holdout_end is not None:
        hold_end_day = int(np.datetime64(holdout_end, "D").astype(np.int64))
        in_hold = (day > cal_end_day) & (day <= hold_end_day)
        table["holdout"] = np.bincount(day_code[in_hold], minlength=n)[k].astype(int)
        table["holdout_amount"] = np.bincount(day_code[in_hold], weights=day_amount[in_hold], minlength=n)[k]
    return Summary(table.sort_index(), calibration_end, holdout_end, unit)


# ---- BG/NBD ---------------------------------------------------------------------------------------

def bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """Sum over customers of the BG/NBD log-likelihood (FHL 2005, equation 6)."""
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    part1 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        part2 = np.where(x > 0, betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b)
                         - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(np.sum(common + np.logaddexp(part1, part2)))


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def expected(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected repeat purchases in the next ``t`` time units, per customer (FHL 2005, eq. 10)."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        denominator = 1 + (x > 0) * (a / (b + np.maximum(x, 1) - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return np.asarray(head * tail / denominator)

    def alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Probability each customer is still a customer (FHL 2008 note, eq. 2)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        odds = (x > 0) * (a / (b + np.maximum(x, 1) - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return np.asarray(1 / (1 + odds))


def _sample(table: pd.DataFrame, most: int | None, seed: int = 7) -> pd.DataFrame:
    """At most ``most`` customers, drawn at random (seeded): maximum likelihood on fifty thousand
    customers pins four parameters down to well within their sampling error, and each
    evaluation of the likelihood costs one pass over the customers."""
    if most is None or len(table) <= most:
        return table
    keep = np.sort(np.random.default_rng(seed).choice(len(table), most, replace=False))
    return table.iloc[keep]


# Nelder-Mead's settings: to the last digit (published figures are matched to 1e-4), or enough for
# scoring a cache, where BFGS then polishes from a nearby start (the exact settings could spend
# 40,000 evaluations of a likelihood over 50,000 customers: over a minute)
_PRECISE = {"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20_000, "maxfev": 40_000}
_QUICK = {"xatol": 1e-5, "fatol": 1e-5, "maxiter": 2_000, "maxfev": 3_000}


def fit_bgnbd(summary: Summary, most: int | None = None, quick: bool = False, near: BgNbd | None = None) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters (searched in logs, so they stay positive), on at most
    ``most`` customers (all by default). ``near``: a fit on nearly the same data (the validation
    fit, 26 weeks shorter), to search from instead of the two default starts."""
    from scipy.optimize import minimize

    t = _sample(summary.table, most)
    x, t_x, T = (t[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    if len(t) < 3:
        raise ClvError("at least three customers are needed to fit the model")
    if not (x > 0).any():
        raise ClvError("nobody bought twice in the calibration period: there is no repeat buying to model")

    def cost(log_params: np.ndarray) -> float:
        value = -bgnbd_log_likelihood(np.exp(log_params), x, t_x, T)
        return value if math.isfinite(value) else 1e300

    best = None
    starts = [np.log([near.r, near.alpha, near.a, near.b]).tolist()] if near else \
        [[0.0, 0.0, 0.0, 0.0], [-1.0, 1.0, 0.0, 1.0]]
    for start in starts:
        res = minimize(cost, np.array(start), method="Nelder-Mead", options=_QUICK if quick else _PRECISE)
        res = minimize(cost, res.x, method="BFGS", options={"gtol": 1e-6 if quick else 1e-9})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    r, alpha, a, b = np.exp(best.x)
    return BgNbd(float(r), float(alpha), float(a), float(b), float(-best.fun))


# ---- Gamma-Gamma ----------------------------------------------------------------------------------

def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    """Sum over customers (x > 0) of the Gamma-Gamma log-likelihood of their mean spend m_x."""
    from scipy.special import gammaln

    p, q, v = params
    return float(np.sum(gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
                        + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + v)))


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float
    log_likelihood: float

    def expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Expected mean spend per transaction of each customer (population mean when x is 0)."""
        p, q, v = self.p, self.q, self.v
        population = p * v / (q - 1)
        weight = (q - 1) / (p * x + q - 1)
        return np.asarray(np.where(x > 0, weight * population + (1 - weight) * m, population))


def fit_gamma_gamma(summary: Summary, most: int | None = None, quick: bool = False,
                    near: GammaGamma | None = None) -> GammaGamma:
    from scipy.optimize import minimize

    t = _sample(summary.table, most)
    buyers = t[(t.frequency > 0) & (t.monetary_value > 0)]
    if len(buyers) < 3:
        raise ClvError("fewer than three customers bought again with an amount: no spend to model")
    x, m = buyers.frequency.to_numpy(float), buyers.monetary_value.to_numpy(float)

    def cost(log_params: np.ndarray) -> float:
        value = -gamma_gamma_log_likelihood(np.exp(log_params), x, m)
        return value if math.isfinite(value) else 1e300

    start = np.log([near.p, near.q, near.v]) if near else np.zeros(3)
    res = minimize(cost, start, method="Nelder-Mead", options=_QUICK if quick else _PRECISE)
    res = minimize(cost, res.x, method="BFGS", options={"gtol": 1e-6 if quick else 1e-9})
    p, q, v = np.exp(res.x)
    return GammaGamma(float(p), float(q), float(v), float(-res.fun))


def report(summary: Summary, with_spend: bool = True) -> dict[str, Any]:
    """Both models fitted, and with a holdout their predictions against what happened."""
    t = summary.table
    bg = fit_bgnbd(summary)
    out: dict[str, Any] = {
        "customers": int(len(t)), "repeat_buyers": int((t.frequency > 0).sum()),
        "calibration_end": summary.calibration_end.isoformat(), "time_unit": summary.unit,
        "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "log_likelihood": bg.log_likelihood}}
    if with_spend:
        gg = fit_gamma_gamma(summary)
        out["gamma_gamma"] = {"p": gg.p, "q": gg.q, "v": gg.v, "log_likelihood": gg.log_likelihood}
    if summary.holdout_end is not None:
        span = (pd.Timestamp(summary.holdout_end) - pd.Timestamp(summary.calibration_end)).days / UNITS[summary.unit]
        x, t_x, T = (t[c].to_numpy(float) for c in ("frequency", "recency", "T"))
        predicted = bg.expected(span, x, t_x, T)
        actual = t["holdout"].to_numpy(float)
        out["holdout"] = {"end": summary.holdout_end.isoformat(), "length": span,
                          "predicted_total": float(predicted.sum()), "actual_total": float(actual.sum()),
                          "mean_absolute_error": float(np.mean(np.abs(predicted - actual)))}
    return out


HOLDOUT_WEEKS = 26
FIT_CUSTOMERS = 50_000  # the cache's models are fitted on at most this many customers (a seeded sample)
REGRESSION_FEATURES = ["frequency", "recency", "T", "monetary_value"]


def fit_spend_regression(table: pd.DataFrame, seed: int = 7) -> Any:
    """The regression alternative: gradient-boosted trees (Tweedie loss: many customers spend
    nothing, a few a lot) from the RFM summary to the spend in the period after it (fitted on at
    most twice FIT_CUSTOMERS customers)."""
    import xgboost as xgb

    table = _sample(table, 2 * FIT_CUSTOMERS, seed)
    model = xgb.XGBRegressor(objective="reg:tweedie", tweedie_variance_power=1.5, n_estimators=300, max_depth=4,
                             learning_rate=0.05, subsample=0.9, tree_method="hist", n_jobs=2, random_state=seed)
    return model.fit(table[REGRESSION_FEATURES].to_numpy(float), table["holdout_amount"].to_numpy(float))


def regression_holdout(table: pd.DataFrame, seed: int = 7) -> np.ndarray:
    """The regression's held-out spend for every customer, cross-fitted (two halves of the
    customers, each predicted by a model fitted on the other), to judge it against BG/NBD."""
    from sklearn.model_selection import KFold

    out = np.zeros(len(table))
    for train, test in KFold(2, shuffle=True, random_state=seed).split(table):
        model = fit_spend_regression(table.iloc[train], seed)
        out[test] = np.maximum(model.predict(table.iloc[test][REGRESSION_FEATURES].to_numpy(float)), 0.0)
    return out


def reasons_json(x: np.ndarray, purchases: np.ndarray, spend: np.ndarray, alive: np.ndarray, months: int,
                 by_regression: bool) -> list[str]:
    """Each customer's reasons as the score table keeps them, the JSON of a list of {"feature",
    "contribution"}: the purchases expected (``purchases_12m``), the spend per purchase
    (``spend``, or ``average_spend`` for someone with no repeat purchase yet) and the chance they
    are still a customer (``alive``, or ``alive_unknown``), after ``regression_26w`` if the
    regression valued them (it predicted the last HOLDOUT_WEEKS weeks better). Kept as data and worded when shown (analytics/reasons.py). Written
    as text directly, column by column, each distinct number formatted once: a million json.dumps
    calls were a third of the scoring time (tested against json.dumps)."""
    from itertools import repeat

    def each(values: np.ndarray) -> list[str]:
        distinct, where = np.unique(values + 0.0, return_inverse=True)
        return np.array([repr(v) for v in distinct.tolist()], dtype=object)[where.reshape(-1)].tolist()

    bought = x > 0
    first = f'{{"feature": "regression_{HOLDOUT_WEEKS}w", "contribution": 0.0}}, ' if by_regression else ""
    then = '}, {"feature": '
    per = np.where(bought, '"spend", "contribution": ', '"average_spend", "contribution": ').tolist()
    still = np.where(bought, '"alive", "contribution": ', '"alive_unknown", "contribution": ').tolist()
    return list(map("".join, zip(
        repeat(f'[{first}{{"feature": "purchases_{months}m", "contribution": '), each(np.round(purchases, 2)),
        repeat(then), per, each(np.round(spend, 2)), repeat(then), still, each(np.round(alive, 4)), repeat("}]"))))


def score_cache(cache: Any, today: date | None = None, months: int = 12,
                progress: Callable[[float, str], None] | None = None, log: PurchaseLog | None = None,
                cancelled: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Fit both models on the cache's transactions and score every customer who has bought: the
    expected spend over the next ``months`` (expected purchases x expected spend per purchase),
    with the three quantities behind it as reasons and the model version.

    First the models are validated: fitted on all but the last 26 weeks and judged on them (repeat
    purchases and spend predicted against actual, in total, per customer and per cohort of the
    year customers first bought). The version, its metrics and cohort table go to the registry."""
    import json
    import time
    from datetime import timedelta

    from c360_desktop.core.analytics import registry
    from c360_desktop.core.progress import checkpoints

    started = time.perf_counter()
    say = checkpoints(progress, cancelled, "the previous lifetime values stay")  # each step stops on a cancel
    conn = cache.reader()
    say(0.05, "Reading the transactions")
    log = log if log is not None else PurchaseLog.read(conn)
    if log.empty:
        raise ClvError("the cache has no transactions")
    end = today or (day_date(log.newest_day()) + timedelta(days=1))
    say(0.2, f"Validating on the last {HOLDOUT_WEEKS} weeks")
    cal_end = end - timedelta(days=1 + 7 * HOLDOUT_WEEKS)
    hs = summarise_log(log, cal_end, holdout_end=end - timedelta(days=1))
    hbg, hgg = fit_bgnbd(hs, FIT_CUSTOMERS, quick=True), fit_gamma_gamma(hs, FIT_CUSTOMERS, quick=True)
    ht = hs.table
    hx, ht_x, hT, hm = (ht[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value"))
    pred_n = hbg.expected(HOLDOUT_WEEKS, hx, ht_x, hT)
    pred_spend = pred_n * hgg.expected_spend(hx, hm)
    actual_n, actual_spend = ht["holdout"].to_numpy(float), ht["holdout_amount"].to_numpy(float)
    # the year each customer first bought: the calibration end less their age (T weeks)
    first = (pd.Timestamp(cal_end) - pd.to_timedelta(np.rint(hT * 7), unit="D")).year
    cohorts = pd.DataFrame({"cohort": np.asarray(first), "pred_n": pred_n, "n": actual_n, "pred_spend": pred_spend,
                            "spend": actual_spend}).groupby("cohort").agg(
        customers=("n", "size"), predicted_purchases=("pred_n", "sum"), actual_purchases=("n", "sum"),
        predicted_spend=("pred_spend", "sum"), actual_spend=("spend", "sum")).reset_index()
    # the naive alternative: each customer buys at their past rate
    rate = np.where(hT > 0, (hx + 1) / np.maximum(hT, 1e-9), 0)
    naive_n = rate * HOLDOUT_WEEKS
    metrics = {"ours": {"predicted_purchases": float(pred_n.sum()), "actual_purchases": float(actual_n.sum()),
                        "mae_purchases": float(np.mean(np.abs(pred_n - actual_n))),
                        "predicted_spend": float(pred_spend.sum()), "actual_spend": float(actual_spend.sum())},
               "past rate": {"predicted_purchases": float(naive_n.sum()), "actual_purchases": float(actual_n.sum()),
                             "mae_purchases": float(np.mean(np.abs(naive_n - actual_n)))}}
    say(0.4, "Validating the regression alternative")
    regression_spend = regression_holdout(ht)
    metrics["ours"]["mae_spend"] = float(np.mean(np.abs(pred_spend - actual_spend)))
    metrics["regression"] = {"predicted_spend": float(regression_spend.sum()), "actual_spend": float(actual_spend.sum()),
                             "mae_spend": float(np.mean(np.abs(regression_spend - actual_spend)))}
    # the regression is used only where it predicted the held-out spend clearly better (2% lower error)
    use_regression = metrics["regression"]["mae_spend"] < 0.98 * metrics["ours"]["mae_spend"]
    say(0.5, "Fitting on all the transactions")
    s = summarise_log(log, end - timedelta(days=1))
    bg = fit_bgnbd(s, FIT_CUSTOMERS, quick=True, near=hbg)
    gg = fit_gamma_gamma(s, FIT_CUSTOMERS, quick=True, near=hgg)
    t = s.table
    weeks = months * 52 / 12
    regression = None
    if use_regression:
        say(0.7, "Fitting the regression on the last year")
        past = summarise_log(log, end - timedelta(days=1 + round(7 * weeks)), holdout_end=end - timedelta(days=1))
        regression = fit_spend_regression(past.table)
    population = registry.reference(t[["frequency", "recency", "T", "monetary_value"]])  # for drift checks
    say(0.8, f"Scoring: {len(t):,} customers")
    x, t_x, T, m = (t[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value"))
    purchases = bg.expected(weeks, x, t_x, T)
    alive = bg.alive(x, t_x, T)
    spend = gg.expected_spend(x, m)
    value = purchases * spend
    chosen = "BG/NBD x Gamma-Gamma"
    if regression is not None:
        value = np.maximum(regression.predict(t[REGRESSION_FEATURES].to_numpy(float)), 0.0)
        chosen = "gradient-boosted regression (it predicted the held-out spend better)"
    params = {"bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
              "gamma_gamma": {"p": gg.p, "q": gg.q, "v": gg.v}, "months": months, "chosen": chosen}
    digest = registry.content_hash(json.dumps({**params, "end": str(end)}, sort_keys=True))
    version = registry.version_id("clv", digest)
    stamp = db_now()
    report = {"kind": "clv", "cohorts": cohorts.round(2).to_dict(orient="records"), "holdout_weeks": HOLDOUT_WEEKS,
              "validation_parameters": {"bgnbd": [hbg.r, hbg.alpha, hbg.a, hbg.b], "gamma_gamma": [hgg.p, hgg.q, hgg.v]}}
    from c360_desktop.core.analytics.scores import CHUNK_ROWS, write_scores

    customers, rounded, records = t.index.tolist(), np.round(value, 2).tolist(), []

    def chunks() -> Iterator[list[tuple[str, float, str]]]:  # each written while the next is worded
        for lo in range(0, len(t), CHUNK_ROWS):
            hi = lo + CHUNK_ROWS
            yield list(zip(customers[lo:hi], rounded[lo:hi], reasons_json(
                x[lo:hi], purchases[lo:hi], spend[lo:hi], alive[lo:hi], months, regression is not None), strict=True))
            done = min(hi, len(t))
            say(0.8 + 0.15 * done / len(t), f"Scored {done:,} of {len(t):,} customers")
        say(0.95, "Saving")
        records.append(registry.ModelVersion(
            version, "clv", stamp, str(day_date(int(log.day.min()))), str(end - timedelta(days=1)), len(t),
            ["frequency", "recency", "T", "monetary_value"], params, metrics, report,
            population, digest, len(t),
            round(time.perf_counter() - started, 2)))

    write_scores(cache, "clv", version, stamp, chunks(), len(t), lambda w: registry.record(w, records[0]))
    (progress or (lambda _f, _m: None))(1.0, "Done")  # written: too late to cancel
    return {"model_version": version, "customers": len(t), "as_of": str(end), "chosen": chosen,
            "bgnbd": params["bgnbd"], "gamma_gamma": params["gamma_gamma"],
            "total_expected_jmd": float(value.sum()), "validation": metrics}
