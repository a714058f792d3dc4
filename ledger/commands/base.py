"""The command machinery every part of the Ledger application shares."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper, Recording, Transcoder
from eventsourcing.utils import resolve_topic, strtobool

from ledger.commands.group_commit import GroupCommit
from ledger.commands.repository import LedgerRepository
from ledger.commands.series_locks import SERIES_LOCKS_TOPIC, ProcessSeriesLocks, SeriesLocks
from ledger.context import CommandContext, IdempotencyClaim, acting_as
from ledger.domain.base import LedgerAggregate
from ledger.domain.customer_account import CustomerAccount
from ledger.domain.idempotency import IdempotencyRecord
from ledger.domain.sequence import Sequence
from ledger.errors import ConcurrencyExhausted, IdempotencyKeyReused, NotFound, VersionMismatch
from ledger.persistence import OrjsonTranscoder
from ledger.privacy import SealingMapper, subject_of_result

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A", bound=LedgerAggregate)

MAX_ATTEMPTS = 30
# The environment variable naming the key ring class (called with the recorder).
PERSONAL_KEYS_TOPIC = "PERSONAL_KEYS_TOPIC"


class Replayed(Exception):
    """A request with an Idempotency-Key that was already answered: here is that answer."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__("idempotent replay")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Numbering:
    """The next number of a series, to be taken by a document in the save that records it.

    `number` numbers the document from the series' Sequence and calls `Sequence.issue`
    last, so a refusal leaves the Sequence as it was."""

    tenant_id: UUID
    series: str
    year: int
    number: Callable[[Sequence], None]


@dataclass
class Outcome(Generic[R]):
    """What one attempt of a command produced: its result and the aggregates to save, and
    the numbering when the command numbers a document."""

    result: R
    aggregates: list[Aggregate] = field(default_factory=list)
    numbering: Numbering | None = None


class LedgerBase(Application[UUID]):
    """Loading with tenant checks, load-decide-save with retries, idempotency, numbering."""

    repository: LedgerRepository  # made by construct_repository

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._attach_key_ring()
        topic = self.env.get(SERIES_LOCKS_TOPIC)
        self.numbering_locks: SeriesLocks = (
            resolve_topic(topic)(self.recorder) if topic else ProcessSeriesLocks()
        )
        self._series_locks: dict[UUID, threading.Lock] = {}
        self._series_locks_guard = threading.Lock()
        self._committer = GroupCommit(self)
        self.recorded_listeners: list[Callable[[int], None]] = []

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()

    def construct_mapper(self) -> Mapper[UUID]:
        """Personal fields are sealed with per-customer keys; the key ring is the one the
        environment names (PERSONAL_KEYS_TOPIC, built from the recorder), else in memory."""
        return SealingMapper(self.construct_transcoder())

    def _attach_key_ring(self) -> None:
        topic = self.env.get(PERSONAL_KEYS_TOPIC)
        if topic and isinstance(self.mapper, SealingMapper):
            self.mapper.keys = resolve_topic(topic)(self.recorder)

    def construct_repository(self) -> LedgerRepository:
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return LedgerRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")
            ),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings = self._save_collected(objs, kwargs)
        # An aggregate this save created goes into the cache, so the next command on it
        # (finalizing a new draft) fast-forwards it instead of reading it all from the
        # store. A copy goes in: the caller keeps the object it saved.
        cache = self.repository.cache
        if cache is None:
            return recordings
        born = {
            r.domain_event.originator_id
            for r in recordings
            if r.domain_event.originator_version == 1
        }
        for obj in objs:
            # Idempotency records are read only when a request is replayed.
            kept = isinstance(obj, LedgerAggregate) and not isinstance(obj, IdempotencyRecord)
            if kept and obj.id in born:
                cache.put(obj.id, deepcopy(obj))
        return recordings

    def _save_collected(
        self, objs: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> list[Recording[UUID]]:
        """The library's save, collecting an aggregate's events without first asking whether
        it is a domain event: an isinstance check against a runtime Protocol, about 10 us
        in Python 3.11, for each aggregate of each save."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated, called as the library does
        return recordings

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
            try:
                with acting_as(ctx):
                    outcome = attempt()
            finally:
                self.repository.forget_prefetched()
            if self._committer.save(ctx, outcome):
                return outcome.result
            time.sleep(random.uniform(0, 0.002 * (tries + 1)))  # noqa: S311 - jitter only
        raise ConcurrencyExhausted("the command kept conflicting with concurrent writes; retry")

    def _saved(self, aggregates: list[Aggregate]) -> bool:
        """Save atomically; False when a concurrent write got there first."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            return False
        return True

    def _records(self, ctx: CommandContext, outcome: Outcome[Any]) -> list[Aggregate]:
        """The idempotency record to save with the outcome, if the command has a key."""
        if ctx.idempotency is None:
            return []
        with acting_as(ctx):
            return [self._idempotency_record(ctx, ctx.idempotency, outcome.result)]

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
            subject_id=subject_of_result(result),
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
