"""Alert rules as data, checked when saved and compiled for fast evaluation.

A rule names the event types it watches, conditions on the event and on the customer, how they
combine (all / any), a severity, escalations by customer value, who is notified and, optionally,
e-mail addresses. Fields are written ``event.type``, ``payload.amount`` or
``customer.lifetime_spend``; ``CUSTOMER_FACTS`` lists the customer attributes. A condition on a
value that is missing (a customer not in this cache, a model that has not scored yet) is false.

Evaluation is compiled: each condition becomes a closure, rules are indexed by event type, and
customer attributes come from ``facts`` loaded in bulk per batch (see pipeline.py), so evaluating
50 rules costs a few microseconds per event and no query.
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from c360_desktop.core.events import EVENT_TYPES, Event, payload_fields

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not in", "contains", "exists", "missing"]

#: Customer attributes a rule can test: name -> (kind, meaning).
CUSTOMER_FACTS: dict[str, tuple[str, str]] = {
    "name": ("text", "display name"),
    "kind": ("text", "individual or business"),
    "status": ("text", "active, inactive or churned"),
    "segment": ("text", "segment name, e.g. Champions"),
    "parish": ("text", "parish code, e.g. JM-01"),
    "lifetime_spend": ("number", "spend to date in JMD"),
    "clv": ("number", "predicted lifetime value in JMD (from the CLV model, when scored)"),
    "churn_risk": ("number", "churn probability 0-1 (from the churn model, when scored)"),
    "lead_score": ("number", "best open lead score 0-100 (from the lead model, when scored)"),
    "open_leads": ("number", "open leads"),
    "days_since_purchase": ("number", "days since the last purchase"),
    "marketing_consent": ("bool", "consented to marketing"),
}
EVENT_FIELDS: dict[str, str] = {"type": "text", "source": "text", "customer_id": "text"}
AUDIENCES = ("everyone", "manager", "analyst", "field_rep", "territory")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMERIC_OPS = {">", ">=", "<", "<="}


def _kind_of(annotation: Any) -> str:
    text = str(annotation)
    if annotation is bool or "bool" in text:
        return "bool"
    if annotation in (int, float, Decimal) or any(t in text for t in ("int", "float", "Decimal")):
        return "number"
    if "list" in text:
        return "list"
    return "text"


def field_kind(name: str, event_types: Iterable[str]) -> str:
    """'number' | 'text' | 'bool' | 'list' for a field, or ValueError saying why it is unknown."""
    scope, _, attr = name.partition(".")
    if scope == "event" and attr in EVENT_FIELDS:
        return EVENT_FIELDS[attr]
    if scope == "customer":
        if attr not in CUSTOMER_FACTS:
            raise ValueError(f"'{name}' is not a customer attribute (known: {', '.join(CUSTOMER_FACTS)})")
        return CUSTOMER_FACTS[attr][0]
    if scope == "payload" and attr:
        kinds = set()
        for t in event_types:
            fields = payload_fields(t)
            if attr not in fields:
                raise ValueError(f"'{name}' is not a field of {t} (fields: {', '.join(fields)})")
            kinds.add(_kind_of(fields[attr]))
        return kinds.pop() if len(kinds) == 1 else "text"
    raise ValueError(f"'{name}' is not a field; write event.type, payload.<field> or customer.<attribute>")


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=3, max_length=100)
    op: Op
    value: Any = None


class Escalation(Condition):
    severity: Severity


class AlertRule(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    event_types: list[str] = Field(min_length=1)
    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(default_factory=list)
    severity: Severity = "medium"
    escalations: list[Escalation] = Field(default_factory=list)
    notify: list[str] = Field(default_factory=lambda: ["everyone"], min_length=1)
    email: list[str] = Field(default_factory=list)
    title: str = Field(default="{rule}: {customer}", max_length=300)

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        for t in value:
            if t not in EVENT_TYPES:
                raise ValueError(f"unknown event type {t!r} (known: {', '.join(EVENT_TYPES)})")
        return value

    @field_validator("notify")
    @classmethod
    def _audience(cls, value: list[str]) -> list[str]:
        for who in value:
            if who not in AUDIENCES and not who.startswith("user:"):
                raise ValueError(f"{who!r} is not an audience ({', '.join(AUDIENCES)}, or user:NAME)")
        return value

    @field_validator("email")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @field_validator("title")
    @classmethod
    def _template(cls, value: str) -> str:
        for name in _PLACEHOLDER.findall(value):
            if name not in _TITLE_FIELDS and not name.startswith("payload."):
                raise ValueError(f"title: unknown placeholder {{{name}}} (use {', '.join('{' + f + '}' for f in _TITLE_FIELDS)} "
                                 "or {payload.<field>})")
        return value

    @model_validator(mode="after")
    def _conditions(self) -> AlertRule:
        for label, items in (("condition", self.conditions), ("escalation", self.escalations)):
            for i, c in enumerate(items, 1):
                try:
                    _check_condition(c, self.event_types)
                except ValueError as exc:
                    raise ValueError(f"{label} {i}: {exc}") from None
        return self


_TITLE_FIELDS = ("rule", "customer", "type", "severity")


def _check_condition(c: Condition, event_types: list[str]) -> None:
    kind = field_kind(c.field, event_types)
    if c.op in ("exists", "missing"):
        return
    if c.op in _NUMERIC_OPS:
        if kind != "number":
            raise ValueError(f"{c.field} is {kind}, so '{c.op}' cannot compare it; use == or !=")
        if isinstance(c.value, bool) or not isinstance(c.value, int | float):
            raise ValueError(f"{c.field} {c.op} needs a number, not {c.value!r}")
    elif c.op in ("in", "not in"):
        if not isinstance(c.value, list) or not c.value:
            raise ValueError(f"{c.field} {c.op} needs a non-empty list of values")
    elif c.op == "contains":
        if not isinstance(c.value, str) or not c.value:
            raise ValueError(f"{c.field} contains needs some text")
    elif kind == "number" and (isinstance(c.value, bool) or not isinstance(c.value, int | float)):
        raise ValueError(f"{c.field} {c.op} needs a number, not {c.value!r}")
    elif kind == "bool" and not isinstance(c.value, bool):
        raise ValueError(f"{c.field} {c.op} needs true or false, not {c.value!r}")


def rule_errors(data: dict[str, Any]) -> list[str]:
    """Every problem with a rule definition, each naming the field (for the Rules dialog)."""
    out: list[str] = []
    try:
        AlertRule.model_validate(data)
        return []
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            where = ".".join(str(p) for p in e["loc"])
            msg = str(e["msg"]).removeprefix("Value error, ")
            out.append(f"{where}: {msg}" if where else msg)
    # Field errors stop pydantic before the cross-field checks: run those too, so that the user
    # sees every problem at once.
    types = [t for t in data.get("event_types") or [] if t in EVENT_TYPES]
    if types and not any(m.startswith(("condition ", "escalation ")) for m in out):
        for label, key, model in (("condition", "conditions", Condition), ("escalation", "escalations", Escalation)):
            for i, raw in enumerate(data.get(key) or [], 1):
                try:
                    _check_condition(model.model_validate(raw), types)
                except (ValueError, ValidationError) as exc:
                    out.append(f"{label} {i}: {exc}")
    return out


# ---- compiled evaluation ----

Facts = dict[str, Any]
Getter = Callable[[Event, Facts | None], Any]
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


def _getter(name: str) -> Getter:
    scope, _, attr = name.partition(".")
    if scope == "event":
        if attr == "type":
            return lambda ev, _f: ev.envelope.type
        if attr == "source":
            return lambda ev, _f: ev.envelope.source
        return lambda ev, _f: ev.envelope.customer_id
    if scope == "payload":
        def payload_value(ev: Event, _f: Facts | None) -> Any:
            v = getattr(ev.data, attr, None)
            return float(v) if isinstance(v, Decimal) else v
        return payload_value
    return lambda _ev, facts: facts.get(attr) if facts else None


def _predicate(c: Condition) -> Callable[[Event, Facts | None], bool]:
    get = _getter(c.field)
    op, value = c.op, c.value
    if op == "exists":
        return lambda ev, f: get(ev, f) is not None
    if op == "missing":
        return lambda ev, f: get(ev, f) is None
    if op in ("in", "not in"):
        members = frozenset(str(v).casefold() for v in value)
        inside = op == "in"
        return lambda ev, f: (v := get(ev, f)) is not None and (str(v).casefold() in members) == inside
    if op == "contains":
        needle = str(value).casefold()
        return lambda ev, f: (v := get(ev, f)) is not None and needle in str(v).casefold()
    cmp = _CMP[op]
    if isinstance(value, str):
        folded = value.casefold()
        return lambda ev, f: (v := get(ev, f)) is not None and cmp(str(v).casefold(), folded)
    return lambda ev, f: (v := get(ev, f)) is not None and cmp(v, value)


@dataclass(frozen=True)
class Match:
    rules: tuple[AlertRule, ...]
    severity: str
    reasons: tuple[str, ...]

    @property
    def rule(self) -> AlertRule:
        return self.rules[0]


class _Compiled:
    def __init__(self, rule: AlertRule) -> None:
        self.rule = rule
        self.rank = SEVERITIES.index(rule.severity)
        preds = [_predicate(c) for c in rule.conditions]
        self.conditions = list(zip(rule.conditions, preds, strict=True))
        if not preds:
            self.test: Callable[[Event, Facts | None], bool] = lambda _e, _f: True
        elif rule.match == "all":
            self.test = lambda e, f: all(p(e, f) for p in preds)
        else:
            self.test = lambda e, f: any(p(e, f) for p in preds)
        self.escalations = [(SEVERITIES.index(x.severity), _predicate(x), x) for x in rule.escalations]


def describe(c: Condition) -> str:
    if c.op in ("exists", "missing"):
        return f"{c.field} {'is present' if c.op == 'exists' else 'is missing'}"
    return f"{c.field} {c.op} {c.value!r}"


class RuleEngine:
    """Enabled rules, compiled and indexed by event type."""

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        self.rules = [r for r in rules if r.enabled]
        self._by_type: dict[str, list[_Compiled]] = {}
        needs: set[str] = set()
        for rule in self.rules:
            compiled = _Compiled(rule)
            uses_customer = any(c.field.startswith("customer.") for c in (*rule.conditions, *rule.escalations))
            for t in rule.event_types:
                self._by_type.setdefault(t, []).append(compiled)
                if uses_customer or "territory" in rule.notify or "{customer}" in rule.title:
                    needs.add(t)
        self.needs_customer = frozenset(needs)

    def watches(self, event_type: str) -> bool:
        return event_type in self._by_type

    def evaluate(self, event: Event, facts: Facts | None) -> Match | None:
        candidates = self._by_type.get(event.envelope.type)
        if not candidates:
            return None
        hits: list[tuple[int, _Compiled]] = []
        reasons: list[str] = []
        for c in candidates:
            if not c.test(event, facts):
                continue
            rank = c.rank
            for esc_rank, pred, esc in c.escalations:
                if esc_rank > rank and pred(event, facts):
                    rank = esc_rank
                    reasons.append(f"{c.rule.name}: escalated to {esc.severity} because {describe(esc)}")
            hits.append((rank, c))
            held = [describe(x) for x, p in c.conditions if c.rule.match == "all" or p(event, facts)]
            reasons.insert(0, f"{c.rule.name}: " + (" and ".join(held) or "any event"))
        if not hits:
            return None
        hits.sort(key=lambda h: -h[0])
        return Match(tuple(c.rule for _r, c in hits), SEVERITIES[hits[0][0]], tuple(reasons))


def render_title(match: Match, event: Event, facts: Facts | None, severity: str) -> str:
    customer = (facts or {}).get("name") or event.customer_id or "no customer"
    values: dict[str, Any] = {"rule": match.rule.name, "customer": customer,
                              "type": EVENT_TYPES[event.type].label, "severity": severity}

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("payload."):
            value = getattr(event.data, name[8:], None)
            if value is None:
                return "?"
            return f"{value:,.2f}".removesuffix(".00") if isinstance(value, Decimal | float) else str(value)
        return str(values.get(name, "?"))

    return _PLACEHOLDER.sub(fill, match.rule.title)[:300]


@dataclass(frozen=True)
class Audience:
    """Who this desktop's user is, to keep only the alerts meant for them."""

    user: str
    role: str
    parishes: frozenset[str] | None = None  # a field rep's territory; None: all

    def includes(self, rule: AlertRule, facts: Facts | None) -> bool:
        for who in rule.notify:
            if who == "everyone" or who == self.role or who == f"user:{self.user}":
                return True
            if who == "territory" and self.role == "field_rep":
                parish = (facts or {}).get("parish")
                if parish is not None and (self.parishes is None or parish in self.parishes):
                    return True
        return False


def default_rules() -> list[AlertRule]:
    """The rule set a new desktop starts with (the examples the sales organisation asked for)."""
    big = 2_000_000
    return [AlertRule.model_validate(r) for r in (
        {"id": "00000000-0000-4000-8000-000000000001", "name": "High-value customer complains",
         "event_types": ["social.mention", "interaction.logged"], "match": "all",
         "conditions": [{"field": "payload.complaint", "op": "==", "value": True},
                        {"field": "customer.lifetime_spend", "op": ">=", "value": 250_000}],
         "severity": "high", "escalations": [{"field": "customer.lifetime_spend", "op": ">=", "value": big,
                                              "severity": "critical"}],
         "notify": ["manager", "territory"], "title": "{customer} complained ({type})"},
        {"id": "00000000-0000-4000-8000-000000000002", "name": "Lead score jumped",
         "event_types": ["lead.score_changed"],
         "conditions": [{"field": "payload.jump", "op": ">=", "value": 20},
                        {"field": "payload.new_score", "op": ">=", "value": 60}],
         "severity": "medium", "escalations": [{"field": "payload.new_score", "op": ">=", "value": 85,
                                                "severity": "high"}],
         "notify": ["territory", "manager"], "title": "Lead score of {customer} rose to {payload.new_score}"},
        {"id": "00000000-0000-4000-8000-000000000003", "name": "Big order",
         "event_types": ["order.placed"],
         "conditions": [{"field": "payload.amount", "op": ">=", "value": 250_000}],
         "severity": "medium", "escalations": [{"field": "payload.amount", "op": ">=", "value": 1_000_000,
                                                "severity": "high"}],
         "notify": ["everyone"], "title": "{customer} ordered JMD {payload.amount}"},
        {"id": "00000000-0000-4000-8000-000000000004", "name": "Campaign over budget",
         "event_types": ["campaign.spend"],
         "conditions": [{"field": "payload.budget_used", "op": ">=", "value": 1.0}],
         "severity": "high", "notify": ["manager", "analyst"],
         "title": "{payload.campaign_name} has spent {payload.spend_to_date} of {payload.budget}"},
        {"id": "00000000-0000-4000-8000-000000000005", "name": "At-risk customer opened a ticket",
         "event_types": ["support.ticket_opened"], "match": "any",
         "conditions": [{"field": "customer.churn_risk", "op": ">=", "value": 0.6},
                        {"field": "customer.days_since_purchase", "op": ">=", "value": 180}],
         "severity": "high", "notify": ["territory", "manager"],
         "title": "At-risk customer {customer} opened a ticket: {payload.subject}"},
        {"id": "00000000-0000-4000-8000-000000000006", "name": "Competitor mentioned",
         "event_types": ["social.mention", "interaction.logged"],
         "conditions": [{"field": "payload.competitor", "op": "exists"}],
         "severity": "medium", "escalations": [{"field": "customer.lifetime_spend", "op": ">=", "value": big,
                                                "severity": "high"}],
         "notify": ["everyone"], "title": "{customer} mentioned {payload.competitor}"},
    )]
