"""Where the per-customer keys of `ledger.privacy` live, and their destruction.

A key is made (in its own committed transaction) before the first event it seals is saved:
a failed save leaves an unused key behind, never an event no key can open. The key is
destroyed by the recorder in the transaction that appends the customer's Erased event, so
erasure and its record commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow

from ledger.domain.customer import Customer
from projections.event_chain import ChainedRecorder

_ERASED_TOPIC = get_topic(Customer.__dict__["Erased"])

_CREATE = (
    "WITH made AS (INSERT INTO personal_keys (subject_id, key) VALUES (%(subject)s, %(key)s)"
    " ON CONFLICT (subject_id) DO NOTHING RETURNING key)"
    " SELECT key FROM made UNION ALL SELECT key FROM personal_keys WHERE subject_id = %(subject)s"
)
_DESTROY = (
    "INSERT INTO personal_keys (subject_id, key, erased_at) SELECT subject, NULL, now()"
    " FROM unnest(%s::uuid[]) AS subject ON CONFLICT (subject_id)"
    " DO UPDATE SET key = NULL, erased_at = coalesce(personal_keys.erased_at, now())"
)


class PostgresKeyRing:
    """The `personal_keys` table, through the application recorder's connections."""

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self._datastore = recorder.datastore

    def fetch(self, subject: UUID) -> bytes | None:
        with self._datastore.transaction(commit=False) as curs:
            curs.execute("SELECT key FROM personal_keys WHERE subject_id = %s", (subject,))
            row = curs.fetchone()
        return _key(row)

    def create(self, subject: UUID) -> bytes | None:
        key = AESGCM.generate_key(bit_length=256)
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(_CREATE, {"subject": subject, "key": key})
            row = curs.fetchone()
        return _key(row)

    def destroyed(self, subject: UUID) -> None:
        """Nothing to do here: the recorder destroyed it with the Erased event."""


def _key(row: Any) -> bytes | None:
    if row is None or row["key"] is None:
        return None
    return bytes(row["key"])


class ErasingRecorder(ChainedRecorder):
    """The chained recorder, also destroying the key of each customer it records erased."""

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        erased = [e.originator_id for e in stored_events if e.topic == _ERASED_TOPIC]
        if erased:
            curs.execute(_DESTROY, (erased,))
        return positions
