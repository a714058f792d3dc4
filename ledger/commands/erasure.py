"""Erasing a customer's personal data (GDPR art. 17), within what the law lets go."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, LRUCache
from eventsourcing.domain import Aggregate

from ledger.commands.base import Outcome
from ledger.commands.subscriptions import SubscriptionCommands, today
from ledger.context import CommandContext
from ledger.domain.customer import Customer
from ledger.domain.subscription import Subscription
from ledger.domain.subscription_roster import SubscriptionRoster
from ledger.errors import StateConflict
from ledger.privacy import SealingMapper


class WithinRetention(StateConflict):
    """Raised when erasure would destroy buyer data the law still requires the tenant to
    keep on finalized invoices and credit notes."""

    code = "within_retention_period"


class CustomerHasSubscriptions(StateConflict):
    """Raised when a customer to be erased still has subscriptions that will be billed."""

    code = "customer_has_live_subscriptions"


class ErasureCommands(SubscriptionCommands):
    def erase_customer(
        self, ctx: CommandContext, customer_id: UUID, last_document: date | None
    ) -> Customer:
        """Destroy the key that seals the customer's name, email and address, in the
        transaction that records Customer.Erased. `last_document` is the issue date of the
        latest finalized invoice or credit note addressed to the customer (None if none):
        until its retention ends the erasure is refused, unless the tenant chose to erase
        within retention. A customer with subscriptions still running is refused too."""

        def attempt() -> Outcome[Customer]:
            tenant = self.tenant(ctx)
            customer = self._load_for_change(ctx, Customer, customer_id)
            customer.require_not_erased()
            now = today()
            retained_until = tenant.retained_until(last_document) if last_document else None
            within = retained_until is not None and retained_until >= now
            if within and not tenant.erases_within_retention:
                assert retained_until is not None
                raise WithinRetention(
                    "finalized documents addressed to this customer must keep their buyer "
                    f"data until {retained_until.isoformat()}; erasure is refused until then "
                    "(the tenant setting erase_within_retention allows it)",
                    retained_until=retained_until.isoformat(),
                )
            running = self._running_subscriptions(ctx, customer_id, now)
            if running:
                raise CustomerHasSubscriptions(
                    "cancel the customer's subscriptions first (they would be billed again)",
                    subscription_ids=[str(s) for s in running],
                )
            customer.erase(on=now, retained_until=retained_until if within else None)
            return Outcome(customer, [customer])

        erased = self._execute(ctx, attempt)
        if isinstance(self.mapper, SealingMapper):
            self.mapper.forget(customer_id)
        # Aggregates this process holds decrypted (the customer's invoices) go too.
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            with cache.lock:  # the library's clear() resets only the recency list
                cache.cache.clear()
                cache.clear()
                cache.full = False
        return erased

    def subscriptions_of(self, ctx: CommandContext, customer_id: UUID) -> list[Subscription]:
        """The customer's subscriptions, found through the tenant's roster."""
        assert ctx.tenant_id is not None
        self._load(ctx, Customer, customer_id)
        try:
            roster: Aggregate = self.repository.get(SubscriptionRoster.create_id(ctx.tenant_id))
        except AggregateNotFoundError:
            return []
        assert isinstance(roster, SubscriptionRoster)
        subscriptions = (self._load(ctx, Subscription, s) for s in roster.subscription_ids)
        return [s for s in subscriptions if s.customer_id == customer_id]

    def _running_subscriptions(
        self, ctx: CommandContext, customer_id: UUID, on: date
    ) -> list[UUID]:
        return [
            s.id
            for s in self.subscriptions_of(ctx, customer_id)
            if s.ends_on is None or s.ends_on > on
        ]
