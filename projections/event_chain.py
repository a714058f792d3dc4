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

import contextlib
import hashlib
import struct
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection, Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow

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
        self._table = f"{_identifier(self.datastore.schema)}.{_identifier(self.events_table_name)}"
        self._appending = threading.local()
        self._lock_and_notify = (
            f"SET LOCAL lock_timeout = '{self.datastore.lock_timeout:d}s';"
            f" LOCK TABLE {self._table} IN EXCLUSIVE MODE;"
            f" NOTIFY {_identifier(self.channel_name)};"
        )
        self._id_cast = "::uuid" if self.datastore.originator_id_type == "uuid" else "::text"

    @contextlib.contextmanager
    def appending_in(self, conn: Connection[DictRow]) -> Iterator[None]:
        """This thread's appends in the block join `conn` and its open transaction (the one
        holding a batch's series locks), so the append's commit also lets go of the locks."""
        self._appending.conn = conn
        try:
            yield
        finally:
            self._appending.conn = None

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Append in two round trips where the library takes six (BEGIN; lock, notify and
        lock timeout; insert; read the heads; link; COMMIT): the first query begins (unless
        it joins the transaction holding the batch's series locks), locks, reads the
        tenants' heads and inserts; the second links and commits. Every value is written
        into the statement as a literal it cannot escape from (numbers, uuids, hex bytea,
        E-quoted topics): multi-statement queries take no parameters. No pipeline mode: a
        large save (a batch of a thousand usage events) left the connection waiting
        forever in the pipeline's sync (see psycopg issue 685).

        On an error the connection's owner rolls the transaction back."""
        if not stored_events:
            return None
        joined: Connection[DictRow] | None = getattr(self._appending, "conn", None)
        connection = self.datastore.get_connection() if joined is None else _joining(joined)
        with connection as conn, conn.cursor() as curs:
            tenants = self._tenants_of(curs, stored_events)
            involved = sorted(set(tenants))
            begin = "BEGIN; " if conn.info.transaction_status == TransactionStatus.IDLE else ""
            curs.execute(begin + self._append_statement(stored_events, involved), prepare=False)
            for _ in range(4 if begin else 3):  # BEGIN, SET, LOCK and NOTIFY answer no rows
                curs.nextset()
            heads: dict[UUID, tuple[int | None, bytes]] = {
                row["tenant_id"]: (row["position"], bytes(row["hash"])) for row in curs.fetchall()
            }
            curs.nextset()  # the insert's positions, in the order of the events
            positions = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
            assert positions is not None
            assert len(positions) == len(stored_events)
            curs.execute(
                self._link_statement(stored_events, positions, tenants, heads), prepare=False
            )
            return positions

    def _append_statement(self, events: Sequence[StoredEvent], tenants: list[UUID]) -> str:
        id_cast = self._id_cast
        rows = ", ".join(
            f"({text_literal(str(e.originator_id))}{id_cast}, {e.originator_version:d},"
            f" {text_literal(e.topic)}, {bytea_literal(e.state)})"
            for e in events
        )
        # Every value is a literal of the helpers below: nothing in it can end a string.
        return (
            f"{self._lock_and_notify} SELECT tenant_id, position, hash FROM event_chain_heads"  # noqa: S608
            f" WHERE tenant_id IN ({', '.join(uuid_literal(t) for t in tenants)});"
            f" INSERT INTO {self._table} (originator_id, originator_version, topic, state)"
            f" VALUES {rows} RETURNING notification_id"
        )

    @staticmethod
    def _link_statement(
        events: Sequence[StoredEvent],
        positions: Sequence[int],
        tenants: list[UUID],
        heads: dict[UUID, tuple[int | None, bytes]],
    ) -> str:
        """The links, the tenants' new heads and the commit, in one statement."""
        links = []
        for event, position, tenant in zip(events, positions, tenants, strict=True):
            previous_position, previous = heads.get(tenant, (None, GENESIS))
            originator = _uuid(event.originator_id)
            digest = link_hash(
                previous, position, originator, event.originator_version, event.topic, event.state
            )
            links.append(
                f"({position:d}, {uuid_literal(tenant)}, {uuid_literal(originator)},"
                f" {event.originator_version:d},"
                f" {'NULL' if previous_position is None else f'{previous_position:d}'},"
                f" {bytea_literal(digest)})"
            )
            heads[tenant] = (position, digest)
        moved = ", ".join(
            f"({uuid_literal(tenant)}, {position:d}, {bytea_literal(digest)})"
            for tenant, (position, digest) in heads.items()
        )
        return (
            "WITH linked AS (INSERT INTO event_chain (position, tenant_id, originator_id,"  # noqa: S608
            f" originator_version, prev_position, hash) VALUES {', '.join(links)})"
            f" INSERT INTO event_chain_heads (tenant_id, position, hash) VALUES {moved}"
            " ON CONFLICT (tenant_id) DO UPDATE SET position = EXCLUDED.position,"
            " hash = EXCLUDED.hash; COMMIT"
        )

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


@contextlib.contextmanager
def _joining(conn: Connection[DictRow]) -> Iterator[Connection[DictRow]]:
    """A connection someone else checked out, with errors as the library's connections
    raise them (a conflict is the `IntegrityError` the ledger decides again on)."""
    try:
        yield conn
    except psycopg.Error as error:
        for raised, raise_as in _ERRORS:
            if isinstance(error, raised):
                raise raise_as(str(error)) from error
        raise


_ERRORS: list[tuple[type[psycopg.Error], type[persistence.PersistenceError]]] = [
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.NotSupportedError, persistence.NotSupportedError),
    (psycopg.DatabaseError, persistence.DatabaseError),
    (psycopg.Error, persistence.PersistenceError),
]


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_literal(value: str) -> str:
    """A string constant that means `value` whatever standard_conforming_strings says."""
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def bytea_literal(value: bytes) -> str:
    return f"E'\\\\x{value.hex()}'::bytea"


def uuid_literal(value: UUID) -> str:
    return f"'{value}'::uuid"


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
