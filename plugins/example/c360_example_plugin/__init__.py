"""An example third-party C360 Desktop plugin: a vCard connector and a small pane.

It imports nothing of the app but ``c360_desktop.plugin_api``; Qt is imported inside
``register`` only when the host has a UI, so the connector also works in the ``c360`` CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from c360_desktop import plugin_api


def _unfold(text: str) -> list[tuple[int, str]]:
    """vCard lines with folded continuations joined (RFC 6350 3.2), each with its first line number."""
    out: list[tuple[int, str]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + line[1:])
        elif line.strip():
            out.append((n, line))
    return out


class VCardConnector:
    """Contacts from a .vcf file: FN (or N), TEL, EMAIL, ADR; UID as the record id."""

    NAME = "vcard"
    SYSTEM = "vcard"

    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() in (".vcf", ".vcard")

    def read(self, path: Path, data: bytes) -> Any:
        out = plugin_api.SourceRows(self.SYSTEM, None, phone_columns=("Phone",))
        text = plugin_api.decode(data, out.problems)
        card: dict[str, str] | None = None
        start = 0
        for n, line in _unfold(text):
            key, _, value = line.partition(":")
            name = key.split(";")[0].upper()
            if name == "BEGIN" and value.strip().upper() == "VCARD":
                card, start = {}, n
            elif name == "END" and card is not None:
                ext = card.pop("UID", "") or f"line-{start}"
                out.rows.append((start, ext, {k: v for k, v in card.items() if v}))
                card = None
            elif card is not None:
                field = {"FN": "Name", "TEL": "Phone", "EMAIL": "Email", "UID": "UID"}.get(name)
                if name == "N" and "Name" not in card:
                    family, given = (value.split(";") + ["", ""])[:2]
                    card["Name"] = f"{given} {family}".strip()
                elif name == "ADR":
                    parts = [p for p in value.split(";") if p]
                    card.setdefault("Address", ", ".join(parts))
                elif field and field not in card:
                    card[field] = value.strip()
        if card is not None:
            out.problems.append(plugin_api.Problem(start, None, "BEGIN:VCARD without END:VCARD"))
        if not out.rows and not out.problems:
            out.problems.append(plugin_api.Problem(None, None, "no BEGIN:VCARD in this file"))
        return out


class ExamplePlugin:
    NAME = "Example: vCard contacts"
    API_VERSION = plugin_api.API_VERSION
    REQUIRES: tuple[str, ...] = ()
    ORDER = 200

    def register(self, context: Any) -> None:
        if "connectors" in context.capabilities:
            context.add_connector(VCardConnector())
        if "ui" in context.capabilities:
            from c360_example_plugin.pane import SourcesPane

            context.add_pane(SourcesPane(context.services, context.runner), "Contacts by source",
                             "example_sources_pane", area="right", visible=False)
