"""Commands and reads of subscriptions: start, change plan, pause, resume, cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.base import Outcome
from ledger.commands.documents import DocumentCommands
from ledger.context import CommandContext
from ledger.domain.subscription import Subscription
from ledger.domain.subscription_roster import SubscriptionRoster
from ledger.errors import InvalidInput, NotFound
from ledger.money import fits_minor_units, is_currency


def today() -> date:
    return datetime.now(UTC).date()


def check_plan(plan: dict[str, Any], metered: list[dict[str, Any]], tenant_currency: str) -> None:
    """Refuse a plan the ledger could not bill: another currency than the tenant's books
    (a billing run has no exchange rate to give), amounts finer than the minor unit, metrics
    named twice, tiers that do not rise."""
    currency = plan["currency"]
    if not is_currency(currency):
        raise InvalidInput(f"unknown currency {currency!r}", field="plan.currency")
    if currency != tenant_currency:
        raise InvalidInput(
            f"subscriptions are billed in the tenant's currency, {tenant_currency}",
            field="plan.currency",
        )
    if not fits_minor_units(Decimal(plan["amount"]), currency):
        raise InvalidInput("the plan amount has too many decimals", field="plan.amount")
    names = [m["metric"] for m in metered]
    if len(set(names)) != len(names):
        raise InvalidInput("each metric is metered once", field="metered")
    for metric in metered:
        ceilings = [t["up_to"] for t in metric.get("tiers") or []]
        if ceilings and (
            None in ceilings[:-1]
            or ceilings[-1] is not None
            or ceilings[:-1] != sorted(ceilings[:-1])
        ):
            raise InvalidInput(
                "tiers rise by up_to and the last one has no up_to", field="metered.tiers"
            )


class SubscriptionCommands(DocumentCommands):
    def start_subscription(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        plan: dict[str, Any],
        metered: list[dict[str, Any]],
        start_date: date | None = None,
        trial_days: int = 0,
        billing: str = "in_advance",
    ) -> Subscription:
        starts = start_date or today()

        def attempt() -> Outcome[Subscription]:
            assert ctx.tenant_id is not None
            tenant = self.tenant(ctx)
            check_plan(plan, metered, tenant.profile["currency"])
            try:
                self.customer(ctx, customer_id)
            except NotFound:
                raise InvalidInput(f"no customer {customer_id}", field="customer_id") from None
            roster = self._roster(ctx.tenant_id)
            subscription = Subscription(
                tenant_id=ctx.tenant_id,
                customer_id=customer_id,
                plan=plan,
                metered=metered,
                billing=billing,
                start_date=starts,
                trial_end=starts + timedelta(days=trial_days) if trial_days else None,
            )
            roster.add(subscription.id)
            return Outcome(subscription, [subscription, roster])

        return self._execute(ctx, attempt)

    def change_plan(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        plan: dict[str, Any],
        metered: list[dict[str, Any]] | None,
        on: date | None = None,
    ) -> Subscription:
        def change(subscription: Subscription) -> None:
            check_plan(plan, metered or [], subscription.currency)
            subscription.change_plan(plan, metered, on or today())

        return self._change_subscription(ctx, subscription_id, change)

    def pause_subscription(
        self, ctx: CommandContext, subscription_id: UUID, on: date | None = None
    ) -> Subscription:
        return self._change_subscription(ctx, subscription_id, lambda s: s.pause(on or today()))

    def resume_subscription(
        self, ctx: CommandContext, subscription_id: UUID, on: date | None = None
    ) -> Subscription:
        return self._change_subscription(ctx, subscription_id, lambda s: s.resume(on or today()))

    def cancel_subscription(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        at_period_end: bool,
        on: date | None = None,
    ) -> Subscription:
        return self._change_subscription(
            ctx, subscription_id, lambda s: s.cancel(at_period_end, on or today())
        )

    def _change_subscription(
        self,
        ctx: CommandContext,
        subscription_id: UUID,
        change: Callable[[Subscription], object],
    ) -> Subscription:
        def attempt() -> Outcome[Subscription]:
            subscription = self._load_for_change(ctx, Subscription, subscription_id)
            change(subscription)
            return Outcome(subscription, [subscription])

        return self._execute(ctx, attempt)

    # -- reading ---------------------------------------------------------------

    def subscription(self, ctx: CommandContext, subscription_id: UUID) -> Subscription:
        return self._load(ctx, Subscription, subscription_id)

    def subscriptions(
        self, ctx: CommandContext, limit: int, before: int | None
    ) -> list[tuple[int, Subscription]]:
        """Newest first, with their position in the tenant's roster (1 is the first)."""
        assert ctx.tenant_id is not None
        ids = self._roster(ctx.tenant_id).subscription_ids
        end = len(ids) if before is None else min(before - 1, len(ids))
        positions = range(end, max(end - limit, 0), -1)
        return [(p, self._load(ctx, Subscription, ids[p - 1])) for p in positions]

    def _roster(self, tenant_id: UUID) -> SubscriptionRoster:
        try:
            roster: Aggregate = self.repository.get(SubscriptionRoster.create_id(tenant_id))
        except AggregateNotFoundError:
            return SubscriptionRoster(tenant_id=tenant_id)
        assert isinstance(roster, SubscriptionRoster)
        return roster
