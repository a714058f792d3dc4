"""Verifying the hash chain: read the store in position order and recompute every link."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from uuid import UUID

import psycopg
from psycopg import sql

from projections.event_chain import Link, Verification, check_links, tenant_in_state

BATCH = 20_000
EVENTS_TABLE = "ledger_events"  # eventsourcing names it after the application

_STORED = sql.SQL(
    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state,"
    " c.tenant_id, c.originator_id, c.originator_version, c.prev_position, c.hash,"
    " CASE WHEN c.position IS NULL THEN"
    "  (SELECT o.tenant_id FROM event_chain o WHERE o.originator_id = e.originator_id LIMIT 1)"
    " END"
    " FROM {events} e LEFT JOIN event_chain c ON c.position = e.notification_id"
    " WHERE {scope} ORDER BY e.notification_id"
)
_DELETED = sql.SQL(
    "SELECT c.position, c.tenant_id, c.originator_id, c.originator_version, c.prev_position,"
    " c.hash FROM event_chain c"
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
        recorded = heads(conn, tenant)
        links = heapq.merge(
            _stored(conn, tenant, progress), _deleted(conn, tenant), key=lambda link: link.position
        )
        return check_links(links, recorded)


def heads(conn: psycopg.Connection, tenant: UUID | None = None) -> dict[UUID, tuple[int, bytes]]:
    """Every tenant's chain head (position, hash), or one tenant's."""
    query = "SELECT tenant_id, position, hash FROM event_chain_heads"
    rows = (
        conn.execute(query + " WHERE tenant_id = %s", (tenant,))
        if tenant is not None
        else conn.execute(query)
    )
    return {row[0]: (row[1], bytes(row[2])) for row in rows}


def _stored(
    conn: psycopg.Connection, tenant: UUID | None, progress: Callable[[int], None] | None
) -> Iterator[Link]:
    # Events written by hand have no link: they stay in the scan and are kept when their
    # aggregate (or, for a new one, the tenant their state names) is the tenant's.
    scope = sql.SQL("(c.tenant_id = %s OR c.position IS NULL)") if tenant else sql.SQL("TRUE")
    query = _STORED.format(events=sql.Identifier(EVENTS_TABLE), scope=scope)
    with conn.cursor(name="chain_verify") as cursor:
        cursor.itersize = BATCH
        cursor.execute(query, (tenant,) if tenant else None)
        seen = 0
        for row in cursor:
            seen += 1
            if progress is not None and seen % BATCH == 0:
                progress(seen)
            position, originator, version, topic, state = row[:5]
            link_tenant, link_originator, link_version, prev_position, digest, owner = row[5:]
            if link_tenant is None:
                owner = owner or (
                    tenant_in_state(originator, topic, state) if version == 1 else None
                )
                if tenant is not None and owner != tenant:
                    continue
                yield Link(position, originator, version, topic, bytes(state), owner)
                continue
            yield Link(
                position,
                originator,
                version,
                topic,
                bytes(state),
                link_tenant,
                link_originator,
                link_version,
                prev_position,
                bytes(digest),
            )
        if progress is not None:
            progress(seen)


def _deleted(conn: psycopg.Connection, tenant: UUID | None) -> Iterator[Link]:
    scope = sql.SQL("c.tenant_id = %s") if tenant else sql.SQL("TRUE")
    query = _DELETED.format(events=sql.Identifier(EVENTS_TABLE), scope=scope)
    for position, link_tenant, originator, version, prev_position, digest in conn.execute(
        query, (tenant,) if tenant else None
    ).fetchall():
        yield Link(
            position,
            None,
            None,
            None,
            None,
            link_tenant,
            originator,
            version,
            prev_position,
            bytes(digest),
        )


def link_at(conn: psycopg.Connection, position: int) -> tuple[UUID, bytes] | None:
    """The tenant and hash of the chain link at a position."""
    row = conn.execute(
        "SELECT tenant_id, hash FROM event_chain WHERE position = %s", (position,)
    ).fetchone()
    return (row[0], bytes(row[1])) if row else None
