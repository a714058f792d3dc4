"""Recording metered usage in batches, each idempotency key counted once ever."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.base import Outcome
from ledger.commands.subscriptions import SubscriptionCommands, today
from ledger.context import CommandContext
from ledger.domain.plan_limits import USAGE_EVENTS_PER_MONTH, PlanCounter
from ledger.domain.subscription import Subscription
from ledger.domain.usage import Meter, UsageKey
from ledger.errors import NotFound
from ledger.money import plain

MAX_BATCH = 1000


@dataclass
class UsageBatch:
    """The verdict on each event of a batch, in the order they came."""

    results: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r["status"] == status)


@dataclass
class _Decision:
    """What one attempt at a batch will save."""

    batch: UsageBatch = field(default_factory=UsageBatch)
    keys: dict[UUID, UsageKey] = field(default_factory=dict)
    meters: dict[UUID, Meter] = field(default_factory=dict)
    items: dict[UUID, list[dict[str, Any]]] = field(default_factory=dict)
    late: dict[UUID, Subscription] = field(default_factory=dict)


class UsageCommands(SubscriptionCommands):
    def record_usage(self, ctx: CommandContext, events: list[dict[str, Any]]) -> UsageBatch:
        """Record a batch of usage events {subscription_id, metric, quantity, timestamp,
        idempotency_key, value?}. Each is recorded, a duplicate (its key was counted
        before, or earlier in the batch), or rejected with a reason; the recorded ones are
        saved in one atomic save with their keys, so a retried batch counts nothing twice."""
        assert ctx.tenant_id is not None
        tenant_id, month = ctx.tenant_id, today().strftime("%Y-%m")
        attempts = 0

        def attempt() -> Outcome[UsageBatch]:
            nonlocal attempts
            attempts += 1
            # The first attempt assumes the keys are new (the usual case) and lets the save
            # find out; after a conflict each key is looked up before it is claimed.
            decision = self._decide_usage(ctx, events, check_keys=attempts > 1)
            # The month's count of events, against the plan's cap: saved with the events.
            counter = self._plan_counter(tenant_id, USAGE_EVENTS_PER_MONTH, month)
            cap = self.tenant(ctx).cap(counter.limit)
            if cap is not None and counter.used + decision.batch.count("recorded") > cap:
                # Before refusing, find the duplicates the optimistic decision counted.
                decision = self._decide_usage(ctx, events, check_keys=True)
            counter.take(decision.batch.count("recorded"), cap)
            for meter_id, items in decision.items.items():
                decision.meters[meter_id].record(items)
            saved: list[Aggregate] = [
                *decision.keys.values(),
                *(decision.meters[m] for m in decision.items),
                *decision.late.values(),
                counter,
            ]
            return Outcome(decision.batch, saved)

        # Every batch of the tenant writes its month's counter: in this process they queue
        # here rather than conflict, since a batch decided again looks up each of its keys.
        with self._series_lock(PlanCounter.create_id(tenant_id, USAGE_EVENTS_PER_MONTH, month)):
            return self._execute(ctx, attempt)

    def _decide_usage(
        self, ctx: CommandContext, events: list[dict[str, Any]], check_keys: bool
    ) -> _Decision:
        assert ctx.tenant_id is not None
        decision = _Decision()
        subscriptions: dict[UUID, Subscription | None] = {}
        for index, usage in enumerate(events):
            subscription_id = usage["subscription_id"]
            if subscription_id not in subscriptions:
                subscriptions[subscription_id] = self._subscription_or_none(ctx, subscription_id)
            subscription = subscriptions[subscription_id]
            reason = _rejection(subscription, usage)
            if reason is not None:
                decision.batch.results.append({"index": index, "status": "rejected", **reason})
                continue
            assert subscription is not None
            key_id = UsageKey.create_id(subscription.id, usage["idempotency_key"])
            if key_id in decision.keys or (check_keys and self._claimed(key_id)):
                decision.batch.results.append({"index": index, "status": "duplicate"})
                continue
            period = subscription.period_of(_day(usage["timestamp"]))
            meter = self._meter(decision, subscription, period)
            decision.keys[key_id] = UsageKey(
                tenant_id=ctx.tenant_id,
                subscription_id=subscription.id,
                key=usage["idempotency_key"],
                period=period,
            )
            decision.items.setdefault(meter.id, []).append(_item(usage))
            if meter.billed is not None:
                subscription.note_late_usage(period)
                decision.late[subscription.id] = subscription
            decision.batch.results.append({"index": index, "status": "recorded"})
        return decision

    def _meter(self, decision: _Decision, subscription: Subscription, period: int) -> Meter:
        meter_id = Meter.create_id(subscription.id, period)
        if meter_id not in decision.meters:
            decision.meters[meter_id] = self.meter(subscription, period)
        return decision.meters[meter_id]

    def meter(self, subscription: Subscription, period: int) -> Meter:
        """The subscription's meter of a period, opened on first use."""
        try:
            meter: Aggregate = self.repository.get(Meter.create_id(subscription.id, period))
        except AggregateNotFoundError:
            return Meter(
                tenant_id=subscription.tenant_id,
                subscription_id=subscription.id,
                period=period,
                period_start=subscription.period(period)[0],
            )
        assert isinstance(meter, Meter)
        return meter

    def _claimed(self, key_id: UUID) -> bool:
        try:
            self.repository.get(key_id)
        except AggregateNotFoundError:
            return False
        return True

    def _subscription_or_none(
        self, ctx: CommandContext, subscription_id: UUID
    ) -> Subscription | None:
        try:
            return self._load(ctx, Subscription, subscription_id)
        except NotFound:
            return None


def _day(timestamp: datetime) -> Any:
    if timestamp.tzinfo is None:
        return timestamp.date()
    return timestamp.astimezone(UTC).date()


def _rejection(subscription: Subscription | None, usage: dict[str, Any]) -> dict[str, str] | None:
    """Why an event cannot be counted, or None when it can."""
    if subscription is None:
        return {"reason": "unknown_subscription", "detail": "no such subscription"}
    if subscription.metric(usage["metric"]) is None:
        return {"reason": "unknown_metric", "detail": f"the plan meters no {usage['metric']!r}"}
    day = _day(usage["timestamp"])
    if not subscription.live_on(day):
        return {
            "reason": "outside_subscription",
            "detail": f"the subscription was not running on {day.isoformat()}",
        }
    if subscription.paused_on(day):
        return {"reason": "subscription_paused", "detail": f"paused on {day.isoformat()}"}
    return None


def _item(usage: dict[str, Any]) -> dict[str, Any]:
    quantity: Decimal = usage["quantity"]
    value = usage.get("value")
    return {
        "key": usage["idempotency_key"],
        "metric": usage["metric"],
        "quantity": quantity,
        "timestamp": usage["timestamp"],
        # `unique` counts distinct values (a user id, say); without one, distinct quantities.
        "value": value if value is not None else str(plain(quantity)),
    }
