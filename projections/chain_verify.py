"""Verifying the hash chain: every link recomputed in store order (`chain_walk` checks a
range of positions), and the chain heads checked against where the chains end.

A large store is cut into ranges of positions, checked by a few processes at once, each
range on a connection of its own, all in the one snapshot the caller's transaction exports.
Processes, not threads: reading rows and hashing them both hold the GIL, so threads would
take turns.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from projections.chain_walk import (
    EVENTS_TABLE,
    FIRST,
    LAST,
    Span,
    Walk,
    check,
    repeatable_read,
)
from projections.event_chain import Break, Verification

WORKERS = 2  # processes checking ranges at once, each with a database backend: two cores
RANGE = 100_000  # positions per range, about; a store of fewer per worker is not cut

_DELETED = sql.SQL(
    "SELECT c.position, uuid_send(c.tenant_id), c.originator_id, c.originator_version, c.hash"
    " FROM event_chain c"
    " WHERE {scope} AND NOT EXISTS"
    " (SELECT 1 FROM {events} e WHERE e.notification_id = c.position)"
    " ORDER BY c.position"
)


def verify(
    conn: psycopg.Connection,
    tenant: UUID | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = WORKERS,
) -> Verification:
    """Check the chains of every tenant, or of one. Reads in one repeatable-read snapshot, so
    appends during the check neither break it nor are half seen. A store of at least
    `workers` times RANGE positions is checked in ranges by that many processes (1: all in
    the calling thread). `progress` is called, from the calling thread, with the number of
    events read so far."""
    conn.autocommit = False
    with conn.transaction():
        repeatable_read(conn)
        recorded = heads(conn, tenant)
        deleted = _deleted(conn, tenant)
        spans = _spans(conn, workers)
        reported = _Progress(progress)
        if len(spans) == 1:
            walks = [check(conn, tenant, spans[0], deleted, reported.add)]
        else:
            walks = _check_apart(conn, tenant, spans, deleted, workers, reported)
        reported.finish()
        return _verification(walks, recorded)


def heads(conn: psycopg.Connection, tenant: UUID | None = None) -> dict[UUID, tuple[int, bytes]]:
    """Every tenant's chain head (position, hash), or one tenant's."""
    query = "SELECT tenant_id, position, hash FROM event_chain_heads"
    rows = (
        conn.execute(query + " WHERE tenant_id = %s", (tenant,))
        if tenant is not None
        else conn.execute(query)
    )
    return {row[0]: (row[1], bytes(row[2])) for row in rows}


def _spans(conn: psycopg.Connection, workers: int) -> list[Span]:
    """The store cut into as many spans for each worker, of RANGE positions or somewhat
    fewer, or left whole; the first and the last are open, for links beyond the events."""
    query = sql.SQL("SELECT min(notification_id), max(notification_id) FROM {}")
    row = conn.execute(query.format(sql.Identifier(EVENTS_TABLE))).fetchone()
    low, high = row if row else (None, None)
    width = high - low + 1 if low is not None else 0
    count = width // RANGE
    if workers < 2 or count < workers:
        return [Span(FIRST, LAST)]
    count = math.ceil(count / workers) * workers
    edges = [FIRST, *(low - 1 + width * k // count for k in range(1, count)), LAST]
    return [Span(after, upto) for after, upto in pairwise(edges)]


def _check_apart(
    conn: psycopg.Connection,
    tenant: UUID | None,
    spans: list[Span],
    deleted: list[tuple[Any, ...]],
    workers: int,
    reported: _Progress,
) -> list[Walk]:
    """Check the spans in `workers` processes, each span on a connection of its own in
    `conn`'s snapshot. The calling thread reports each span read; the first failure is
    raised once the spans being checked are done, the others are not started."""
    snapshot = _Snapshot.of(conn)
    with _processes(min(workers, len(spans))) as pool:
        checks = [
            pool.submit(_check_alone, snapshot, tenant, span, span.within(deleted))
            for span in spans
        ]
        try:
            for check in as_completed(checks):
                reported.add(check.result().read)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [check.result() for check in checks]


def _check_alone(
    snapshot: _Snapshot, tenant: UUID | None, span: Span, deleted: list[tuple[Any, ...]]
) -> Walk:
    """Check a span in a process of the pool."""
    with snapshot.connect() as own:
        return check(own, tenant, span, deleted, _unreported)


def _unreported(rows: int) -> None:
    """A process tells its progress by finishing its span."""


def _processes(workers: int) -> ProcessPoolExecutor:
    """Processes forked from a server process that has this module imported (each still
    imports the caller's main module again), never from the caller's process, whose other
    threads may hold locks."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(workers, mp_context=context)


@dataclass(frozen=True)
class _Snapshot:
    """What another process needs to read in the snapshot a transaction exported."""

    conninfo: str
    password: str | None = field(repr=False)
    exported: str

    @classmethod
    def of(cls, conn: psycopg.Connection) -> _Snapshot:
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        return cls(conn.info.dsn, conn.info.password, row[0] if row else "")

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """A connection of its own, in a transaction that sees what the exporter's sees."""
        with (
            psycopg.connect(self.conninfo, password=self.password) as own,
            own.transaction(),
        ):
            repeatable_read(own, self.exported)
            yield own


class _Progress:
    """Events read so far, told to the caller's callback."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.seen = 0

    def add(self, rows: int) -> None:
        self.seen += rows
        if self.callback is not None:
            self.callback(self.seen)

    def finish(self) -> None:
        if self.callback is not None and not self.seen:
            self.callback(0)


def _verification(walks: list[Walk], recorded: dict[UUID, tuple[int, bytes]]) -> Verification:
    """The spans' findings together, with the heads the chains do not reach: each tenant's
    chain ends where the last span holding a link of it left it."""
    breaks = [found for walk in walks for found in walk.breaks]
    reached: dict[bytes, tuple[int, bytes]] = {}
    for walk in walks:
        reached.update(walk.last)
    for tenant_id, head in recorded.items():
        end = reached.get(tenant_id.bytes)
        if end != head:
            breaks.append(
                Break(
                    head[0],
                    tenant_id,
                    None,
                    None,
                    "truncated",
                    f"the tenant's chain head is at position {head[0]} but its chain ends "
                    f"at {end[0] if end else None}: its last events were removed",
                )
            )
    breaks.sort(key=lambda b: b.position)
    return Verification(sum(walk.checked for walk in walks), breaks, recorded)


def _deleted(conn: psycopg.Connection, tenant: UUID | None) -> list[tuple[Any, ...]]:
    scope = sql.SQL("c.tenant_id = %s") if tenant else sql.SQL("TRUE")
    query = _DELETED.format(events=sql.Identifier(EVENTS_TABLE), scope=scope)
    with conn.cursor(binary=True) as cursor:
        return cursor.execute(query, (tenant,) if tenant else None).fetchall()


def link_at(conn: psycopg.Connection, position: int) -> tuple[UUID, bytes] | None:
    """The tenant and hash of the chain link at a position."""
    row = conn.execute(
        "SELECT tenant_id, hash FROM event_chain WHERE position = %s", (position,)
    ).fetchone()
    return (row[0], bytes(row[1])) if row else None
