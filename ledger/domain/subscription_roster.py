"""The roster of a tenant's subscriptions, so a billing run finds them without a read model."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate

_ROSTER_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/subscription-roster")


class SubscriptionRoster(LedgerAggregate):
    """Every subscription of one tenant, in the order they started. Saved with each new
    subscription, so a billing run (from the API or the command line, with or without
    projectors) bills exactly the subscriptions that exist."""

    @staticmethod
    def create_id(tenant_id: UUID) -> UUID:
        return uuid5(_ROSTER_NAMESPACE, str(tenant_id))

    @event("Opened")
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.subscription_ids: list[UUID] = []

    def add(self, subscription_id: UUID) -> None:
        self._added(subscription_id=subscription_id)

    @event("Added")
    def _added(self, subscription_id: UUID) -> None:
        self.subscription_ids.append(subscription_id)
