"""Reading what changed in several aggregates with one query (`LedgerRepository.prefetch`).

A command reads several aggregates (the invoice, the tenant, the customer, the customer's
account), and the repository brings each cached one up to date with a query of its own:
four queries where one does. Here each id comes with the version the caller holds (0 for
one it does not hold), and the answer is every later event of the held ones and, of the
others, only a first event, which tells whether they exist at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier

from projections.event_chain import ChainedRecorder


class BatchedReads(ChainedRecorder):
    def select_events_after(self, held: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """The events after each (id, version) of `held` in version order, grouped by id; of
        an id held at version 0, its first event only."""
        if not held:
            return []
        query = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state"
            " FROM {schema}.{table} e"
            " JOIN unnest(%s::uuid[], %s::bigint[]) AS held(id, version)"
            " ON e.originator_id = held.id AND e.originator_version > held.version"
            " AND (held.version > 0 OR e.originator_version = 1)"
            " ORDER BY e.originator_id, e.originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, ([i for i, _ in held], [v for _, v in held]), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]
