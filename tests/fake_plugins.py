"""Plugins for tests of plugin loading: good, broken and mismatched ones."""

from c360_desktop.plugin_api import Plugin


class GoodPlugin(Plugin):
    NAME = "Good"

    def register(self, context):
        context.registered.append(self.NAME)


class RaisingPlugin(Plugin):
    NAME = "Raises"

    def register(self, context):
        raise RuntimeError("boom")


class FuturePlugin(Plugin):
    NAME = "Future"
    API_VERSION = 99

    def register(self, context):
        context.registered.append(self.NAME)


class NeedsMapPlugin(Plugin):
    NAME = "Needs a map"
    REQUIRES = ("map",)

    def register(self, context):
        context.registered.append(self.NAME)
