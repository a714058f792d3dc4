"""Metered usage: a Meter per subscription period, and the batches of usage events it counts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.billing import Tally
from ledger.domain.base import LedgerAggregate

_METER_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/meter")
_USAGE_KEY_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/usage-key")


class UsageBatch(LedgerAggregate):
    """Usage events of one subscription recorded together, as received: what an auditor
    reads (the meters count them). `Recorded` holds them by column, event i being
    (keys[i], metrics[i], quantities[i], timestamps[i], values[i]), quantities as exact
    decimal strings and timestamps in ISO 8601: a thousand events then take a third of the
    space and encoding time they take as a list of objects of tagged values.

    The event store claims every key of a `Recorded` event as it appends it, in the same
    transaction (`projections/usage_keys.py`): a key already claimed, even concurrently in
    another process, fails the save, and the batch is decided again without it. So a key
    names one recorded usage event of its subscription, ever."""

    class Recorded(LedgerAggregate.Created):
        """The usage events, by column."""

        tenant_id: UUID
        subscription_id: UUID
        keys: list[str]
        metrics: list[str]
        quantities: list[str]
        timestamps: list[str]
        values: list[str]

    @event(Recorded)
    def __init__(
        self,
        tenant_id: UUID,
        subscription_id: UUID,
        keys: list[str],
        metrics: list[str],
        quantities: list[str],
        timestamps: list[str],
        values: list[str],
    ) -> None:
        self.tenant_id = tenant_id
        self.subscription_id = subscription_id
        # The usage stays in the event; the state (cached, read rarely) keeps its size.
        self.events = len(keys)


class UsageKey(LedgerAggregate):
    """An idempotency key claimed as an aggregate of its own, as usage was recorded before
    `UsageBatch`: no longer written, kept so the stored claims still read (migration 0010
    copied them into the store's key index)."""

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
    concurrent writers conflicts and decides again: no event falls between the two.

    Its events are small whatever the batch: each adds a batch's tally per metric (the
    values it has not seen before included), so the meter replays quickly; the usage
    events themselves are in the batch's `UsageBatch.Recorded`."""

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

    def count(self, batch_id: UUID, items: Iterable[tuple[str, Decimal, str]]) -> None:
        """Count a batch's usage items (metric, quantity, value) of this period."""
        added: dict[str, Tally] = {}
        for metric, quantity, value in items:
            added.setdefault(metric, Tally()).add(quantity, value)
        if not added:
            return
        tallies = {
            metric: {
                "total": tally.total,
                "count": tally.count,
                "maximum": tally.maximum,
                "values": sorted(tally.values - self.tally(metric).values),
            }
            for metric, tally in sorted(added.items())
        }
        self._usage_counted(batch_id=batch_id, tallies=tallies)

    @event("UsageCounted")
    def _usage_counted(self, batch_id: UUID, tallies: dict[str, dict[str, Any]]) -> None:
        for metric, added in tallies.items():
            tally = self.tallies.setdefault(metric, Tally())
            tally.total += added["total"]
            tally.count += added["count"]
            tally.maximum = max(tally.maximum, added["maximum"])
            tally.values.update(added["values"])

    @event("UsageRecorded")
    def _usage_recorded(self, items: list[dict[str, Any]]) -> None:
        # Usage as it was recorded before `UsageCounted`: each item in the meter's event.
        for item in items:
            self.tallies.setdefault(item["metric"], Tally()).add(item["quantity"], item["value"])

    def bill(self, invoice_id: UUID | None, charges: dict[str, dict[str, Decimal]]) -> None:
        """Record what was charged for the period (again, with the adjusted figures, when
        late usage is settled)."""
        self._billed(invoice_id=invoice_id, charges=charges)

    @event("Billed")
    def _billed(self, invoice_id: UUID | None, charges: dict[str, dict[str, Decimal]]) -> None:
        self.billed = charges
