"""What a demo cache gets once, on its first start, so that every pane has something true to show:
every model trained on the demo's own history (churn risk, lifetime value, lead scores, segments
and the forecast, each customer scored with the reasons), the identity review queue filled with
the doubtful pairs, and the budget monitor's alerts. It runs after the window is up (training takes
longer than a first window may), in a worker with progress; a cancel (closing the app) leaves
what was finished, and the next start carries on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from c360_desktop.core.progress import Progress, step_of

DONE_KEY = "demo_prepared_at"  # cache_meta: when the first-start work finished


@dataclass
class Prepared:
    trained: list[str] = field(default_factory=list)  # the models trained
    skipped: dict[str, str] = field(default_factory=dict)  # model -> why not (too little data)
    scored: int = 0  # customers with a score of any model
    pairs: int = 0  # pairs waiting in the identity review queue
    alerts: int = 0  # alerts raised (campaign budgets, data-quality rules turned red)


def needs_preparing(cache: Any) -> bool:
    """A demo cache the app built on a first start (build_demo_cache(prepare=True)) whose
    first-start work has not finished yet."""
    return cache.meta("demo_prepare") == "wanted" and not cache.meta(DONE_KEY)


def prepare_demo(services: Any, progress: Progress | None = None) -> Prepared:
    """Train the models whose libraries are installed (those not yet trained), fill the review
    queue and raise the budget alerts; then mark the cache prepared."""
    from c360_desktop.core.analytics.training import TASKS, missing_libraries

    say = step_of(progress)
    out = Prepared()
    cache = services.cache
    due = services.models.due(1)  # never trained (or a day old: a demo cache left for a while)
    tasks = [t for t in TASKS if t in due and not missing_libraries(t)]
    out.skipped = {t: "its libraries are not installed" for t in TASKS if t in due and t not in tasks}
    for k, task in enumerate(tasks):  # in order: lead scores after churn risk, which they read
        def part(fraction: float, message: str, k: int = k) -> None:
            say(0.8 * (k + fraction) / len(tasks), f"Training the models on the demo data: {message}")

        try:
            services.models.train(task, Progress(part) if progress is not None else None)
        except ValueError as exc:  # too little data for this model (a small demo): the rest go on
            out.skipped[task] = str(exc)
        else:
            out.trained.append(task)
    say(0.8, "Finding likely duplicate customers to review")
    out.pairs = services.review.build_queue(Progress(lambda f, m: say(0.8 + 0.18 * f, m))
                                            if progress is not None else None)
    say(0.98, "Checking the campaigns' budgets")
    out.alerts = len(services.reports.raise_budget_alerts())
    say(0.99, "Measuring the data's quality")
    out.alerts += len(services.quality.measure("first_start").alerts)
    (out.scored,) = cache.reader().execute(
        "SELECT count(DISTINCT customer_id) FROM score WHERE deleted_at IS NULL").fetchone()
    with cache.writer() as conn:
        conn.execute("INSERT OR REPLACE INTO cache_meta (key, value) VALUES (?, datetime('now'))", (DONE_KEY,))
    say(1.0, "The demo data is ready")
    return out
