"""Series locks shared by every process writing to one PostgreSQL event store.

PostgreSQL advisory locks of the two-key form, (`NUMBERING`, 32 bits of the series id),
taken in a transaction that the batch's append then joins (`ChainedRecorder.appending_in`):
its commit lets go of them, with no round trip of its own. The same query that takes them
reads the series' Sequences fresh. The one-key form the projectors, rebuilds and
migrations lock with is a separate key space. Two series that share 32 bits only take
turns needlessly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.pq import TransactionStatus

from projections.event_reads import BatchedReads

NUMBERING = 0x4C4E  # "LN": the first key of every series lock


class PostgresSeriesLocks:
    def __init__(self, recorder: BatchedReads) -> None:
        self._recorder = recorder
        self._datastore = recorder.datastore

    @contextlib.contextmanager
    def holding(
        self, series_ids: Sequence[UUID], read: Sequence[tuple[UUID, int]] = ()
    ) -> Iterator[list[StoredEvent] | None]:
        if not series_ids:
            yield None
            return
        # Always in one order, so that two processes holding several series cannot each
        # wait for the other. SET LOCAL bounds the wait: a holder that hangs makes the others
        # fail after as long as a writer waits for the events table (POSTGRES_LOCK_TIMEOUT).
        keys = sorted({_key(series_id) for series_id in series_ids})
        locks = " ".join(f"SELECT pg_advisory_xact_lock({NUMBERING}, {key:d});" for key in keys)
        reading = f" {self._recorder.events_after_statement(read)}" if read else ""
        with self._datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"BEGIN; SET LOCAL lock_timeout = '{self._datastore.lock_timeout:d}s';"
                f" {locks}{reading}",
                prepare=False,
            )
            events = None
            if read:
                while curs.nextset():  # past BEGIN, SET and the locks, to the read
                    pass
                events = self._recorder.stored_events(curs.fetchall())
            with self._recorder.appending_in(conn):
                yield events
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()  # nothing was appended: the locks go with the transaction


def _key(series_id: UUID) -> int:
    return int.from_bytes(series_id.bytes[:4], "big", signed=True)
