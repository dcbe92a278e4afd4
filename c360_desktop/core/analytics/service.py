"""ModelService: what the model dashboard asks of the cache's model registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from c360_desktop.core.analytics import registry
from c360_desktop.core.progress import Progress
from c360_desktop.core.storage.cache import Cache


class ModelService:
    def __init__(self, cache: Cache, user: Callable[[], Any] | None = None) -> None:
        self._cache = cache
        self._user = user  # who asks (a security.User); None: the app itself (the first start)

    def recorded(self, model: str | None = None) -> list[registry.ModelVersion]:
        """Every recorded version (of one model, or all), newest first."""
        return registry.versions(self._cache.reader(), model)

    def versions(self, model: str) -> list[tuple[str, str]]:
        """(version, trained_at) of a model, newest first."""
        return registry.listing(self._cache.reader(), model)

    def version(self, version: str) -> registry.ModelVersion:
        return registry.get(self._cache.reader(), version)

    def drift_history(self, version: str) -> list[tuple[str, dict[str, float]]]:
        return registry.drift_history(self._cache.reader(), version)

    def due(self, every_days: int) -> list[str]:
        """The models older than ``every_days`` (training.due)."""
        from c360_desktop.core.analytics.training import due

        return due(self._cache.reader(), every_days)

    def missing_libraries(self, task: str) -> list[str]:
        """The modules retraining ``task`` needs that are not installed."""
        from c360_desktop.core.analytics.training import missing_libraries

        return missing_libraries(task)

    def train(self, task: str, progress: Progress | None = None) -> dict[str, Any]:
        """Retrain ``task`` (or "all") and rescore; each task's summary by name (training.train)."""
        from c360_desktop.core.analytics.training import train

        if self._user is not None:
            from c360_desktop.core.audit.log import require
            from c360_desktop.core.security import Permission

            require(self._cache, self._user(), Permission.TRAIN_MODELS, "models.train")
        return train(self._cache, task, progress)

    def check_drift(self, threshold: float | None = None) -> list[dict[str, Any]]:
        """Each current model's drift against its training data (training.check_drift)."""
        from c360_desktop.core.analytics.training import check_drift

        return check_drift(self._cache, threshold)
