"""Plugins load through entry points; a broken plugin is reported and skipped, never fatal."""

from importlib.metadata import EntryPoint, entry_points

from c360_desktop.plugin_api import ENTRY_POINT_GROUP, load_plugins


class Context:
    capabilities = frozenset({"ui"})
    services = runner = None

    def __init__(self):
        self.registered = []


def ep(name, value):
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_broken_plugins_are_skipped_with_a_reason():
    ctx = Context()
    reports = load_plugins(ctx, [
        ep("good", "tests.fake_plugins:GoodPlugin"),
        ep("raises", "tests.fake_plugins:RaisingPlugin"),
        ep("future", "tests.fake_plugins:FuturePlugin"),
        ep("missing", "tests.no_such_module:Plugin"),
        ep("map", "tests.fake_plugins:NeedsMapPlugin"),
    ])
    assert ctx.registered == ["Good"]
    by_name = {r.name: r for r in reports}
    assert by_name["Good"].loaded
    assert "boom" in by_name["Raises"].reason
    assert "API 99" in by_name["future"].reason
    assert "could not be loaded" in by_name["missing"].reason
    assert by_name["Needs a map"].reason == "needs map"


def test_built_in_panes_register_through_the_entry_point_group():
    names = {e.name for e in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"lookup", "profile"} <= names
