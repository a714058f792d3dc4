"""A tenant's events in store order, read through the hash chain that records their tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore

# Records of answered requests and API keys are the ledger's own bookkeeping, not the
# tenant's business: they stay out of the feed (a key's event holds its secret's hash).
HIDDEN_TOPICS = ("ledger.domain.idempotency:%", "ledger.domain.api_key:%")

_PAGE = (
    "SELECT c.position, e.originator_id, e.originator_version, e.topic, e.state"
    " FROM event_chain c JOIN ledger_events e ON e.notification_id = c.position"
    " WHERE c.tenant_id = %s AND c.position > %s"
    " AND e.topic NOT LIKE %s AND e.topic NOT LIKE %s"
    " ORDER BY c.position LIMIT %s"
)


@dataclass(frozen=True)
class FeedItem:
    position: int
    event: StoredEvent


def stored_event(row: Any) -> StoredEvent:
    """The stored event in a row of the events table (read as a dictionary)."""
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


class EventFeed:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def page(self, tenant_id: UUID, after: int, limit: int) -> list[FeedItem]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(_PAGE, (tenant_id, after, *HIDDEN_TOPICS, limit), prepare=True)
            return [FeedItem(row["position"], stored_event(row)) for row in curs.fetchall()]
