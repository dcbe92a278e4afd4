"""LeadService: what the lead-queue pane asks of the cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from c360_desktop.core.leads.queue import LeadQueue, Rebalance, suggest_rebalance
from c360_desktop.core.security import Permission, Refused, User, require_fresh
from c360_desktop.core.storage.cache import Cache


class LeadService:
    def __init__(self, cache: Cache, user: Callable[[], User] | None = None) -> None:
        self._cache = cache
        self._user = user

    def assign(self, assignments: dict[str, str]) -> int:
        """Give leads to reps (lead id -> rep id) as the signed-in user; how many changed hands.
        Needs the assign-leads permission; assigning several at once needs a recent sign-in."""
        from c360_desktop.core.audit.log import record_now, require
        from c360_desktop.core.leads.queue import assign_leads

        user = self._user() if self._user is not None else None
        if user is None:
            raise Refused("no user to assign as")
        require(self._cache, user, Permission.ASSIGN_LEADS, "leads.assign")
        if len(assignments) > 1:
            require_fresh(user, "Assigning leads in bulk")
        changed = assign_leads(self._cache, assignments, user.name)
        record_now(self._cache, user.name, "leads.assign", "lead", None,
                   {"leads": len(assignments), "changed": changed, "reps": len(set(assignments.values()))})
        return changed

    def queue(self) -> LeadQueue:
        return LeadQueue(self._cache.reader)

    def reps(self) -> dict[str, str]:
        """Active sales reps by id, in name order."""
        return dict(self._cache.reader().execute(
            "SELECT id, name FROM sales_rep WHERE deleted_at IS NULL ORDER BY name").fetchall())

    def rep_parishes(self) -> dict[str, str | None]:
        """Each rep's territory (a parish code), if any."""
        return dict(self._cache.reader().execute(
            "SELECT r.id, t.code FROM sales_rep r LEFT JOIN territory t ON t.id = r.territory_id").fetchall())

    def sources(self) -> list[str]:
        """The lead sources present in the queue."""
        return [r[0] for r in self._cache.reader().execute(
            "SELECT DISTINCT source FROM lead_rank WHERE source IS NOT NULL ORDER BY source")]

    def contact(self, customer_id: str) -> tuple[str | None, str | None]:
        """A customer's (phone, e-mail), for a call or e-mail from the queue."""
        row = self._cache.reader().execute(
            "SELECT primary_phone, primary_email FROM customer WHERE id = ?", (customer_id,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def withdrawn(self, customer_id: str) -> dict[str, str]:
        """The channels (email, sms, whatsapp, phone) whose latest marketing consent is a
        withdrawal, with when it was recorded: a lead is not to be called or e-mailed by them."""
        from c360_desktop.core.models import LATEST_CONSENT

        rows = self._cache.reader().execute(
            "SELECT k.channel, k.recorded_at FROM consent k WHERE k.customer_id = ? AND k.purpose = 'marketing' "
            f"AND k.status = 'withdrawn' AND k.deleted_at IS NULL AND {LATEST_CONSENT}", (customer_id,)).fetchall()
        return {channel: str(at)[:10] for channel, at in rows}

    def suggest_rebalance(self, rep_ids: Sequence[str], parishes: Sequence[str] | None) -> Rebalance:
        return suggest_rebalance(self._cache.reader(), rep_ids, parishes)
