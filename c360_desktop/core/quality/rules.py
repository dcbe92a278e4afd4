"""Data-quality rules as data: what is checked, on which table and field, and when it is a problem.

Each rule has a kind:

- ``completeness``: the field is filled in (checked: every live row).
- ``validity``: a filled-in value is well formed (``check``: phone, email, trn, parish, date_of_birth,
  contact); checked: the rows where it is filled in.
- ``uniqueness``: a filled-in value belongs to one customer only (``field``), or, with
  ``check = "review_queue"``, the customers in an open identity-review pair.
- ``freshness``: each source system's newest import is at most ``max_age_days`` old (one result
  per system).
- ``consistency``: ``when`` (field equals value) then ``require`` is filled in; or ``check =
  "town_in_parish"``: a known town lies in the customer's parish.

The built-in rules are below; a company adds its own in ``quality_rules.json`` in the config
folder (a list of objects with these keys), read by :func:`load_rules`, which names the rule and
key of any mistake and keeps the built-in rules working.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

KINDS = ("completeness", "validity", "uniqueness", "freshness", "consistency")
CHECKS = {
    "validity": ("phone", "email", "trn", "parish", "date_of_birth", "contact"),
    "uniqueness": ("value", "review_queue"),
    "consistency": ("requires", "town_in_parish"),
}
TABLES = {  # what a rule may name: table -> fields
    "customer": ("display_name", "given_name", "family_name", "business_name", "trn", "date_of_birth", "street",
                 "town", "parish", "postal_zone", "primary_phone", "primary_email", "kind", "segment_id",
                 "rep_id", "status", "lat", "lon"),
    "contact_point": ("value",),
    "source_record": ("imported_at",),
}


class RuleError(ValueError):
    """A rule that cannot be used; the message names the rule and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    kind: str
    table: str = "customer"
    field: str = ""
    check: str = ""
    amber: float = 0.02  # the failing share from which the rule is amber
    red: float = 0.10  # ... and red (raising an alert)
    max_age_days: int = 30  # freshness only
    when: dict[str, str] = dc_field(default_factory=dict)  # consistency "requires": {field: value}
    require: str = ""

    def status(self, share: float) -> str:
        return "red" if share >= self.red else "amber" if share >= self.amber else "green"


BUILT_IN: tuple[Rule, ...] = (
    Rule("customer.phone.complete", "Customers with a phone", "completeness", field="primary_phone",
         amber=0.10, red=0.25),
    Rule("customer.phone.valid", "Phones in E.164 and valid", "validity", field="primary_phone", check="phone",
         amber=0.01),
    Rule("customer.email.valid", "E-mail addresses well formed", "validity", field="primary_email", check="email"),
    Rule("customer.trn.valid", "TRNs of nine digits", "validity", field="trn", check="trn"),
    Rule("customer.parish.complete", "Customers with a parish", "completeness", field="parish"),
    Rule("customer.parish.valid", "Parish codes known (JM-01 to JM-14)", "validity", field="parish", check="parish"),
    Rule("customer.dob.valid", "Dates of birth possible (age 0 to 120)", "validity", field="date_of_birth",
         check="date_of_birth"),
    Rule("contact.value.valid", "Contact points well formed", "validity", table="contact_point", field="value",
         check="contact"),
    Rule("customer.trn.unique", "TRNs held by one customer", "uniqueness", field="trn", check="value",
         amber=0.005, red=0.02),
    Rule("customer.email.unique", "E-mail addresses held by one customer", "uniqueness", field="primary_email",
         check="value", amber=0.01, red=0.05),
    Rule("customer.duplicates", "Customers not in an open duplicate pair", "uniqueness", check="review_queue",
         amber=0.02, red=0.10),
    Rule("source.fresh", "Sources imported recently", "freshness", table="source_record", field="imported_at",
         amber=0.01, red=0.5, max_age_days=30),
    Rule("customer.town_in_parish", "Towns in the customer's parish", "consistency", field="town",
         check="town_in_parish"),
    Rule("customer.business_name", "Businesses with a business name", "consistency", field="business_name",
         check="requires", when={"kind": "business"}, require="business_name"),
)


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a rule is an object with keys such as id, title, kind, field")
    known = {f.name for f in fields(Rule)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise RuleError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    for key in ("id", "title", "kind"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RuleError(f"{where}: {key!r} must be a non-empty text")
    where = f"{where} ({raw['id']})"
    kind = raw["kind"]
    if kind not in KINDS:
        raise RuleError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    table = raw.get("table", "customer")
    if table not in TABLES:
        raise RuleError(f"{where}: table {table!r} is not one of {', '.join(TABLES)}")
    for key in ("field", "require"):
        if raw.get(key) and raw[key] not in TABLES[table]:
            raise RuleError(f"{where}: {key} {raw[key]!r} is not a field of {table}")
    check = raw.get("check", "")
    if kind in CHECKS and check not in CHECKS[kind]:
        raise RuleError(f"{where}: check {check!r} is not one of {', '.join(CHECKS[kind])} for {kind}")
    if kind in ("completeness", "validity") and not raw.get("field"):
        raise RuleError(f"{where}: a {kind} rule needs a field")
    when = raw.get("when", {})
    if check == "requires":
        if not isinstance(when, dict) or len(when) != 1 or not raw.get("require"):
            raise RuleError(f"{where}: a 'requires' rule needs when: {{field: value}} and require: field")
        (when_field,) = when
        if when_field not in TABLES[table]:
            raise RuleError(f"{where}: when {when_field!r} is not a field of {table}")
    for key in ("amber", "red"):
        value = raw.get(key, getattr(BUILT_IN[0], key))
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise RuleError(f"{where}: {key} must be a share between 0 and 1, not {value!r}")
    if raw.get("amber", 0.02) > raw.get("red", 0.10):
        raise RuleError(f"{where}: amber ({raw.get('amber', 0.02)}) is above red ({raw.get('red', 0.10)})")
    age = raw.get("max_age_days", 30)
    if not isinstance(age, int) or isinstance(age, bool) or age < 1:
        raise RuleError(f"{where}: max_age_days must be a whole number of days, at least 1")
    return Rule(**{**raw, "field": raw.get("field") or raw.get("require", ""),
                   "when": {str(k): str(v) for k, v in when.items()}})


def load_rules(path: Path | None) -> tuple[tuple[Rule, ...], list[str]]:
    """The built-in rules plus the company's from ``path`` (if it exists), and the problems found
    in that file (a bad rule is left out and named; the others still apply)."""
    if path is None or not path.exists():
        return BUILT_IN, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return BUILT_IN, [f"{path.name}: not readable as JSON ({exc}); only the built-in rules apply"]
    if not isinstance(raw, list):
        return BUILT_IN, [f"{path.name}: must hold a list of rules; only the built-in rules apply"]
    rules, problems, seen = list(BUILT_IN), [], {r.id for r in BUILT_IN}
    for i, item in enumerate(raw, 1):
        try:
            rule = _rule(item, f"{path.name}, rule {i}")
        except RuleError as exc:
            problems.append(str(exc))
            continue
        if rule.id in seen:
            problems.append(f"{path.name}, rule {i}: the id {rule.id!r} is taken")
            continue
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules), problems
