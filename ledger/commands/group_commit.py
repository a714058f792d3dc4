"""Group commit: the saves of concurrent commands share one transaction of the event store.

Every save appends under eventsourcing's EXCLUSIVE lock on the events table (it keeps
positions in commit order), so appends are serial however many threads and processes
write; a save holds the lock for several round trips and a commit. Batching the saves
that wait meanwhile makes that serial work per batch instead of per command. Each
command's aggregates are still saved atomically (the whole batch is), and optimistic
concurrency still decides: a conflict fails the batch, and its commands decide again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.context import CommandContext, acting_as
from ledger.domain.sequence import Sequence

if TYPE_CHECKING:
    from ledger.commands.base import LedgerBase, Outcome


@dataclass
class _Waiting:
    """A command's outcome waiting to be saved; `saved` is None until a leader decided."""

    ctx: CommandContext
    outcome: Outcome[Any]
    saved: bool | None = None
    error: Exception | None = None

    def ids(self) -> set[UUID]:
        return {aggregate.id for aggregate in self.outcome.aggregates}


class GroupCommit:
    """Outcomes queue here; one thread at a time leads: it takes everything waiting and
    saves it in one atomic save, while the others wait for its verdict. An outcome that
    shares an aggregate with one before it in the batch is sent back to decide again on
    what the batch saved, as it would have conflicted.

    A document to be numbered (`Outcome.numbering`) takes the next number of its series
    from a Sequence the leader reads fresh for the batch and saves with it: a number
    exists exactly when its document does, and a series takes one save per batch. A
    conflict on the Sequence (another process numbered meanwhile) fails the batch, and
    its commands decide again.
    """

    MAX_BATCH = 64

    def __init__(self, app: LedgerBase) -> None:
        self._app = app
        self._changed = threading.Condition()
        self._waiting: list[_Waiting] = []
        self._leading = False

    def save(self, ctx: CommandContext, outcome: Outcome[Any]) -> bool:
        """Save the outcome (with its idempotency record); False when it must be decided
        again because of a concurrent write."""
        me = _Waiting(ctx, outcome)
        with self._changed:
            self._waiting.append(me)
        while True:
            with self._changed:
                while me.saved is None and self._leading:
                    self._changed.wait()
                if me.saved is not None:
                    break
                self._leading = True
                batch = self._waiting[: self.MAX_BATCH]
                del self._waiting[: self.MAX_BATCH]
            try:
                self._lead(batch)
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()
        if me.error is not None:
            raise me.error
        return me.saved

    def _lead(self, batch: list[_Waiting]) -> None:
        series = _series_of(batch)
        repository = self._app.repository
        read = repository.versions_held(series) if repository.prefetches else []
        try:
            with self._app.numbering_locks.holding(series, read) as fresh:
                if fresh is not None:
                    repository.absorb(read, fresh)  # the Sequences, read with the locks
                try:
                    self._save(batch)
                finally:
                    repository.forget_prefetched()
        except Exception as error:  # each command of the batch raises it, the leader too
            for waiting in batch:
                if waiting.saved is None:
                    waiting.saved, waiting.error = False, error

    def _save(self, batch: list[_Waiting]) -> None:
        taken: set[UUID] = set()
        sequences: dict[UUID, Sequence] = {}
        saving: list[_Waiting] = []
        pending: list[Aggregate] = []
        for waiting in batch:
            ids = waiting.ids()
            numbering = waiting.outcome.numbering
            sequence = None
            if numbering is not None:
                series = numbering.tenant_id, numbering.series, numbering.year
                series_id = Sequence.create_id(*series)
                sequence = sequences.get(series_id)
                if sequence is None and series_id not in taken:
                    sequence = sequences[series_id] = self._app._sequence(*series)
                    taken.add(series_id)
                if sequence is None:  # a document of the batch saves that Sequence itself
                    ids.add(series_id)
            if ids & taken:
                waiting.saved = False  # it would conflict: decide again after this batch
                continue
            issued = sequence.last if sequence is not None else 0
            try:
                if sequence is not None:
                    assert numbering is not None
                    with acting_as(waiting.ctx):
                        numbering.number(sequence)
                records = self._app._records(waiting.ctx, waiting.outcome)
            except Exception as error:
                waiting.saved, waiting.error = False, error
                if sequence is not None and sequence.last != issued:
                    # Numbered, then failed: the Sequence is spoiled, save none of the batch.
                    # Every undecided command of the batch (also those after this one) must
                    # hear so, or its thread would wait for a verdict that never comes.
                    for other in batch:
                        if other.saved is None:
                            other.saved = False
                    return
                continue
            taken |= ids
            saving.append(waiting)
            pending += [*waiting.outcome.aggregates, *records]
        if saving:
            saved = self._app._saved([*pending, *sequences.values()])
            for waiting in saving:
                waiting.saved = saved


def _series_of(batch: list[_Waiting]) -> list[UUID]:
    """The Sequences the batch numbers from."""
    return [
        Sequence.create_id(numbering.tenant_id, numbering.series, numbering.year)
        for waiting in batch
        if (numbering := waiting.outcome.numbering) is not None
    ]
