"""Metered usage: a Meter per subscription period, and a claim per idempotency key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.billing import Tally
from ledger.domain.base import LedgerAggregate

_METER_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/meter")
_USAGE_KEY_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/usage-key")


class UsageKey(LedgerAggregate):
    """An idempotency key of a usage event, claimed once ever per subscription.

    Its id is derived from (subscription, key), so a second claim, even a concurrent one
    in another process, conflicts on the event store's unique (id, version) and the
    batch that carries it is decided again without it."""

    @staticmethod
    def create_id(subscription_id: UUID, key: str) -> UUID:
        return uuid5(_USAGE_KEY_NAMESPACE, f"{subscription_id}/{key}")

    @event("Claimed")
    def __init__(self, tenant_id: UUID, subscription_id: UUID, key: str, period: int) -> None:
        self.tenant_id = tenant_id
        self.subscription_id = subscription_id
        self.key = key
        self.period = period


class Meter(LedgerAggregate):
    """The usage of one subscription in one period, per metric. Billing the period records
    what was charged; usage recorded after that is late and adjusted on the next invoice.
    A batch of usage and the billing of the period both write the Meter, so one of two
    concurrent writers conflicts and decides again: no event falls between the two."""

    @staticmethod
    def create_id(subscription_id: UUID, period: int) -> UUID:
        return uuid5(_METER_NAMESPACE, f"{subscription_id}/{period}")

    @event("Opened")
    def __init__(
        self, tenant_id: UUID, subscription_id: UUID, period: int, period_start: date
    ) -> None:
        self.tenant_id = tenant_id
        self.subscription_id = subscription_id
        self.period = period
        self.period_start = period_start
        self.tallies: dict[str, Tally] = {}
        # What the invoices charged per metric: {metric: {"quantity", "amount"}}.
        self.billed: dict[str, dict[str, Decimal]] | None = None

    def tally(self, metric: str) -> Tally:
        return self.tallies.get(metric) or Tally()

    def record(self, items: list[dict[str, Any]]) -> None:
        """Add usage items {key, metric, quantity, timestamp, value}."""
        if items:
            self._usage_recorded(items=items)

    @event("UsageRecorded")
    def _usage_recorded(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            self.tallies.setdefault(item["metric"], Tally()).add(item["quantity"], item["value"])

    def bill(self, invoice_id: UUID | None, charges: dict[str, dict[str, Decimal]]) -> None:
        """Record what was charged for the period (again, with the adjusted figures, when
        late usage is settled)."""
        self._billed(invoice_id=invoice_id, charges=charges)

    @event("Billed")
    def _billed(self, invoice_id: UUID | None, charges: dict[str, dict[str, Decimal]]) -> None:
        self.billed = charges
