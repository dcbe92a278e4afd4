"""Every role against every permission-guarded action of the services (issue 21, bar): what a role
may do works, and what it may not is refused with a message naming who can, and is audited."""

from __future__ import annotations

import json

import pytest

from c360_desktop.core.security import ROLE_PERMISSIONS, Permission, Role


def _export(services, tmp_path):
    return services.privacy.pseudonymised_copy(tmp_path / f"copy-{services.user.role.value}.db")


def _audit(services, tmp_path):
    return services.audit.entries(limit=5)


def _requests(services, tmp_path):
    return services.privacy.requests()


def _steward(services, tmp_path):
    rule = services.quality.rules()[0][0]
    return services.quality.raise_issues(rule.id, entity_ids=[])


def _train(services, tmp_path):
    return services.models.train("segments")


def _review(services, tmp_path):
    try:
        services.review.decide(-1, "skip", services.user.name)
    except KeyError as exc:  # past the permission check: there is no pair -1 to decide
        assert "no review pair -1" in str(exc)


def _assign(services, tmp_path):
    conn = services.cache.reader()
    lead = conn.execute("SELECT id, rep_id FROM lead WHERE deleted_at IS NULL LIMIT 1").fetchone()
    other = conn.execute("SELECT id FROM sales_rep WHERE id != ? LIMIT 1", (lead[1],)).fetchone()[0]
    return services.leads.assign({lead[0]: other})


def _rules(services, tmp_path):
    from c360_desktop.core.alerts.store import AlertStore

    store = AlertStore(services.cache, lambda: services.user)
    return store.save_rules(store.rules())


def _users(services, tmp_path):
    from c360_desktop.core.security import signin

    if not signin.required(services.cache.path):  # a cache with an admin already: only admins add more
        signin.enrol(services.cache.path, "root", "root password 123", Role.ADMIN, (), None)
    return services.signin.enrol(f"new_{services.user.role.value}", "a new password 1", Role.ANALYST)


ACTIONS = {
    Permission.EXPORT: (_export, "export"),
    Permission.VIEW_AUDIT: (_audit, "audit"),
    Permission.HANDLE_REQUESTS: (_requests, "privacy.requests"),
    Permission.STEWARD_DATA: (_steward, "quality"),
    Permission.TRAIN_MODELS: (_train, "models.train"),
    Permission.MERGE: (_review, "identity_review"),
    Permission.ASSIGN_LEADS: (_assign, "leads.assign"),
    Permission.MANAGE_RULES: (_rules, "alerts.rules"),
    Permission.MANAGE_USERS: (_users, "signin.enrol"),
}


def _refusals(services) -> list[str]:
    rows = services.cache.reader().execute(
        "SELECT action, details FROM audit_event WHERE action LIKE '%.refused' ORDER BY occurred_at").fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_may_do_what_its_permissions_say_and_no_more(services, tmp_path, role):
    services.settings.role = role.value
    allowed = ROLE_PERMISSIONS[role]
    outcome: dict[Permission, str] = {}
    for permission, (action, audited_as) in ACTIONS.items():
        before = len(_refusals(services))
        try:
            action(services, tmp_path)
        except PermissionError as exc:
            outcome[permission] = "refused"
            assert "may not" in str(exc) and any(w in str(exc) for w in ("steward", "admin", "manager", "analyst")), (
                permission, str(exc))  # it says who may
        except Exception as exc:  # noqa: BLE001 - the quality service refuses with its own error type
            if "may not" not in str(exc):
                raise
            outcome[permission] = "refused"
        else:
            outcome[permission] = "allowed"
        if outcome[permission] == "refused":
            refusals = _refusals(services)
            assert len(refusals) == before + 1 and refusals[-1].startswith(audited_as), (permission, refusals)
        else:
            assert len(_refusals(services)) == before
    want = {p: "allowed" if p in allowed else "refused" for p in ACTIONS}
    assert outcome == want


def test_a_refusal_names_the_roles_that_can(services):
    services.settings.role = "field_rep"
    with pytest.raises(PermissionError, match=r"the field rep role may not train models \(manager or analyst or admin can\)"):
        services.models.train("segments")
    detail = json.loads(services.cache.reader().execute(
        "SELECT details FROM audit_event WHERE action = 'models.train.refused'").fetchone()[0])
    assert detail == {"permission": "train_models", "role": "field_rep"}
    assert services.audit.verify().ok  # the refusal is a link in this desktop's chain


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_the_360_view_and_search_show_trns_only_to_roles_that_may_see_them(services, role):
    services.settings.role = role.value
    cid, trn = services.cache.reader().execute(
        "SELECT id, trn FROM customer WHERE trn IS NOT NULL AND deleted_at IS NULL LIMIT 1").fetchone()
    shown = services.profiles.get(cid)
    if Permission.VIEW_PII in ROLE_PERMISSIONS[role]:
        assert shown.trn == trn
    else:
        assert shown.trn == f"***-***-{trn[-3:]}" and shown.date_of_birth is None
        digits = "".join(ch for ch in trn if ch.isdigit())
        assert all(digits not in json.dumps(r.fields) for r in shown.source_records)
