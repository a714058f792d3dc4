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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
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
    }


def link_hash(
    previous: bytes, position: int, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """SHA-256 over the tenant's previous hash and everything stored for the event."""
    digest = hashlib.sha256(previous)
    topic_bytes = topic.encode()
    digest.update(struct.pack(">qq", position, version))
    digest.update(originator_id.bytes)
    digest.update(struct.pack(">I", len(topic_bytes)))
    digest.update(topic_bytes)
    digest.update(state)
    return digest.digest()


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
        curs.executemany(
            "INSERT INTO event_chain (position, tenant_id, originator_id, originator_version,"
            " prev_position, hash) VALUES (%s, %s, %s, %s, %s, %s)",
            links,
        )
        curs.executemany(
            "INSERT INTO event_chain_heads (tenant_id, position, hash) VALUES (%s, %s, %s)"
            " ON CONFLICT (tenant_id) DO UPDATE SET position = EXCLUDED.position,"
            " hash = EXCLUDED.hash",
            [(tenant, *heads[tenant]) for tenant in involved],
        )
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


@dataclass(frozen=True)
class Link:
    """One position of the store as verification reads it: the event stored there (None
    when deleted) and its link in the chain (None when the event was written by hand)."""

    position: int
    originator_id: UUID | None
    version: int | None
    topic: str | None
    state: bytes | None
    tenant_id: UUID | None  # the link's tenant, or for a hand-written event its aggregate's
    link_originator_id: UUID | None = None
    link_version: int | None = None
    prev_position: int | None = None
    hash: bytes | None = None

    @property
    def linked(self) -> bool:
        return self.hash is not None


@dataclass
class Verification:
    checked: int = 0
    breaks: list[Break] | None = None
    heads: dict[UUID, tuple[int, bytes]] | None = None

    @property
    def ok(self) -> bool:
        return not self.breaks


def check_links(links: Iterable[Link], heads: dict[UUID, tuple[int, bytes]]) -> Verification:
    """Walk the store in position order, recomputing each tenant's chain, and report every
    break. `heads` are the recorded chain heads of the tenants being checked."""
    last: dict[UUID, tuple[int, bytes]] = {}
    breaks: list[Break] = []
    checked = 0
    for link in links:
        checked += 1
        if not link.linked:
            breaks.append(
                Break(
                    link.position,
                    link.tenant_id,
                    link.originator_id,
                    link.version,
                    "inserted",
                    "the event is in no tenant's chain: it was written outside the ledger",
                )
            )
            continue
        assert link.tenant_id is not None
        assert link.hash is not None
        known_position, previous = last.get(link.tenant_id, (None, GENESIS))
        last[link.tenant_id] = (link.position, link.hash)
        if link.originator_id is None:
            breaks.append(
                Break(
                    link.position,
                    link.tenant_id,
                    link.link_originator_id,
                    link.link_version,
                    "deleted",
                    "the chain links an event here that the store no longer holds",
                )
            )
        elif link.prev_position != known_position:
            breaks.append(
                Break(
                    link.position,
                    link.tenant_id,
                    link.originator_id,
                    link.version,
                    "deleted",
                    f"this event links to position {link.prev_position} but the tenant's "
                    f"previous event in the store is at {known_position}: events between "
                    "were deleted with their links",
                )
            )
        else:
            assert link.version is not None
            assert link.topic is not None
            assert link.state is not None
            expected = link_hash(
                previous, link.position, link.originator_id, link.version, link.topic, link.state
            )
            same_event = (link.originator_id, link.version) == (
                link.link_originator_id,
                link.link_version,
            )
            if expected != link.hash or not same_event:
                breaks.append(
                    Break(
                        link.position,
                        link.tenant_id,
                        link.originator_id,
                        link.version,
                        "altered",
                        "the stored event does not hash to its link: it was changed after "
                        "it was appended",
                    )
                )
    for tenant_id, head in heads.items():
        if last.get(tenant_id) != head:
            breaks.append(
                Break(
                    head[0],
                    tenant_id,
                    None,
                    None,
                    "truncated",
                    f"the tenant's chain head is at position {head[0]} but its chain ends "
                    f"at {last.get(tenant_id, (None,))[0]}: its last events were removed",
                )
            )
    breaks.sort(key=lambda b: b.position)
    return Verification(checked, breaks, heads)
