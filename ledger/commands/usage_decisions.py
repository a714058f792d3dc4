"""What a batch of usage decides: a verdict per event, and per subscription what it records."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from ledger.context import CommandContext
from ledger.domain.subscription import Subscription
from ledger.money import plain

MAX_BATCH = 1000

Counted = list[tuple[str, Decimal, str]]  # (metric, quantity, value) of one period


@runtime_checkable
class UsageKeyIndex(Protocol):
    """The event store's index of the usage keys its `UsageBatch.Recorded` events claimed
    (`projections/usage_keys.py` keeps it in the transaction that appends them)."""

    def claimed_usage_keys(self, subscription_id: UUID, keys: Collection[str]) -> set[str]:
        """Which of `keys` the subscription's recorded usage already holds."""
        ...


class UsageKeysNotIndexed(RuntimeError):
    """Raised when the event store keeps no index of usage keys, so a key could count twice."""


@dataclass
class UsageVerdicts:
    """The verdict on each event of a batch, in the order they came: its status and, when
    rejected, the reason (one dict per kind of verdict, shared by the events it fits)."""

    verdicts: list[dict[str, str]] = field(default_factory=list)

    @property
    def results(self) -> list[dict[str, Any]]:
        return [{"index": number, **verdict} for number, verdict in enumerate(self.verdicts)]

    def count(self, status: str) -> int:
        return sum(1 for verdict in self.verdicts if verdict["status"] == status)


@dataclass
class Metering:
    """One subscription's part of a batch: the usage it records, by column, and which of
    it each period counts. `claimed` (the keys counted before) is shared by the batches
    decided together, `mine` holds this batch's keys."""

    subscription: Subscription
    claimed: set[str]
    mine: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    quantities: list[str] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    periods: dict[int, Counted] = field(default_factory=dict)
    # Whether an event counts, and in which period, depends on its metric and day only:
    # per (metric, day) the period's items, or the verdict that rejects it.
    counted: dict[tuple[str, date], Counted | dict[str, str]] = field(default_factory=dict)

    def decide(self, metric: str, day: date) -> Counted | dict[str, str]:
        reason = rejection(self.subscription, metric, day)
        decided: Counted | dict[str, str]
        if reason is None:
            decided = self.periods.setdefault(self.subscription.period_of(day), [])
        else:
            decided = {"status": "rejected", **reason}
        self.counted[metric, day] = decided
        return decided


@dataclass
class Decision:
    """What one batch decided, per event and per subscription (None: no such one)."""

    ctx: CommandContext
    verdicts: UsageVerdicts = field(default_factory=UsageVerdicts)
    meterings: dict[UUID, Metering | None] = field(default_factory=dict)

    def recorded(self) -> int:
        return sum(len(m.keys) for m in self.meterings.values() if m is not None)

    def accept(self) -> None:
        """Its keys now count: a batch decided after it sees them as claimed."""
        for metering in self.meterings.values():
            if metering is not None:
                metering.claimed |= metering.mine


RECORDED = {"status": "recorded"}
DUPLICATE = {"status": "duplicate"}
UNKNOWN_SUBSCRIPTION = {
    "status": "rejected",
    "reason": "unknown_subscription",
    "detail": "no such subscription",
}


def decide_events(decision: Decision, events: list[dict[str, Any]], metering_of: Any) -> None:
    """Decide each event in order; `metering_of(subscription_id)` gives the subscription's
    Metering (None when there is no such subscription), looked up once per batch."""
    verdicts = decision.verdicts.verdicts
    unseen: Any = object()
    # Per subscription, by the id's integer: its hash is cheaper than the UUID's.
    seen: dict[int, Metering | None] = {}
    # `unique` counts distinct values (a user id, say); without one, distinct quantities.
    plain_quantities: dict[Decimal, str] = {}
    for usage in events:
        subscription_id = usage["subscription_id"]
        metering = seen.get(subscription_id.int, unseen)
        if metering is unseen:
            metering = metering_of(subscription_id)
            seen[subscription_id.int] = decision.meterings[subscription_id] = metering
        if metering is None:
            verdicts.append(UNKNOWN_SUBSCRIPTION)
            continue
        assert isinstance(metering, Metering)
        metric, at = usage["metric"], usage["timestamp"]
        day = utc_day(at)
        counted = metering.counted.get((metric, day), unseen)
        if counted is unseen:
            counted = metering.decide(metric, day)
        if not isinstance(counted, list):
            verdicts.append(counted)
            continue
        key = usage["idempotency_key"]
        if key in metering.mine or key in metering.claimed:
            verdicts.append(DUPLICATE)
            continue
        quantity, value = usage["quantity"], usage.get("value")
        if value is None:
            value = plain_quantities.get(quantity)
            if value is None:
                value = plain_quantities[quantity] = str(plain(quantity))
        metering.mine.add(key)
        metering.keys.append(key)
        metering.metrics.append(metric)
        metering.quantities.append(str(quantity))
        metering.timestamps.append(at.isoformat())
        metering.values.append(value)
        counted.append((metric, quantity, value))
        verdicts.append(RECORDED)


def utc_day(timestamp: datetime) -> date:
    """The UTC day of a timestamp (without a zone, UTC)."""
    offset = timestamp.utcoffset()
    return (timestamp - offset).date() if offset else timestamp.date()


def rejection(subscription: Subscription, metric: str, day: date) -> dict[str, str] | None:
    """Why an event cannot be counted, or None when it can."""
    if subscription.metric(metric) is None:
        return {"reason": "unknown_metric", "detail": f"the plan meters no {metric!r}"}
    if not subscription.live_on(day):
        return {
            "reason": "outside_subscription",
            "detail": f"the subscription was not running on {day.isoformat()}",
        }
    if subscription.paused_on(day):
        return {"reason": "subscription_paused", "detail": f"paused on {day.isoformat()}"}
    return None
