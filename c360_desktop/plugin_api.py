"""The one module a plugin imports: a versioned facade over the app (no Qt imports here).

A plugin is a class registered under the ``c360_desktop.plugins`` entry-point group
(``module:Class``) with declarative metadata and a ``register(context)`` method. Heavy imports
belong inside ``register`` so that discovering plugins stays cheap. A plugin that fails to load
or register is logged and skipped; it never stops the app. Built-in panes register this way too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Protocol

log = logging.getLogger(__name__)

API_VERSION = 1
ENTRY_POINT_GROUP = "c360_desktop.plugins"
# What a source connector builds on (the importer's reading and checking, the standardisers),
# loaded on first use so that discovering plugins stays cheap.
_IMPORTING = "c360_desktop.core.identity.importing"
CONNECTOR_KIT = {"Problem": _IMPORTING, "SourceRows": _IMPORTING, "TableConnector": _IMPORTING,
                 "decode": _IMPORTING, "read_table": _IMPORTING,
                 "date_value": "c360_desktop.core.identity.standardise"}


def __getattr__(name: str) -> Any:
    if name in CONNECTOR_KIT:
        import importlib

        return getattr(importlib.import_module(CONNECTOR_KIT[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PluginContext(Protocol):
    """What the host offers a plugin. ``capabilities`` says what this host can do ("ui", "connectors")."""

    capabilities: frozenset[str]
    services: Any  # c360_desktop.core.services.Services
    runner: Any  # ui.workers.TaskRunner, where capabilities has "ui"

    def add_pane(self, widget: Any, title: str, object_name: str, area: str = "left",
                 visible: bool = True) -> None: ...

    def add_action(self, text: str, shortcut: str | None, callback: Callable[[], None],
                   menu: str = "Go") -> None: ...

    def open_customer(self, customer_id: str) -> None: ...

    def current_customer(self) -> str | None:
        """The customer last opened in the 360 view, if any."""
        ...

    def set_customer_viewer(self, viewer: Callable[[str], None]) -> None: ...

    def add_connector(self, connector: Any) -> None:
        """Offer a source connector (core/identity/importing.Connector); hosts with the
        "connectors" capability."""
        ...


class Plugin:
    """Base class for plugins (subclassing is optional; the attributes are what count)."""

    NAME: ClassVar[str] = ""
    API_VERSION: ClassVar[int] = API_VERSION
    REQUIRES: ClassVar[tuple[str, ...]] = ()
    ORDER: ClassVar[int] = 100  # lower registers first

    def register(self, context: PluginContext) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class PluginReport:
    name: str
    loaded: bool
    reason: str = ""


FROZEN_REGISTRY = "frozen_plugins.json"
"""The plugin list a frozen build carries beside this module (packaging/build.py writes it)."""


def plugin_entry_points() -> list[EntryPoint]:
    """The installed plugins' entry points. A frozen app (PyInstaller) has no package metadata to
    look them up in, so it reads the list its build wrote; plugins installed beside a frozen
    app are not supported."""
    import sys

    if getattr(sys, "frozen", False):
        import json
        from pathlib import Path

        registry = Path(__file__).with_name(FROZEN_REGISTRY)
        if registry.exists():
            return [EntryPoint(name, value, ENTRY_POINT_GROUP)
                    for name, value in json.loads(registry.read_text("utf-8")).items()]
    return list(entry_points(group=ENTRY_POINT_GROUP))


def load_plugins(context: PluginContext,
                 eps: Iterable[EntryPoint] | None = None) -> list[PluginReport]:
    """Discover, check and register plugins; failures are reported, never raised."""
    eps = list(plugin_entry_points() if eps is None else eps)
    found: list[tuple[int, str, Any]] = []
    reports = []
    for ep in eps:
        try:
            cls = ep.load()
            name = getattr(cls, "NAME", "") or ep.name
            version = getattr(cls, "API_VERSION", None)
            if version != API_VERSION:
                raise RuntimeError(f"needs plugin API {version}, this app offers {API_VERSION}")
            missing = set(getattr(cls, "REQUIRES", ())) - context.capabilities
            if missing:
                reports.append(PluginReport(name, False, f"needs {', '.join(sorted(missing))}"))
                continue
            found.append((getattr(cls, "ORDER", 100), name, cls))
        except Exception as exc:  # a broken plugin must not stop the app
            log.warning("plugin %s could not be loaded: %s", ep.name, exc, exc_info=True)
            reports.append(PluginReport(ep.name, False, f"could not be loaded: {exc}"))
    for _order, name, cls in sorted(found, key=lambda f: (f[0], f[1])):
        try:
            cls().register(context)
            reports.append(PluginReport(name, True))
        except Exception as exc:
            log.warning("plugin %s failed to register: %s", name, exc, exc_info=True)
            reports.append(PluginReport(name, False, f"failed to register: {exc}"))
    return reports
