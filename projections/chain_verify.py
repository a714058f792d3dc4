"""Verifying the hash chain: read the store in position order and recompute every link.

A store of millions of events is streamed in one pass in binary format, the ids as their
16 bytes, and each link is recomputed in a tight loop. Only a link that does not hold is
turned into objects, to say exactly what is wrong with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import islice
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from projections.event_chain import (
    GENESIS,
    Break,
    Verification,
    link_digest,
    tenant_in_state,
)

BATCH = 20_000
EVENTS_TABLE = "ledger_events"  # eventsourcing names it after the application

# `same`: the link names the event stored at its position (NULL when there is no link).
_STORED = sql.SQL(
    "SELECT e.notification_id, uuid_send(e.originator_id), e.originator_version, e.topic,"
    " e.state, uuid_send(c.tenant_id), c.prev_position, c.hash,"
    " c.originator_id = e.originator_id AND c.originator_version = e.originator_version,"
    " CASE WHEN c.position IS NULL THEN"
    "  (SELECT o.tenant_id FROM event_chain o WHERE o.originator_id = e.originator_id LIMIT 1)"
    " END"
    " FROM {events} e LEFT JOIN event_chain c ON c.position = e.notification_id"
    " WHERE {scope} ORDER BY e.notification_id"
)
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
) -> Verification:
    """Check the chains of every tenant, or of one. Reads in one repeatable-read snapshot, so
    appends during the check neither break it nor are half seen."""
    conn.autocommit = False
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # The whole result is wanted: plan for it, not for its first rows.
        conn.execute("SET LOCAL cursor_tuple_fraction = 1")
        recorded = heads(conn, tenant)
        walk = _Walk(tenant, _deleted(conn, tenant))
        _walk_stored(conn, walk, progress)
        return walk.finish(recorded)


def heads(conn: psycopg.Connection, tenant: UUID | None = None) -> dict[UUID, tuple[int, bytes]]:
    """Every tenant's chain head (position, hash), or one tenant's."""
    query = "SELECT tenant_id, position, hash FROM event_chain_heads"
    rows = (
        conn.execute(query + " WHERE tenant_id = %s", (tenant,))
        if tenant is not None
        else conn.execute(query)
    )
    return {row[0]: (row[1], bytes(row[2])) for row in rows}


class _Walk:
    """Every tenant's chain recomputed in store order, and the breaks found so far. Tenants
    are keyed by their ids' bytes, as read."""

    def __init__(self, tenant: UUID | None, deleted: list[tuple[Any, ...]]) -> None:
        self.tenant = tenant
        self.last: dict[bytes, tuple[int, bytes]] = {}
        self.breaks: list[Break] = []
        self.checked = 0
        # Links whose event is gone, merged into the scan by position.
        self.deleted = deleted
        self.next_deleted = deleted[0][0] if deleted else math.inf

    def rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Check stored events in position order (the `_STORED` columns)."""
        last, digests, topics = self.last, link_digest, _TopicBytes()
        for position, originator, version, topic, state, tenant, prev, digest, same, owner in rows:
            if position > self.next_deleted:
                self._deleted_before(position)
            if tenant is None:
                self._unlinked(position, originator, version, topic, state, owner)
                continue
            self.checked += 1
            known_position, previous = last.get(tenant, (None, GENESIS))
            last[tenant] = (position, digest)
            if prev != known_position:
                self._gap(position, tenant, originator, version, prev, known_position)
            elif (
                not same
                or digests(previous, position, originator, version, topics[topic], state) != digest
            ):
                self._break(position, tenant, originator, version, "altered", _ALTERED)

    def finish(self, recorded: dict[UUID, tuple[int, bytes]]) -> Verification:
        self._deleted_before(math.inf)
        for tenant_id, head in recorded.items():
            reached = self.last.get(tenant_id.bytes)
            if reached != head:
                self.breaks.append(
                    Break(
                        head[0],
                        tenant_id,
                        None,
                        None,
                        "truncated",
                        f"the tenant's chain head is at position {head[0]} but its chain ends "
                        f"at {reached[0] if reached else None}: its last events were removed",
                    )
                )
        self.breaks.sort(key=lambda b: b.position)
        return Verification(self.checked, self.breaks, recorded)

    def _deleted_before(self, position: float) -> None:
        while self.deleted and self.deleted[0][0] < position:
            at, tenant, originator, version, digest = self.deleted.pop(0)
            self.checked += 1
            self.last[tenant] = (at, digest)
            self.breaks.append(
                Break(
                    at,
                    UUID(bytes=tenant),
                    originator,
                    version,
                    "deleted",
                    "the chain links an event here that the store no longer holds",
                )
            )
        self.next_deleted = self.deleted[0][0] if self.deleted else math.inf

    def _unlinked(
        self,
        position: int,
        originator: bytes,
        version: int,
        topic: str,
        state: bytes,
        owner: UUID | None,
    ) -> None:
        # Events written by hand have no link: they are kept when their aggregate (or, for a
        # new one, the tenant their state names) is the tenant's.
        aggregate = UUID(bytes=originator)
        owner = owner or (tenant_in_state(aggregate, topic, state) if version == 1 else None)
        if self.tenant is not None and owner != self.tenant:
            return
        self.checked += 1
        self.breaks.append(
            Break(
                position,
                owner,
                aggregate,
                version,
                "inserted",
                "the event is in no tenant's chain: it was written outside the ledger",
            )
        )

    def _gap(
        self,
        position: int,
        tenant: bytes,
        originator: bytes,
        version: int,
        prev: int | None,
        known: int | None,
    ) -> None:
        detail = (
            f"this event links to position {prev} but the tenant's previous event in the "
            f"store is at {known}: events between were deleted with their links"
        )
        self._break(position, tenant, originator, version, "deleted", detail)

    def _break(
        self, position: int, tenant: bytes, originator: bytes, version: int, kind: str, detail: str
    ) -> None:
        self.breaks.append(
            Break(position, UUID(bytes=tenant), UUID(bytes=originator), version, kind, detail)
        )


_ALTERED = "the stored event does not hash to its link: it was changed after it was appended"


class _TopicBytes(dict[str, bytes]):
    """Topics in UTF-8, encoded once each."""

    def __missing__(self, topic: str) -> bytes:
        self[topic] = encoded = topic.encode()
        return encoded


def _walk_stored(
    conn: psycopg.Connection, walk: _Walk, progress: Callable[[int], None] | None
) -> None:
    tenant = walk.tenant
    scope = sql.SQL("(c.tenant_id = %s OR c.position IS NULL)") if tenant else sql.SQL("TRUE")
    query = _STORED.format(events=sql.Identifier(EVENTS_TABLE), scope=scope)
    seen = 0
    with conn.cursor() as cursor:
        # Streamed, the server reads on while this process hashes; fetched from a named
        # cursor, each waited for the other.
        streamed = cursor.stream(query, (tenant,) if tenant else None, binary=True, size=1000)
        while rows := list(islice(streamed, BATCH)):
            walk.rows(rows)
            seen += len(rows)
            if progress is not None:
                progress(seen)
    if progress is not None and not seen:
        progress(seen)


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
