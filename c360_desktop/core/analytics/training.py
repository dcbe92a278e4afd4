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

from c360_desktop.core.progress import Progress, Step

if TYPE_CHECKING:
    import pandas as pd

    from c360_desktop.core.analytics.purchases import PurchaseLog

TASKS = ("churn", "clv", "leads", "forecast", "segments")
# the registry's model name for each task
MODEL_OF = {"churn": "churn", "clv": "clv", "leads": "lead", "forecast": "forecast", "segments": "segments"}
NEEDS = {"churn": ("sklearn", "xgboost"), "leads": ("sklearn", "xgboost"), "clv": ("scipy", "sklearn", "xgboost"),
         "forecast": ("statsmodels",), "segments": ("sklearn",)}



PACKAGE_OF = {"sklearn": "scikit-learn"}  # import name -> the name pip knows


def missing_libraries(task: str) -> list[str]:
    """The modules ``task`` needs that are not installed (import names)."""
    from importlib.util import find_spec

    needs = {m for t in (TASKS if task == "all" else (task,)) for m in NEEDS[t]}
    return sorted(m for m in needs if find_spec(m) is None)


def install_hint(modules: list[str]) -> str:
    """'scikit-learn, xgboost (pip install ...)' for a message."""
    return f"{', '.join(PACKAGE_OF.get(m, m) for m in modules)} (missing from this installation: reinstall C360 Desktop)"


def _one(cache: Any, task: str, progress: Step, cancelled: Callable[[], bool] | None,
         log: PurchaseLog | None, leads_follow: bool = False) -> dict[str, Any]:
    if task == "churn":
        from c360_desktop.core.analytics.churn import train_and_score

        r = train_and_score(cache, progress=progress, cancelled=cancelled, log=log, rank_leads=not leads_follow)
        return {"model_version": r.model_version, "trained_as_of": r.trained_as_of,
                "validated_as_of": r.validated_as_of, "validation": r.metrics, "scored": r.scored}
    if task == "leads":
        from c360_desktop.core.analytics.lead_model import train_and_score as train_leads

        lr = train_leads(cache, progress=progress, cancelled=cancelled, log=log)
        return {"model_version": lr.model_version, "trained_on": lr.trained_on, "validated_on": lr.validated_on,
                "validation": lr.metrics, "scored": lr.scored}
    if task == "clv":
        from c360_desktop.core.analytics.clv import score_cache

        return score_cache(cache, progress=progress, log=log, cancelled=cancelled)
    if task == "forecast":
        from c360_desktop.core.analytics.sales_forecast import train as train_forecast

        fr = train_forecast(cache, progress=progress, cancelled=cancelled, log=log)
        return {"model_version": fr.model_version, "series": fr.series, "validation": fr.metrics}
    if task == "segments":
        from c360_desktop.core.analytics.segments import train_and_assign

        sr = train_and_assign(cache, progress=progress, cancelled=cancelled, log=log)
        return {"model_version": sr.model_version, "customers": sr.customers, "rfm": sr.rfm,
                "clusters": sr.clusters}
    raise ValueError(f"unknown model {task!r}: choose {', '.join(TASKS)} or all")


def train(cache: Any, task: str, progress: Progress | None = None) -> dict[str, Any]:
    """Train ``task`` (or every task for "all", lead scores after churn so next best actions see
    the new risk; the cache's purchases are read once for all of them). Returns each task's
    summary by name. ``progress`` reports, and a cancel stops the work at its next step with
    the previous scores kept."""
    from c360_desktop.core.analytics.purchases import PurchaseLog
    from c360_desktop.core.progress import Cancelled, cancel_check, step_of

    say = step_of(progress)
    cancelled = cancel_check(progress)
    tasks = TASKS if task == "all" else (task,)
    if task != "all" and task not in TASKS:
        raise ValueError(f"unknown model {task!r}: choose {', '.join(TASKS)} or all")
    out: dict[str, Any] = {}
    log = None
    if task == "all":
        say(0.0, "Reading the purchases")
        log = PurchaseLog.read(cache.reader())
    for k, name in enumerate(tasks):
        if cancelled():
            raise Cancelled(f"training cancelled before {name}; finished: {', '.join(out) or 'none'}")

        def part(fraction: float, message: str, k: int = k, name: str = name) -> None:
            say((k + fraction) / len(tasks), f"{name}: {message}")

        try:
            out[name] = _one(cache, name, part, cancelled, log, leads_follow=task == "all")
        except BaseException:
            if name == "leads" and "churn" in out:  # the queue was left for the lead model to rank
                from c360_desktop.core.leads.queue import refresh_lead_ranks

                with cache.writer() as w:
                    refresh_lead_ranks(w)
            raise
    return out


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
