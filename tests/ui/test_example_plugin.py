"""The example third-party plugin (plugins/example, installed by CI like any package): its
connector imports in the CLI, its pane appears in the app and works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from c360_desktop.core.identity.importing import ConnectorRegistry
from tests.conftest import save_screenshot

C360 = str(Path(sys.executable).with_name("c360"))
VCF = """BEGIN:VCARD
VERSION:3.0
UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1
FN:Thaddeus Okwuosa-Brammer
TEL;TYPE=cell:+1 876 555 0911
EMAIL:thaddeus@example.org
END:VCARD
BEGIN:VCARD
VERSION:3.0
N:Quarshie;Philomena;;;
TEL:876-555-0912
ADR;TYPE=home:;;12 Hope Road;Kingston 6;St. Andrew;;Jamaica
END:VCARD
"""


def test_the_connector_is_found_and_imports_from_the_cli(demo_cache, tmp_path):
    assert "vcard" in ConnectorRegistry().load()
    path = tmp_path / "phone-contacts.vcf"
    path.write_text(VCF)
    r = subprocess.run([C360, "import", str(path), "--cache", str(demo_cache)], capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr
    assert "(vcard, source system vcard:phone-contacts): 2 new" in r.stderr
    r = subprocess.run([C360, "search", "Okwuosa", "--cache", str(demo_cache), "--json"], capture_output=True,
                       text=True, timeout=60)
    assert "Thaddeus Okwuosa-Brammer" in r.stdout
    r = subprocess.run([C360, "search", "Philomena Quarshie", "--cache", str(demo_cache)], capture_output=True,
                       text=True, timeout=60)
    assert "Philomena Quarshie" in r.stdout


def test_the_pane_appears_in_the_app_and_counts(qtbot, launch, demo_cache):
    start, _rec = launch
    launcher = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=30_000)
    pane = launcher.host.panes.get("example_sources_pane")
    assert pane is not None and type(pane).__module__ == "c360_example_plugin.pane"
    pane.show()
    pane.count_button.click()
    qtbot.waitUntil(lambda: "quickbooks" in pane.counts.text(), timeout=10_000)
    assert "spreadsheet" in pane.counts.text()
    save_screenshot(pane, "example_plugin_pane")
