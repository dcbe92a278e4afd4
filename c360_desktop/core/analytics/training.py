"""One place to train the models: by name from the CLI, the Retrain button and the schedule.

``train(cache, "churn" | "clv" | "leads" | "forecast" | "segments" | "all")`` runs the task(s)
with progress and cancel, each recording its version in the registry (core/analytics/registry).
``check_drift`` compares today's population with each model's training population (PSI per
feature) and raises an alert over the threshold. ``due`` says whether the scheduled retrain is due.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from c360_desktop.core.analytics.purchases import PurchaseLog
    from c360_desktop.core.analytics.scores import Scoring, Write

TASKS = ("churn", "clv", "leads", "forecast", "segments")
# the registry's model name for each task
MODEL_OF = {"churn": "churn", "clv": "clv", "leads": "lead", "forecast": "forecast", "segments": "segments"}
NEEDS = {"churn": ("sklearn", "xgboost"), "leads": ("sklearn", "xgboost"), "clv": ("scipy", "sklearn", "xgboost"),
         "forecast": ("statsmodels",), "segments": ("sklearn",)}

Progress = Callable[[float, str], None]


PACKAGE_OF = {"sklearn": "scikit-learn"}  # import name -> the name pip knows


def missing_libraries(task: str) -> list[str]:
    """The modules ``task`` needs that are not installed (import names)."""
    from importlib.util import find_spec

    needs = {m for t in (TASKS if task == "all" else (task,)) for m in NEEDS[t]}
    return sorted(m for m in needs if find_spec(m) is None)


def install_hint(modules: list[str]) -> str:
    """'scikit-learn, xgboost (pip install ...)' for a message."""
    return f"{', '.join(PACKAGE_OF.get(m, m) for m in modules)} (pip install 'c360-desktop[analytics]')"


def _one(cache: Any, task: str, progress: Progress, cancelled: Callable[[], bool] | None,
         log: PurchaseLog | None, leads_follow: bool = False,
         defer: list[Scoring] | None = None) -> Callable[[], dict[str, Any]]:
    """Train ``task``; its summary comes from the returned function (when its scoring is deferred,
    once that has run)."""
    if task == "churn":
        from c360_desktop.core.analytics.churn import train_and_score

        r = train_and_score(cache, progress=progress, cancelled=cancelled, log=log, rank_leads=not leads_follow,
                            defer=defer)
        return lambda: {"model_version": r.model_version, "trained_as_of": r.trained_as_of,
                        "validated_as_of": r.validated_as_of, "validation": r.metrics, "scored": r.scored}
    if task == "leads":
        from c360_desktop.core.analytics.lead_model import train_and_score as train_leads

        lr = train_leads(cache, progress=progress, cancelled=cancelled, log=log, defer=defer)
        return lambda: {"model_version": lr.model_version, "trained_on": lr.trained_on,
                        "validated_on": lr.validated_on, "validation": lr.metrics, "scored": lr.scored}
    if task == "clv":
        from c360_desktop.core.analytics.clv import score_cache

        summary = score_cache(cache, progress=progress, log=log, cancelled=cancelled, defer=defer)
        return lambda: summary
    if task == "forecast":
        from c360_desktop.core.analytics.sales_forecast import train as train_forecast

        fr = train_forecast(cache, progress=progress, cancelled=cancelled, log=log)
        return lambda: {"model_version": fr.model_version, "series": fr.series, "validation": fr.metrics}
    if task == "segments":
        from c360_desktop.core.analytics.segments import train_and_assign

        sr = train_and_assign(cache, progress=progress, cancelled=cancelled, log=log, defer=defer)
        return lambda: {"model_version": sr.model_version, "customers": sr.customers, "rfm": sr.rfm,
                        "clusters": sr.clusters}
    raise ValueError(f"unknown model {task!r}: choose {', '.join(TASKS)} or all")


SCORING_ORDER = ("clv", "churn", "leads", "segments")  # Retrain all's, once every model is trained
TRAINING_SHARE = 0.85  # of Retrain all's progress bar; scoring every model takes the rest


def train(cache: Any, task: str, progress: Progress | None = None,
          cancelled: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Train ``task`` (or every task for "all") and score with it. Returns each task's summary
    by name.

    "all" reads the cache's purchases once for every model, trains every model first and then
    scores them one after another, each model's rows computed while the previous model's are
    still being written (the writes keep their order, each in its own transaction: lead scores
    rank the queue after churn's are in, so next best actions see the new risk). A model that
    fails to train stops the run, after the models trained before it have scored; a cancel
    while scoring keeps the models already written and the previous scores of the others."""
    from c360_desktop.core.analytics.purchases import PurchaseLog
    from c360_desktop.core.progress import Cancelled

    say = progress or (lambda _f, _m: None)
    tasks = TASKS if task == "all" else (task,)
    if task != "all" and task not in TASKS:
        raise ValueError(f"unknown model {task!r}: choose {', '.join(TASKS)} or all")
    if task != "all":
        return {task: _one(cache, task, lambda f, m: say(f, f"{task}: {m}"), cancelled, None)()}
    say(0.0, "Reading the purchases")
    log = PurchaseLog.read(cache.reader())
    summaries: dict[str, Callable[[], dict[str, Any]]] = {}
    scorings: list[tuple[str, Scoring]] = []
    scoring_phase: list[int] = []  # the index of the model being scored, once scoring has begun
    failure: BaseException | None = None
    for k, name in enumerate(tasks):
        if cancelled and cancelled():
            failure = Cancelled(f"training cancelled before {name}; finished: {', '.join(summaries) or 'none'}")
            break

        def part(fraction: float, message: str, k: int = k, name: str = name) -> None:
            if scoring_phase:  # scoring: the fraction is the model's own, from its "Scoring" step on
                at = scoring_phase[0] + min(1.0, max(0.0, (fraction - 0.75) / 0.25))
                say(TRAINING_SHARE + (1 - TRAINING_SHARE) * at / max(1, len(scorings)), f"{name}: {message}")
            else:
                say(TRAINING_SHARE * (k + min(fraction, 0.75) / 0.75) / len(tasks), f"{name}: {message}")

        later: list[Scoring] = []
        try:
            summaries[name] = _one(cache, name, part, cancelled, log, leads_follow=True, defer=later)
        except BaseException as exc:  # noqa: BLE001 - the models trained so far still score, then it is raised
            failure = exc
            break
        scorings.extend((name, s) for s in later)
    # Lifetime values first: light to compute and heavy to write, their rows are written while
    # churn's XGBoost passes (which leave the GIL free) take the two cores. The lead model after
    # churn (its ranking reads the new churn risk), whose writer keeps pace with its computing:
    # the lead features' Python then runs beside an idle writer instead of a busy one (the
    # writing thread takes the GIL back after every row).
    scorings.sort(key=lambda named: SCORING_ORDER.index(named[0]))
    with cache.checkpoints_after():
        written, scoring_failure = _score_all(scorings, scoring_phase, say)
    if "churn" in written and "leads" not in written:  # the queue was left for the lead model to rank
        from c360_desktop.core.leads import refresh_lead_ranks

        with cache.writer() as w:
            refresh_lead_ranks(w)
    failure = failure or scoring_failure
    if failure is not None:
        raise failure
    return {name: summary() for name, summary in summaries.items()}


def _score_all(scorings: list[tuple[str, Scoring]], phase: list[int],
               say: Progress) -> tuple[list[str], BaseException | None]:
    """Run the deferred scorings in order, each starting its write after the one before, and
    wait for every write. Returns the models written and the first failure (a cancel
    included), which stops the scorings not yet begun."""
    if not scorings:
        return [], None
    say(TRAINING_SHARE, "Scoring every model")
    writes: list[tuple[str, Write]] = []
    failure: BaseException | None = None
    for k, (name, scoring) in enumerate(scorings):
        phase[:] = [k]
        try:
            writes.append((name, scoring(writes[-1][1] if writes else None)))
        except BaseException as exc:  # noqa: BLE001 - handed back once the earlier writes have ended
            failure = exc
            break
    done = []
    for name, write in writes:
        try:
            write.wait()
            done.append(name)
        except BaseException as exc:  # noqa: BLE001 - handed back with the models written
            failure = failure or exc
    if failure is None:
        say(1.0, "Scores written")
    return done, failure


# ---- drift -----------------------------------------------------------------------------------

def _current(conn: sqlite3.Connection, model: str, log: PurchaseLog) -> pd.DataFrame | None:
    if model == "churn":
        from c360_desktop.core.analytics.churn import current_features

        return current_features(conn, log)
    if model == "lead":
        from c360_desktop.core.analytics.lead_model import current_features as lead_features

        return lead_features(conn, log)
    if model == "segments":
        from c360_desktop.core.analytics.segments import current_features as rfm_features

        return rfm_features(conn, log)
    if model == "clv":
        from c360_desktop.core.analytics.clv import summarise_log
        from c360_desktop.core.analytics.purchases import day_date

        if log.empty:
            return None
        return summarise_log(log, day_date(log.newest_day())).table[["frequency", "recency", "T", "monetary_value"]]
    return None  # forecasts are judged by their backtest against actuals, not by a population


def check_drift(cache: Any, threshold: float | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """PSI per feature of each model's latest version against today's population; stored, and an
    alert raised for a version over ``threshold``."""
    from c360_desktop.core.analytics import registry
    from c360_desktop.core.analytics.purchases import PurchaseLog

    limit = registry.DRIFT_THRESHOLD if threshold is None else threshold
    conn = cache.reader()
    out = []
    log: PurchaseLog | None = None
    for model in ("churn", "lead", "clv", "segments"):
        v = registry.latest(conn, model)
        if v is None or not v.reference:
            continue
        log = log if log is not None else PurchaseLog.read(conn)
        frame = _current(conn, model, log)
        if frame is None or frame.empty:
            continue
        values = registry.psi(v.reference, frame)
        alert = registry.save_drift(cache, v, values, limit, now)
        out.append({"model": model, "version": v.version, "psi": values, "worst": max(values.values(), default=0.0),
                    "alert": alert})
    return out


# ---- schedule --------------------------------------------------------------------------------

def due(conn: sqlite3.Connection, every_days: int, now: datetime | None = None) -> list[str]:
    """The tasks whose newest version is older than ``every_days`` (or that were never trained)."""
    if every_days <= 0:
        return []
    from c360_desktop.core.analytics import registry

    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    stale = []
    for task in TASKS:
        v = registry.latest(conn, MODEL_OF[task])
        if v is None or datetime.fromisoformat(v.trained_at) < now - timedelta(days=every_days):
            stale.append(task)
    return stale
