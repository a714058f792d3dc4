"""Checking one range of the store's positions against the hash chain: the stored events
streamed in binary format, the ids as their 16 bytes, and each link recomputed in a tight
loop. Only a link that does not hold is turned into objects, to say exactly what is wrong
with it. A link holds when its hash is recomputed from the stored hash of its tenant's
previous link and it names that link's position; by induction that proves the chain, so a
range starts from the stored last links, before it, of the tenants it holds."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from projections.event_chain import GENESIS, Break, link_digest, tenant_in_state

BATCH = 20_000
EVENTS_TABLE = "ledger_events"  # eventsourcing names it after the application
FIRST, LAST = -(2**63), 2**63 - 1  # bigint's bounds: no position lies outside

# `same`: the link names the event stored at its position (NULL when there is no link).
_STORED = sql.SQL(
    "SELECT e.notification_id, uuid_send(e.originator_id), e.originator_version, e.topic,"
    " e.state, uuid_send(c.tenant_id), c.prev_position, c.hash,"
    " c.originator_id = e.originator_id AND c.originator_version = e.originator_version,"
    " CASE WHEN c.position IS NULL THEN"
    "  (SELECT o.tenant_id FROM event_chain o WHERE o.originator_id = e.originator_id LIMIT 1)"
    " END"
    " FROM {events} e LEFT JOIN event_chain c ON c.position = e.notification_id"
    # Said of both tables: the planner does not carry it to the chain across the outer
    # join, and a merge join would scan the chain from its start.
    "  AND c.position > %(after)s AND c.position <= %(upto)s"
    " WHERE {scope} AND e.notification_id > %(after)s AND e.notification_id <= %(upto)s"
    " ORDER BY e.notification_id"
)
# The last link up to a range, of each tenant with a link in the range: (tenant id bytes,
# position, hash).
LAST_LINKS_Q = sql.SQL(
    "SELECT uuid_send(t.tenant_id), l.position, l.hash FROM"
    " (SELECT DISTINCT tenant_id FROM event_chain"
    "  WHERE {scope} AND position > %(after)s AND position <= %(upto)s) t"
    " CROSS JOIN LATERAL (SELECT c.position, c.hash FROM event_chain c"
    "  WHERE c.tenant_id = t.tenant_id AND c.position <= %(after)s"
    "  ORDER BY c.position DESC LIMIT 1) l"
)
FIRST, LAST = -(2**63), 2**63 - 1  # bigint's bounds: no position lies outside


class Walk:
    """Every tenant's chain recomputed in store order over a span, from where the span
    starts, and the breaks found so far. Tenants are keyed by their ids' bytes, as read."""

    def __init__(
        self,
        tenant: UUID | None,
        deleted: list[tuple[Any, ...]],
        last: dict[bytes, tuple[int, bytes]],
    ) -> None:
        self.tenant = tenant
        self.last = last  # each tenant's last link so far: (position, stored hash)
        self.breaks: list[Break] = []
        self.checked = 0
        self.read = 0
        # Links whose event is gone, merged into the scan by position.
        self.deleted = deleted
        self.next_deleted = deleted[0][0] if deleted else math.inf

    def rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Check stored events in position order (the `_STORED` columns)."""
        self.read += len(rows)
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

    def close(self) -> None:
        """The range is read: the deleted links after its last stored event count too."""
        self._deleted_before(math.inf)

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


@dataclass(frozen=True)
class Span:
    """The positions after `after` up to `upto`."""

    after: int
    upto: int

    def within(self, links: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The links (rows whose first column is the position) in the span."""
        return [link for link in links if self.after < link[0] <= self.upto]


def check(
    conn: psycopg.Connection,
    tenant: UUID | None,
    span: Span,
    deleted: list[tuple[Any, ...]],
    report: Callable[[int], None],
) -> Walk:
    """Check every link of a span (`deleted`: the links in it whose event is gone), on a
    connection in the verification's snapshot; tell `report` how many rows each batch read."""
    walk = Walk(tenant, deleted, _last_links(conn, tenant, span))
    with conn.cursor() as cursor, closing(_stored(cursor, tenant, span)) as stored:
        while rows := list(islice(stored, BATCH)):
            walk.rows(rows)
            report(len(rows))
    walk.close()
    return walk


def _stored(
    cursor: psycopg.Cursor[Any], tenant: UUID | None, span: Span
) -> Generator[tuple[Any, ...], None, None]:
    """The span's stored events with their links (the `_STORED` columns). Streamed, the
    server reads on while this process hashes; fetched from a named cursor, each waited for
    the other. A stream left unfinished holds the connection until it is closed."""
    scope = (
        sql.SQL("(c.tenant_id = %(tenant)s OR c.position IS NULL)") if tenant else sql.SQL("TRUE")
    )
    query = _STORED.format(events=sql.Identifier(EVENTS_TABLE), scope=scope)
    params = {"tenant": tenant, "after": span.after, "upto": span.upto}
    yield from cursor.stream(query, params, binary=True, size=1000)


def _last_links(
    conn: psycopg.Connection, tenant: UUID | None, span: Span
) -> dict[bytes, tuple[int, bytes]]:
    """Where a span's walk starts: the last link before it of each tenant it holds links of."""
    if span.after == FIRST:
        return {}
    scope = sql.SQL("tenant_id = %(tenant)s") if tenant else sql.SQL("TRUE")
    params = {"tenant": tenant, "after": span.after, "upto": span.upto}
    with conn.cursor(binary=True) as cursor:
        rows = cursor.execute(LAST_LINKS_Q.format(scope=scope), params)
        return {tenant_id: (position, digest) for tenant_id, position, digest in rows}


def repeatable_read(conn: psycopg.Connection, snapshot: str | None = None) -> None:
    """Open the transaction read only, in one snapshot: its own, or one another exported."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    if snapshot is not None:
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
    # The whole result is wanted: plan for it, not for its first rows. A plain scan gains
    # nothing from JIT, which would compile each range's query again.
    conn.execute("SET LOCAL cursor_tuple_fraction = 1")
    conn.execute("SET LOCAL jit = off")
