"""The command machinery every part of the Ledger application shares."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording, Transcoder

from ledger.context import CommandContext, IdempotencyClaim, acting_as
from ledger.domain.base import LedgerAggregate
from ledger.domain.customer_account import CustomerAccount
from ledger.domain.idempotency import IdempotencyRecord
from ledger.domain.sequence import Sequence
from ledger.errors import ConcurrencyExhausted, IdempotencyKeyReused, NotFound, VersionMismatch
from ledger.persistence import OrjsonTranscoder

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A", bound=LedgerAggregate)

MAX_ATTEMPTS = 30


class Replayed(Exception):
    """A request with an Idempotency-Key that was already answered: here is that answer."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__("idempotent replay")
        self.status = status
        self.body = body


@dataclass
class Outcome(Generic[R]):
    """What one attempt of a command produced: its result and the aggregates to save."""

    result: R
    aggregates: list[Aggregate] = field(default_factory=list)


class LedgerBase(Application[UUID]):
    """Loading with tenant checks, load-decide-save with retries, idempotency, numbering."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._series_locks: dict[UUID, threading.Lock] = {}
        self._series_locks_guard = threading.Lock()
        self.recorded_listeners: list[Callable[[int], None]] = []

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        for listener in self.recorded_listeners:
            listener(len(recordings))

    def _execute(self, ctx: CommandContext, attempt: Callable[[], Outcome[T]]) -> T:
        """Run `attempt` and save what it produced, retrying on concurrent writes.

        Every attempt reloads its aggregates, so a retry decides again on fresh state.
        """
        claim = ctx.idempotency
        for tries in range(MAX_ATTEMPTS):
            if claim is not None:
                self._raise_if_answered(ctx, claim)
            with acting_as(ctx):
                outcome = attempt()
                pending = list(outcome.aggregates)
                if claim is not None:
                    pending.append(self._idempotency_record(ctx, claim, outcome.result))
            try:
                self.save(*pending)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002 * (tries + 1)))  # noqa: S311 - jitter only
                continue
            return outcome.result
        raise ConcurrencyExhausted("the command kept conflicting with concurrent writes; retry")

    @staticmethod
    def _scope(ctx: CommandContext) -> str:
        return f"tenant:{ctx.tenant_id}" if ctx.tenant_id else "admin"

    def _raise_if_answered(self, ctx: CommandContext, claim: IdempotencyClaim) -> None:
        record_id = IdempotencyRecord.create_id(self._scope(ctx), claim.key)
        try:
            record: Aggregate = self.repository.get(record_id)
        except AggregateNotFoundError:
            return
        assert isinstance(record, IdempotencyRecord)
        if record.fingerprint != claim.fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used with a different request"
            )
        raise Replayed(record.status, record.body)

    def _idempotency_record(
        self, ctx: CommandContext, claim: IdempotencyClaim, result: Any
    ) -> IdempotencyRecord:
        return IdempotencyRecord(
            scope=self._scope(ctx),
            tenant_id=ctx.tenant_id,
            key=claim.key,
            fingerprint=claim.fingerprint,
            status=claim.status,
            body=claim.render(result),
        )

    def _load(self, ctx: CommandContext, cls: type[A], aggregate_id: UUID) -> A:
        """The tenant's aggregate of that type, or NotFound (also for another tenant's)."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {cls.__name__.lower()} {aggregate_id}") from None
        if not isinstance(aggregate, cls) or aggregate.tenant_id != ctx.tenant_id:
            raise NotFound(f"no {cls.__name__.lower()} {aggregate_id}")
        return aggregate

    def _load_for_change(self, ctx: CommandContext, cls: type[A], aggregate_id: UUID) -> A:
        """Like `_load`, and honours If-Match against the current version."""
        aggregate = self._load(ctx, cls, aggregate_id)
        if ctx.if_match is not None and ctx.if_match != aggregate.version:
            raise VersionMismatch(
                f"If-Match names version {ctx.if_match}, the current version is "
                f"{aggregate.version}",
                current_version=aggregate.version,
            )
        return aggregate

    # -- numbering -------------------------------------------------------------

    def _series_lock(self, series_id: UUID) -> threading.Lock:
        with self._series_locks_guard:
            return self._series_locks.setdefault(series_id, threading.Lock())

    def _sequence(self, tenant_id: UUID, series: str, year: int) -> Sequence:
        try:
            sequence: Aggregate = self.repository.get(Sequence.create_id(tenant_id, series, year))
        except AggregateNotFoundError:
            return Sequence(tenant_id=tenant_id, series=series, year=year)
        assert isinstance(sequence, Sequence)
        return sequence

    def _account(self, tenant_id: UUID, customer_id: UUID) -> CustomerAccount:
        """The customer's account, opened on first use."""
        try:
            account: Aggregate = self.repository.get(CustomerAccount.create_id(customer_id))
        except AggregateNotFoundError:
            return CustomerAccount(tenant_id=tenant_id, customer_id=customer_id)
        assert isinstance(account, CustomerAccount)
        return account
