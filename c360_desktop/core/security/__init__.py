"""Who may do what, as data: roles, permissions, ``can`` and ``redact``.

Services apply these, so every pane, export and CLI output shows a record the same way for the
same user (the 360 pane and ``c360 show --json`` mask a field rep's TRN alike). Panes ask
``can(user, Permission.X)``; they never compare role names. The role comes from the centre once a
cache has synced as its user, else from the sign-in record (``signin``), else (the demo user of
a cache without users) from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel


class Permission(StrEnum):
    VIEW_PII = "view_pii"  # TRN and date of birth in full
    VIEW_ALL_TERRITORIES = "view_all_territories"  # not only one's own parishes by default
    EXPORT = "export"
    EDIT_PROFILE = "edit_profile"
    MERGE = "merge"
    ASSIGN_LEADS = "assign_leads"
    MANAGE_RULES = "manage_rules"
    TRAIN_MODELS = "train_models"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    STEWARD_DATA = "steward_data"  # approve or reject data-quality fixes
    HANDLE_REQUESTS = "handle_requests"  # data-subject requests: register, access exports, erasure


class Role(StrEnum):
    MANAGER = "manager"
    ANALYST = "analyst"
    FIELD_REP = "field_rep"
    DATA_STEWARD = "data_steward"
    ADMIN = "admin"


P = Permission
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.MANAGER: frozenset({P.VIEW_PII, P.VIEW_ALL_TERRITORIES, P.EXPORT, P.EDIT_PROFILE, P.MERGE,
                             P.ASSIGN_LEADS, P.MANAGE_RULES, P.TRAIN_MODELS}),
    Role.ANALYST: frozenset({P.VIEW_PII, P.VIEW_ALL_TERRITORIES, P.EXPORT, P.EDIT_PROFILE, P.MERGE,
                             P.ASSIGN_LEADS, P.MANAGE_RULES, P.TRAIN_MODELS}),
    Role.FIELD_REP: frozenset({P.EDIT_PROFILE}),
    Role.DATA_STEWARD: frozenset({P.VIEW_PII, P.VIEW_ALL_TERRITORIES, P.EXPORT, P.EDIT_PROFILE, P.MERGE,
                                  P.MANAGE_RULES, P.VIEW_AUDIT, P.STEWARD_DATA, P.HANDLE_REQUESTS}),
    Role.ADMIN: frozenset(Permission),
}
# The views (panes, by feature) each role finds open on a first start, the first in front: the
# role's own work beside the lookup and the 360 view. Later starts keep the user's own layout.
HOME_VIEWS: Mapping[Role, tuple[str, ...]] = {
    Role.MANAGER: ("dashboard",), Role.ANALYST: ("reports", "dashboard"), Role.FIELD_REP: ("leads",),
    Role.DATA_STEWARD: ("quality", "review"), Role.ADMIN: ("dashboard",),
}
# What a user without VIEW_PII sees of each personal field: a TRN's last three digits, no date
# of birth, and the same for the source records' raw copies of them.
PII_FIELDS = ("trn", "date_of_birth")
PII_SOURCE_KEYS = ("Tax ID", "TRN", "TAXID", "Date of birth", "DOB")


class Refused(PermissionError):
    """The user's role may not do this; the message says what and who can."""


WHAT = {  # what each permission lets one do, for refusals
    Permission.VIEW_PII: "see TRNs and dates of birth", Permission.EXPORT: "export data",
    Permission.EDIT_PROFILE: "edit customers", Permission.MERGE: "merge or split customers",
    Permission.ASSIGN_LEADS: "assign leads", Permission.MANAGE_RULES: "change alert and quality rules",
    Permission.TRAIN_MODELS: "train models", Permission.MANAGE_USERS: "manage users",
    Permission.VIEW_AUDIT: "read the audit trail", Permission.STEWARD_DATA: "steward data",
    Permission.HANDLE_REQUESTS: "handle data-subject requests",
    Permission.VIEW_ALL_TERRITORIES: "see other territories",
}


def refusal(user: User, permission: Permission) -> str:
    allowed = [r.value.replace("_", " ") for r in Role if permission in ROLE_PERMISSIONS[r]]
    return (f"the {user.role.value.replace('_', ' ')} role may not {WHAT[permission]} "
            f"({' or '.join(allowed)} can)")


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    territory: tuple[str, ...] = ()  # parish codes; empty: every parish
    # The sign-in behind this user (security.signin.Session), None for the demo user of a cache
    # without users: then nothing asks for a password again.
    session: Any = field(default=None, compare=False, repr=False)


def require_fresh(user: User, what: str) -> None:
    """Go on if ``user`` proved who they are within the last minutes (or signs in nowhere);
    else signin.ReauthNeeded, which the window answers with a password prompt, then a retry."""
    if user.session is not None and not user.session.fresh():
        from c360_desktop.core.security.signin import ReauthNeeded

        raise ReauthNeeded(what)


def can(user: User, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[user.role]


def mask_trn(value: str | None) -> str | None:
    """A TRN with all but its last three digits hidden."""
    if not value:
        return value
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return f"***-***-{digits[-3:]}" if len(digits) >= 3 else "***"


T = TypeVar("T", bound=BaseModel)


def redact(record: T, user: User) -> T:
    """The record as ``user`` may see it (a copy; the original is unchanged). Works on any model
    with ``trn`` / ``date_of_birth`` fields and ``source_records`` whose raw fields hold them."""
    if can(user, Permission.VIEW_PII):
        return record
    update: dict[str, Any] = {}
    fields = type(record).model_fields
    data: Any = record  # any model with these fields
    if "trn" in fields:
        update["trn"] = mask_trn(data.trn)
    if "date_of_birth" in fields:
        update["date_of_birth"] = None
    if "source_records" in fields:
        update["source_records"] = tuple(
            r.model_copy(update={"fields": _redact_raw(r.fields)}) for r in data.source_records)
    return record.model_copy(update=update)


def _redact_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for key in PII_SOURCE_KEYS:
        if out.get(key):
            out[key] = mask_trn(str(out[key])) if "dob" not in key.lower() and "birth" not in key.lower() else None
    return out
