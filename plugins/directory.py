"""First-party plugin: business-directory CSV exports, registered by entry point like any
third party's connector (it uses only c360_desktop.plugin_api)."""

from __future__ import annotations

from typing import Any

from c360_desktop.plugin_api import API_VERSION, TableConnector


class DirectoryConnector(TableConnector):
    """A business-directory CSV export (name, telephone, address, parish, category)."""

    NAME = "directory"
    SYSTEM = "directory"
    ID_COLUMN = "Listing ID"
    MAPPING = {"Business Name": "Business Name", "Telephone": "Telephone", "Address": "Address",
               "Parish": "Parish", "Category": "Category"}
    PHONES = ("Telephone",)


class DirectoryPlugin:
    NAME = "Business directory connector"
    API_VERSION = API_VERSION
    REQUIRES = ("connectors",)
    ORDER = 10

    def register(self, context: Any) -> None:
        context.add_connector(DirectoryConnector())
