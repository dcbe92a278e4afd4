"""Every role against the panes (issue 21, bar): a real window per role, and in it each control
guarded by a permission is offered exactly when the role holds it. Refusals by the services behind
those controls are tested with the same roles in tests/core/test_role_matrix.py."""

from __future__ import annotations

import pytest

from c360_desktop.core.security import ROLE_PERMISSIONS, Permission, Role
from c360_desktop.core.settings import Settings
from c360_desktop.ui.widgets.export import ExportButton


def _offered(launcher) -> dict[Permission, bool]:
    window, panes = launcher.window, launcher.host.panes
    exports = window.findChildren(ExportButton)
    assert len(exports) >= 4  # the report builder, the lead queue, the audit trail... each has one
    return {
        Permission.EXPORT: all(b.isEnabled() for b in exports),
        Permission.VIEW_AUDIT: "audit_pane" in window.docks,
        Permission.HANDLE_REQUESTS: "requests_pane" in window.docks,
        Permission.ASSIGN_LEADS: panes["leads_pane"].assign_button.isEnabled()
        and panes["leads_pane"].rebalance_button.isEnabled(),
        Permission.TRAIN_MODELS: panes["models_pane"].retrain_button.isEnabled(),
        Permission.STEWARD_DATA: not panes["quality_pane"].approve_button.isHidden(),
        Permission.MERGE: panes["review_pane"].may_merge and panes["review_pane"].buttons["undo"].isEnabled(),
        Permission.MANAGE_RULES: panes["alerts_pane"].rules_button.isEnabled(),
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_is_offered_what_it_may_do_and_nothing_else(qtbot, launch, demo_cache, role):
    start, _rec = launch
    launcher = start(Settings(user_name=f"a_{role.value}", role=role.value), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=30_000)
    offered = _offered(launcher)
    want = {p: p in ROLE_PERMISSIONS[role] for p in offered}
    assert offered == want
    disabled = [b for b in launcher.window.findChildren(ExportButton) if not b.isEnabled()]
    assert all("may not export" in b.toolTip() for b in disabled)
    if Permission.MANAGE_RULES not in ROLE_PERMISSIONS[role]:
        tip = launcher.host.panes["alerts_pane"].rules_button.toolTip()
        assert "may not change alert and quality rules" in tip and "can)" in tip
