"""Reading what changed in several aggregates with one query (`LedgerRepository.prefetch`).

A command reads several aggregates (the invoice, the tenant, the customer, the customer's
account), and the repository brings each cached one up to date with a query of its own:
four queries where one does. Here each id comes with the version the caller holds (0 for
one it does not hold), and the answer is every later event of the held ones and, of the
others, only a first event, which tells whether they exist at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Composed, Identifier

from projections.event_chain import ChainedRecorder, uuid_literal
from projections.event_feed import stored_event


class BatchedReads(ChainedRecorder):
    def select_events_after(self, held: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """The events after each (id, version) of `held` in version order, grouped by id; of
        an id held at version 0, its first event only."""
        if not held:
            return []
        shape = tuple(version > 0 for _, version in held)
        params: list[object] = []
        for aggregate_id, version in held:
            params += [aggregate_id, version] if version > 0 else [aggregate_id]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._query(shape), params, prepare=True)
            return [stored_event(row) for row in curs.fetchall()]

    def events_after_statement(self, held: Sequence[tuple[UUID, int]]) -> str:
        """`select_events_after`'s query with the values written in, to end a simple query
        of several statements (those take no parameters); `stored_events` reads its rows."""
        branches = [
            f"(SELECT originator_id, originator_version, topic, state FROM {self._table}"  # noqa: S608
            f" WHERE originator_id = {uuid_literal(aggregate_id)} AND originator_version"
            + (f" > {version:d})" if version > 0 else " = 1)")
            for aggregate_id, version in held
        ]
        return " UNION ALL ".join(branches) + " ORDER BY originator_id, originator_version"

    @staticmethod
    def stored_events(rows: Sequence[Any]) -> list[StoredEvent]:
        return [stored_event(row) for row in rows]

    @lru_cache(maxsize=64)  # noqa: B019 - one recorder per application, a few shapes each
    def _query(self, shape: tuple[bool, ...]) -> Composed:
        """One branch per id, each a lookup of the primary key that a prepared (generic)
        plan keeps as an index scan: an unnest join of the ids let the plan made while the
        table was small scan the whole table on every read later."""
        table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        after = SQL("originator_version > %s")
        first = SQL("originator_version = 1")
        branches = [
            SQL(
                "(SELECT originator_id, originator_version, topic, state FROM {table}"
                " WHERE originator_id = %s AND {version})"
            ).format(table=table, version=after if held else first)
            for held in shape
        ]
        return SQL("{} ORDER BY originator_id, originator_version").format(
            SQL(" UNION ALL ").join(branches)
        )
