"""The event store's index of usage keys: each key names one recorded usage event, ever.

`UsageKeyClaims` extends the chained recorder (mixed into the Ledger's recorder,
`projections/ledger_recorder.py`): after the insert, in the same transaction and under the
events table's EXCLUSIVE lock, it claims every key of each `UsageBatch.Recorded` being
appended in `usage_keys` (migration 0010). A key claimed before fails the insert with an
IntegrityError, so the save fails whole, and the ledger decides the batch again, now
looking its keys up (`claimed_usage_keys`). Not a read model: it is written with the
events, never behind them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow

from ledger.domain.usage import UsageBatch
from projections.event_chain import ChainedRecorder

USAGE_BATCH_RECORDED = get_topic(UsageBatch.Recorded)

_CLAIM = (
    "INSERT INTO usage_keys (subscription_id, key, position)"
    " SELECT %s, key, %s FROM unnest(%s::text[]) AS key"
)


class UsageKeyClaims(ChainedRecorder):
    """Claims the usage keys of the events it appends; cooperative, so it combines with
    other extensions of the chained recorder."""

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        for event, position in zip(stored_events, positions, strict=True):
            if event.topic == USAGE_BATCH_RECORDED:
                subscription_id, keys = _claims(event.state)
                # No ON CONFLICT: a key claimed before must fail the whole append.
                curs.execute(_CLAIM, (subscription_id, position, keys))
        return positions

    def claimed_usage_keys(self, subscription_id: UUID, keys: Collection[str]) -> set[str]:
        """Which of `keys` the subscription's recorded usage already holds."""
        if not keys:
            return set()
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT key FROM usage_keys WHERE subscription_id = %s AND key = ANY(%s::text[])",
                (subscription_id, list(keys)),
            )
            return {row["key"] for row in curs.fetchall()}


def _claims(state: bytes) -> tuple[UUID, list[str]]:
    """The subscription and keys of a stored `UsageBatch.Recorded`, read from its JSON
    without decoding the quantities and timestamps (the id is a tagged uuid)."""
    data = orjson.loads(state)
    return UUID(hex=data["subscription_id"]["_data_"]), data["keys"]
