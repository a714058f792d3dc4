"""The per-tenant hash chain over the event store, written as events are appended.

eventsourcing's PostgreSQL recorder serialises appends with an EXCLUSIVE lock on the events
table and hands out positions (notification ids) in commit order. `ChainedRecorder` hooks in
after the insert, inside the same transaction and under that lock: it links each new event
to its tenant's previous one and moves the tenant's head. A crash before commit loses event
and link together; nothing can append between reading a head and moving it.

The ledger itself stays free of SQL: the API wires this recorder in by topic
(`ledger_env`), the way eventsourcing chooses recorders.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal

from ledger.persistence import DatabaseLocation, OrjsonTranscoder

NO_TENANT = UUID(int=0)
GENESIS = bytes(32)
TENANT_REGISTERED = ":Tenant.Registered"
_KNOWN_TENANTS = 100_000  # aggregate -> tenant, remembered per process

_transcoder = OrjsonTranscoder()


def ledger_env(location: DatabaseLocation, pool_size: int = 8) -> dict[str, str]:
    """The eventsourcing environment of a Ledger whose appends extend the hash chain."""
    return {
        **location.eventsourcing_env(pool_size),
        # The chained recorder with its extensions (erasure, usage keys), and the key ring.
        "APPLICATION_RECORDER_TOPIC": "projections.ledger_recorder:LedgerRecorder",
        "PERSONAL_KEYS_TOPIC": "projections.personal_keys:PostgresKeyRing",
        "SERIES_LOCKS_TOPIC": "projections.series_locks:PostgresSeriesLocks",
    }


def link_hash(
    previous: bytes, position: int, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """SHA-256 over the tenant's previous hash and everything stored for the event."""
    return link_digest(previous, position, originator_id.bytes, version, topic.encode(), state)


def link_digest(
    previous: bytes, position: int, originator_id: bytes, version: int, topic: bytes, state: bytes
) -> bytes:
    """`link_hash` over the stored values as bytes (the aggregate id's 16 bytes, the topic in
    UTF-8), for whoever reads them from the store that way, as verification does."""
    # One call with the parts joined: a few microseconds less per event, which is most of
    # the cost of verifying a large store.
    head = _POSITION_VERSION.pack(position, version)
    length = _LENGTH.pack(len(topic))
    return hashlib.sha256(b"".join((previous, head, originator_id, length, topic, state))).digest()


_POSITION_VERSION = struct.Struct(">qq")
_LENGTH = struct.Struct(">I")


def tenant_in_state(originator_id: UUID, topic: str, state: bytes) -> UUID:
    """The tenant an aggregate's first event names (a tenant's own registration: itself)."""
    if topic.endswith(TENANT_REGISTERED):
        return originator_id
    # Only the tenant is decoded: a first event may hold a thousand usage events.
    tagged = orjson.loads(state).get("tenant_id")
    tenant = _transcoder.decode(orjson.dumps(tagged)) if tagged is not None else None
    return tenant if isinstance(tenant, UUID) else NO_TENANT


class ChainedRecorder(PostgresApplicationRecorder):
    """An application recorder that extends each tenant's hash chain as it appends."""

    _tenants: dict[UUID, UUID] = {}
    _tenants_guard = threading.Lock()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        # One round trip for what the library sends as three statements.
        self._lock_and_notify: Composed = SQL(
            "SET LOCAL lock_timeout = {timeout}; LOCK TABLE {table} IN EXCLUSIVE MODE;"
            " NOTIFY {channel}"
        ).format(
            timeout=Literal(f"{self.datastore.lock_timeout}s"),
            table=table,
            channel=Identifier(self.channel_name),
        )
        # The events as four arrays sent in binary, where the library sends one array of a
        # composite type as text (each state's bytes escaped in Python).
        self._insert_arrays: Composed = SQL(
            "INSERT INTO {table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(table=table, id_type=SQL(self.datastore.originator_id_type))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert, without its pipeline mode: a large save (a batch of a
        thousand usage events) left the connection waiting forever in the pipeline's sync,
        PostgreSQL waiting for the rest of the query (see psycopg issue 685). A few more
        round trips per save are the price."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        curs.execute(self._lock_and_notify)
        ids: list[Any] = [e.originator_id for e in stored_events]
        if self.datastore.originator_id_type == "uuid":
            ids = [_uuid(i) for i in ids]
        curs.execute(
            self._insert_arrays,
            (
                ids,
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        assert len(positions) == len(stored_events)
        tenants = self._tenants_of(curs, stored_events)
        involved = sorted(set(tenants))
        curs.execute(
            "SELECT tenant_id, position, hash FROM event_chain_heads WHERE tenant_id = ANY(%s)",
            (involved,),
        )
        heads: dict[UUID, tuple[int | None, bytes]] = {
            row["tenant_id"]: (row["position"], row["hash"]) for row in curs.fetchall()
        }
        links = []
        for event, position, tenant in zip(stored_events, positions, tenants, strict=True):
            previous_position, previous = heads.get(tenant, (None, GENESIS))
            digest = link_hash(
                previous,
                position,
                _uuid(event.originator_id),
                event.originator_version,
                event.topic,
                event.state,
            )
            links.append(
                (
                    position,
                    tenant,
                    event.originator_id,
                    event.originator_version,
                    previous_position,
                    digest,
                )
            )
            heads[tenant] = (position, digest)
        moved = [(tenant, *heads[tenant]) for tenant in involved]
        curs.execute(_LINK, [*_columns(links, 6), *_columns(moved, 3)])
        return positions

    def _tenants_of(self, curs: Cursor[DictRow], events: Sequence[StoredEvent]) -> list[UUID]:
        known = self._tenants
        unknown = {
            _uuid(e.originator_id)
            for e in events
            if e.originator_version > 1 and _uuid(e.originator_id) not in known
        }
        found: dict[UUID, UUID] = {}
        if unknown:
            curs.execute(
                "SELECT DISTINCT originator_id, tenant_id FROM event_chain"
                " WHERE originator_id = ANY(%s)",
                (sorted(unknown),),
            )
            found = {row["originator_id"]: row["tenant_id"] for row in curs.fetchall()}
        tenants = []
        for event in events:
            originator = _uuid(event.originator_id)
            tenant = known.get(originator) or found.get(originator)
            if tenant is None:
                tenant = (
                    tenant_in_state(originator, event.topic, event.state)
                    if event.originator_version == 1
                    else NO_TENANT
                )
                found[originator] = tenant
            tenants.append(tenant)
        with self._tenants_guard:
            if len(known) + len(found) > _KNOWN_TENANTS:
                known.clear()
            known.update(found)
        return tenants


# The links and the tenants' new heads, in one statement of arrays.
_LINK = (
    "WITH linked AS (INSERT INTO event_chain (position, tenant_id, originator_id,"
    " originator_version, prev_position, hash) SELECT * FROM unnest(%b::bigint[], %b::uuid[],"
    " %b::uuid[], %b::bigint[], %b::bigint[], %b::bytea[]))"
    " INSERT INTO event_chain_heads (tenant_id, position, hash)"
    " SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::bytea[])"
    " ON CONFLICT (tenant_id) DO UPDATE SET position = EXCLUDED.position, hash = EXCLUDED.hash"
)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


@dataclass(frozen=True)
class Break:
    """A link of a chain that does not hold, and how."""

    position: int
    tenant_id: UUID | None
    aggregate_id: UUID | None
    aggregate_version: int | None
    kind: str  # altered | inserted | deleted | truncated
    detail: str


@dataclass
class Verification:
    checked: int = 0
    breaks: list[Break] | None = None
    heads: dict[UUID, tuple[int, bytes]] | None = None

    @property
    def ok(self) -> bool:
        return not self.breaks
