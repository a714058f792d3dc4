"""The service plans tenants are on, their caps, and the counters that enforce them.

A counter is saved in the same atomic save as what it counts (the usage batch, the API
key), so two concurrent commands cannot both take the last unit of a cap: one save
conflicts and its command decides again, now seeing the other's count.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidInput, PlanLimitExceeded

_COUNTER_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/plan-counter")

INVOICES_PER_MONTH = "invoices_per_month"
API_KEYS = "api_keys"
USAGE_EVENTS_PER_MONTH = "usage_events_per_month"
LIMITS = (INVOICES_PER_MONTH, API_KEYS, USAGE_EVENTS_PER_MONTH)

# The plans an admin assigns by name; None is no cap. A tenant on no plan has no caps.
PLANS: dict[str, dict[str, int | None]] = {
    "starter": {INVOICES_PER_MONTH: 100, API_KEYS: 3, USAGE_EVENTS_PER_MONTH: 100_000},
    "growth": {INVOICES_PER_MONTH: 5_000, API_KEYS: 25, USAGE_EVENTS_PER_MONTH: 10_000_000},
    "enterprise": {INVOICES_PER_MONTH: None, API_KEYS: None, USAGE_EVENTS_PER_MONTH: None},
}


def plan_limits(plan: str, overrides: dict[str, int | None] | None = None) -> dict[str, Any]:
    """A named plan's caps, with the admin's overrides for this tenant."""
    if plan not in PLANS:
        raise InvalidInput(f"no plan {plan!r}; plans: {', '.join(PLANS)}", field="plan")
    unknown = set(overrides or {}) - set(LIMITS)
    if unknown:
        raise InvalidInput(f"no limit {sorted(unknown)[0]!r}", field="limits")
    return {**PLANS[plan], **(overrides or {})}


class PlanCounter(LedgerAggregate):
    """How much of one capped thing a tenant used in one period ("2026-11"; "" for things
    that are held rather than used up, like API keys)."""

    @staticmethod
    def create_id(tenant_id: UUID, limit: str, period: str) -> UUID:
        return uuid5(_COUNTER_NAMESPACE, f"{tenant_id}/{limit}/{period}")

    @event("Opened")
    def __init__(self, tenant_id: UUID, limit: str, period: str) -> None:
        self.tenant_id = tenant_id
        self.limit = limit
        self.period = period
        self.used = 0

    def take(self, amount: int, cap: int | None) -> None:
        """Count `amount` more, or refuse when that passes the cap (None: no cap)."""
        if amount <= 0:
            return
        if cap is not None and self.used + amount > cap:
            raise PlanLimitExceeded(
                f"the plan allows {cap} {self.limit.replace('_', ' ')}; {self.used} used,"
                f" {amount} more asked",
                limit=self.limit,
                cap=cap,
                used=self.used,
                period=self.period or None,
            )
        self._counted(amount=amount)

    def give_back(self, amount: int) -> None:
        """A held thing was let go (a key revoked)."""
        self._counted(amount=-min(amount, self.used))

    @event("Counted")
    def _counted(self, amount: int) -> None:
        self.used += amount
