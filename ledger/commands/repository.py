"""The Ledger's repository: the library's, with cheaper reads of aggregates a command needs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from itertools import groupby
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import StoredEvent

# What a recorder may offer to read several aggregates' new events at once (the Ledger's
# does: `projections/event_reads.py`).
SelectEventsAfter = Callable[[Sequence[tuple[UUID, int]]], list[StoredEvent]]


def mutated(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its check of each event against a runtime
    Protocol (an assert, about 10 us in Python 3.11, on every event of every read)."""
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class LedgerRepository(Repository[UUID]):
    """The library's repository, and:

    - an aggregate that was never saved (a customer without an account, an unused
      Idempotency-Key) costs one query instead of two;
    - `prefetch(ids)` brings the cached aggregates among `ids` up to date, and learns which
      of the others were never saved, in one query; this thread's next `get` of each then
      answers without a query of its own. A command prefetches what it is about to read,
      so its reads are as of the prefetch, a moment earlier: what it saves is still
      checked against the versions it read. `forget_prefetched()` ends that (a command's
      attempt calls it when it ends, so nothing carries over to the next)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prefetched = threading.local()

    def _marks(self) -> tuple[set[UUID], set[UUID]]:
        """This thread's (fresh, absent) ids since its last prefetch."""
        marks: tuple[set[UUID], set[UUID]] | None = getattr(self._prefetched, "marks", None)
        if marks is None:
            marks = self._prefetched.marks = (set(), set())
        return marks

    def held(self, aggregate_id: UUID) -> Any | None:
        """The cached aggregate itself, not a copy, or None: only to read what never
        changes (an invoice's customer)."""
        if self.cache is None:
            return None
        try:
            return self.cache.get(aggregate_id)
        except KeyError:
            return None

    def forget_prefetched(self) -> None:
        self._prefetched.marks = None

    def prefetch(self, ids: Iterable[UUID]) -> None:
        select: SelectEventsAfter | None = getattr(
            self.event_store.recorder, "select_events_after", None
        )
        if select is None or not self.prefetches:
            return
        read = self.versions_held(ids)
        self.absorb(read, select(read))

    @property
    def prefetches(self) -> bool:
        return self.cache is not None and self.fastforward

    def versions_held(self, ids: Iterable[UUID]) -> list[tuple[UUID, int]]:
        """Each id with the version of its cached aggregate (0: none cached), sorted: the
        fast-forward locks are taken in one order."""
        versions: list[tuple[UUID, int]] = []
        if self.cache is None:
            return versions
        for aggregate_id in sorted(set(ids)):
            try:
                versions.append((aggregate_id, self.cache.get(aggregate_id).version))
            except KeyError:
                versions.append((aggregate_id, 0))
        return versions

    def absorb(self, read: Sequence[tuple[UUID, int]], stored: list[StoredEvent]) -> None:
        """Take in what a read of the events after each (id, version) of `read` found (of an
        id at version 0, its first event only): the cached aggregates it brings up to date
        answer this thread's next `get` without a query, and so do ids that have no events
        at all. An aggregate another thread moved on meanwhile is left to `get`."""
        if self.cache is None:
            return
        versions = dict(read)
        cached: dict[UUID, Any] = {}
        for aggregate_id, version in read:
            if version > 0:
                try:
                    cached[aggregate_id] = self.cache.get(aggregate_id)
                except KeyError:
                    continue
        locks = [self._use_fastforward_lock(i) for i in cached]
        try:
            for lock in locks:
                lock.acquire()
            try:
                held = {i: a for i, a in cached.items() if a.version == versions[i]}
                found = self._fast_forward(held, stored)
            finally:
                for lock in locks:
                    lock.release()
        finally:
            for aggregate_id in cached:
                self._disuse_fastforward_lock(aggregate_id)
        fresh, absent = self._marks()
        fresh.update(held)
        absent.update(i for i, version in read if version == 0 and i not in found)

    def _fast_forward(self, held: dict[UUID, Any], stored: list[StoredEvent]) -> set[UUID]:
        """Apply the new events to the held aggregates; return every id that had events."""
        found = set()
        to_domain_event = self.event_store.mapper.to_domain_event
        for aggregate_id, events in groupby(stored, key=lambda e: e.originator_id):
            found.add(aggregate_id)
            aggregate = held.get(aggregate_id)
            if aggregate is not None:
                mutated(aggregate, map(to_domain_event, events))
        return found

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        marks: tuple[set[UUID], set[UUID]] | None = getattr(self._prefetched, "marks", None)
        if marks is not None and version is None:
            fresh, absent = marks
            if aggregate_id in absent:
                absent.discard(aggregate_id)
                raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} not found.")
            if aggregate_id in fresh and self.cache is not None:
                fresh.discard(aggregate_id)
                try:
                    aggregate = self.cache.get(aggregate_id)
                except KeyError:
                    pass  # evicted meanwhile: read it as usual
                else:
                    copy = self.deepcopy_from_cache and kwargs.get("deepcopy_from_cache", True)
                    return deepcopy(aggregate) if copy else aggregate
        kwargs.setdefault("projector_func", mutated)
        return super().get(aggregate_id, version=version, **kwargs)

    def _reconstruct_aggregate(self, aggregate_id: UUID, version: int | None, *args: Any) -> Any:
        never_saved = (
            version is None
            and self.snapshot_store is not None
            and not self.event_store.recorder.select_events(aggregate_id, limit=1)
        )
        if never_saved:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} not found.")
        return super()._reconstruct_aggregate(aggregate_id, version, *args)
