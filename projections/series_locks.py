"""Series locks shared by every process writing to one PostgreSQL event store.

PostgreSQL advisory locks of the two-key form, (`NUMBERING`, 32 bits of the series id),
held by the session of a pooled connection: the one-key form the projectors, rebuilds
and migrations lock with is a separate key space. Two series that share 32 bits only
take turns needlessly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder

NUMBERING = 0x4C4E  # "LN": the first key of every series lock


class PostgresSeriesLocks:
    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self._datastore = recorder.datastore

    @contextlib.contextmanager
    def holding(self, series_ids: Sequence[UUID]) -> Iterator[None]:
        if not series_ids:
            yield
            return
        # Always in one order, so that two processes holding several series cannot each
        # wait for the other.
        keys = sorted({_key(series_id) for series_id in series_ids})
        with self._datastore.get_connection() as conn:
            held: list[int] = []
            try:
                for key in keys:
                    # One simple query is one implicit transaction, which SET LOCAL bounds:
                    # a holder that hangs makes the others fail after as long as a writer
                    # waits for the events table (POSTGRES_LOCK_TIMEOUT), not wait for ever.
                    conn.execute(
                        f"SET LOCAL lock_timeout = '{self._datastore.lock_timeout:d}s';"
                        f" SELECT pg_advisory_lock({NUMBERING}, {key:d})"
                    )
                    held.append(key)
                yield
            finally:
                _release(conn, held)


def _release(conn: Any, held: list[int]) -> None:
    try:
        for key in held:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (NUMBERING, key))
    except Exception:
        # A connection that could not say so may still hold a lock: closed, the pool
        # drops it, and its session ends with the lock.
        conn.close()
        raise


def _key(series_id: UUID) -> int:
    return int.from_bytes(series_id.bytes[:4], "big", signed=True)
