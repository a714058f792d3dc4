"""Recording metered usage in batches, each idempotency key counted once ever.

Every batch of a tenant writes the tenant's counter of the month (the plan's cap), so the
batches of a tenant cannot be saved side by side. In a process they queue on the
counter's lock, and whoever holds it saves every batch waiting meanwhile in one atomic
save: one counter read, one transaction, each batch with its own events (and, when it has
one, its Idempotency-Key's record). Each batch is decided before it queues, assuming its
keys are new; a conflict (a key counted before, a concurrent write) makes the group decide
again in order, looking its keys up, each batch seeing the keys of those before it.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.base import MAX_ATTEMPTS, Outcome, Replayed
from ledger.commands.subscriptions import SubscriptionCommands, today
from ledger.commands.usage_decisions import (
    MAX_BATCH,
    Decision,
    Metering,
    UsageKeyIndex,
    UsageKeysNotIndexed,
    UsageVerdicts,
    decide_events,
)
from ledger.context import CommandContext, acting_as
from ledger.domain.idempotency import IdempotencyRecord
from ledger.domain.plan_limits import USAGE_EVENTS_PER_MONTH, PlanCounter
from ledger.domain.subscription import Subscription
from ledger.domain.usage import Meter, UsageBatch
from ledger.errors import (
    ConcurrencyExhausted,
    IdempotencyKeyReused,
    NotFound,
    PlanLimitExceeded,
)

__all__ = ["MAX_BATCH", "UsageCommands", "UsageVerdicts"]

# At most this many batches (of up to MAX_BATCH events) share a save.
MAX_GROUP = 16


@dataclass
class _Waiting:
    """A batch queued for its tenant's counter, until a group save decides it."""

    ctx: CommandContext
    events: list[dict[str, Any]]
    first: Decision | None  # decided before queueing, keys not looked up
    result: UsageVerdicts | None = None
    error: Exception | None = None
    done: bool = False


class UsageCommands(SubscriptionCommands):
    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._usage_waiting: dict[UUID, list[_Waiting]] = {}
        self._usage_guard = threading.Lock()

    def record_usage(self, ctx: CommandContext, events: list[dict[str, Any]]) -> UsageVerdicts:
        """Record a batch of usage events {subscription_id, metric, quantity, timestamp,
        idempotency_key, value?}. Each is recorded, a duplicate (its key was counted
        before, or earlier in the batch), or rejected with a reason; the recorded ones are
        saved in one atomic save with the meters that count them, so a retried batch
        counts nothing twice."""
        assert ctx.tenant_id is not None
        self._usage_key_index()
        month = today().strftime("%Y-%m")
        counter_id = PlanCounter.create_id(ctx.tenant_id, USAGE_EVENTS_PER_MONTH, month)
        me = _Waiting(ctx, events, self._decide_batch(ctx, events, None, {}))
        with self._usage_guard:
            self._usage_waiting.setdefault(counter_id, []).append(me)
        while not me.done:
            with self._series_lock(counter_id):
                if not me.done:
                    self._record_group(self._take_group(counter_id), month)
        if me.error is not None:
            raise me.error
        assert me.result is not None
        return me.result

    def _usage_key_index(self) -> UsageKeyIndex:
        if not isinstance(self.recorder, UsageKeyIndex):
            raise UsageKeysNotIndexed(
                "usage needs an event store that indexes usage keys"
                " (projections.event_chain.ledger_env)"
            )
        return self.recorder

    def _take_group(self, counter_id: UUID) -> list[_Waiting]:
        """The batches waiting, oldest first; one of two with the same Idempotency-Key
        waits for the next group (their records would conflict)."""
        group: list[_Waiting] = []
        records: set[UUID | None] = set()
        with self._usage_guard:
            waiting = self._usage_waiting.get(counter_id, [])
            for batch in list(waiting):
                claim = batch.ctx.idempotency
                record = None
                if claim is not None:
                    record = IdempotencyRecord.create_id(self._scope(batch.ctx), claim.key)
                if len(group) == MAX_GROUP or record in records:
                    continue
                if record is not None:
                    records.add(record)
                group.append(batch)
                waiting.remove(batch)
        return group

    def _record_group(self, group: list[_Waiting], month: str) -> None:
        try:
            self._save_group(group, month)
        except Exception as error:  # each batch of the group raises it
            for batch in group:
                if not batch.done:
                    batch.error, batch.done = error, True

    def _save_group(self, group: list[_Waiting], month: str) -> None:
        index = self._usage_key_index()
        checked = False
        for tries in range(MAX_ATTEMPTS):
            for batch in group:
                claim = batch.ctx.idempotency
                if claim is not None and not batch.done:
                    try:
                        self._raise_if_answered(batch.ctx, claim)
                    except (Replayed, IdempotencyKeyReused) as answered:
                        batch.error, batch.done = answered, True
            live = [batch for batch in group if not batch.done]
            if not live:
                return
            decided = self._decide_group(live, month, index if checked else None)
            if decided is None:  # past the cap, as far as an unchecked decision knows
                checked = True
                continue
            outcome, verdicts = decided
            if self._committer.save(replace(live[0].ctx, idempotency=None), outcome):
                for batch in live:
                    result = verdicts[id(batch)]
                    if isinstance(result, Exception):
                        batch.error = result
                    else:
                        batch.result = result
                    batch.done = True
                return
            checked = True
            time.sleep(random.uniform(0, 0.002 * (tries + 1)))  # noqa: S311 - jitter only
        raise ConcurrencyExhausted("the command kept conflicting with concurrent writes; retry")

    def _decide_group(
        self, group: list[_Waiting], month: str, index: UsageKeyIndex | None
    ) -> tuple[Outcome[None], dict[int, UsageVerdicts | Exception]] | None:
        """One save for the group, and each batch's verdicts (or why it was refused); None
        when an unchecked decision passes the plan's cap (it may count duplicates)."""
        ctx = group[0].ctx
        assert ctx.tenant_id is not None
        cap = self.tenant(ctx).cap(USAGE_EVENTS_PER_MONTH)
        counter = self._plan_counter(ctx.tenant_id, USAGE_EVENTS_PER_MONTH, month)
        firsts = [batch.first for batch in group]
        # Batches decided apart can be saved together when no subscription is in two.
        apart = index is None and _disjoint([d for d in firsts if d is not None], len(group))
        shared: dict[UUID, Metering | None] = {}
        meters: dict[UUID, Meter] = {}
        saved: dict[int, Aggregate] = {}
        verdicts: dict[int, UsageVerdicts | Exception] = {}
        for batch in group:
            decision = batch.first if apart and batch.first is not None else None
            if decision is None:
                decision = self._decide_batch(batch.ctx, batch.events, index, shared)
            recorded = decision.recorded()
            if cap is not None and recorded > 0 and counter.used + recorded > cap:
                if index is None:
                    return None
                verdicts[id(batch)] = _refusal(counter, recorded, cap)
                continue
            with acting_as(batch.ctx):
                counter.take(recorded, cap)
                aggregates = self._counted(decision, meters)
                aggregates += self._records(batch.ctx, Outcome(decision.verdicts))
            saved.update((id(a), a) for a in aggregates)
            decision.accept()
            verdicts[id(batch)] = decision.verdicts
        return Outcome(None, [*saved.values(), counter]), verdicts

    def _decide_batch(
        self,
        ctx: CommandContext,
        events: list[dict[str, Any]],
        index: UsageKeyIndex | None,
        shared: dict[UUID, Metering | None],
    ) -> Decision:
        """Decide a batch; `shared` holds, per subscription, its state and the keys counted
        (also by the batches decided before it in the group)."""
        decision = Decision(ctx)

        def metering_of(subscription_id: UUID) -> Metering | None:
            if subscription_id not in shared:
                subscription = self._subscription_or_none(ctx, subscription_id)
                shared[subscription_id] = None
                if subscription is not None:
                    shared[subscription_id] = Metering(subscription, set())
            known = shared[subscription_id]
            if known is None:
                return None
            if index is not None:
                keys = {
                    e["idempotency_key"] for e in events if e["subscription_id"] == subscription_id
                }
                known.claimed |= index.claimed_usage_keys(subscription_id, keys - known.claimed)
            return Metering(known.subscription, known.claimed)

        decide_events(decision, events, metering_of)
        return decision

    def _counted(self, decision: Decision, meters: dict[UUID, Meter]) -> list[Aggregate]:
        """The aggregates a decision saves: per subscription its batch, the meters that
        count it and, when a counted period was billed already, the subscription."""
        saved: list[Aggregate] = []
        for metering in decision.meterings.values():
            if metering is None or not metering.keys:
                continue
            subscription = metering.subscription
            batch = UsageBatch(
                tenant_id=subscription.tenant_id,
                subscription_id=subscription.id,
                keys=metering.keys,
                metrics=metering.metrics,
                quantities=metering.quantities,
                timestamps=metering.timestamps,
                values=metering.values,
            )
            saved.append(batch)
            for period, counted in sorted(metering.periods.items()):
                meter_id = Meter.create_id(subscription.id, period)
                if meter_id not in meters:
                    meters[meter_id] = self.meter(subscription, period)
                meter = meters[meter_id]
                meter.count(batch.id, counted)
                saved.append(meter)
                if meter.billed is not None:
                    subscription.note_late_usage(period)
                    saved.append(subscription)
        return saved

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

    def _subscription_or_none(
        self, ctx: CommandContext, subscription_id: UUID
    ) -> Subscription | None:
        try:
            return self._load(ctx, Subscription, subscription_id)
        except NotFound:
            return None


def _disjoint(decisions: list[Decision], size: int) -> bool:
    """Whether each decision of a group is there and no subscription is in two of them."""
    ids = [set(decision.meterings) for decision in decisions]
    return len(ids) == size and sum(map(len, ids)) == len(set().union(*ids))


def _refusal(counter: PlanCounter, amount: int, cap: int) -> PlanLimitExceeded:
    try:
        counter.take(amount, cap)
    except PlanLimitExceeded as refused:
        return refused
    raise AssertionError("the counter took what passes its cap")
