"""The base of every read model: its rows and its tracking position written in one transaction."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import sql

from projections import statement_batches

_RENDERED_KEPT = 256
Statement = tuple[sql.SQL | sql.Composed | str, Sequence[Any] | dict[str, Any]]


class View(PostgresTrackingRecorder):
    """A read model: owns its tables (`tables`), created by migrations, and its tracking row.

    Waiting readers are woken as soon as this process advances the position; positions
    advanced by a projector in another process are seen by polling the tracking table.
    """

    tables: tuple[str, ...] = ()
    SKIPPED_WRITE_SECONDS = 0.2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._position = 0
        self._advanced = threading.Condition()
        self._wanted = threading.Event()
        self._written_at = 0.0
        # Composed statements as rendered once: psycopg renders one again on every execute,
        # which cost more than the rest of a rebuild together. Keyed by id, with the
        # statement kept alive so that its id is not reused.
        self._rendered: dict[int, tuple[object, str]] = {}
        self._inserts: dict[str, statement_batches.Insert | None] = {}
        self._column_types: dict[str, dict[str, str]] = {}

    def record(self, tracking: Tracking, statements: Sequence[Statement] = ()) -> None:
        """Apply the statements and move the tracking position, atomically.

        Upserts are folded into multi-row statements (`statement_batches`). Few statements
        are pipelined: they go to the server without waiting for each other's answers, so
        a batch costs about one round trip and a commit. Many (a rebuild's, a catching up
        projector's) have their appended rows copied instead, and where a copied row meets
        a conflict the transaction runs again without copying."""
        many = len(statements) >= statement_batches.COPY_FROM
        with self.datastore.get_connection() as conn:
            try:
                self._record(conn, tracking, statements, copy=many)
            except (psycopg.errors.UniqueViolation, psycopg.errors.ExclusionViolation):
                if not many:
                    raise
                self._record(conn, tracking, statements, copy=False)
        self._written_at = time.monotonic()
        self._moved_to(tracking.notification_id)

    def _record(
        self,
        conn: psycopg.Connection[Any],
        tracking: Tracking,
        statements: Sequence[Statement],
        copy: bool,
    ) -> None:
        with conn.transaction(), conn.cursor() as curs:
            queries = [(self._query(statement, conn), params) for statement, params in statements]
            self._learn_types(curs, queries)
            if copy:  # COPY cannot run in a pipeline; round trips matter little here
                statement_batches.run(
                    queries, self._parsed, self._types, curs.execute, partial(_copy, curs)
                )
            else:
                # The pipeline ends (and its results are read) before the tracking insert,
                # whose returned row is read on its own.
                with conn.pipeline() if len(statements) > 2 else contextlib.nullcontext():
                    statement_batches.run(queries, self._parsed, self._types, curs.execute)
            self._insert_tracking(curs, tracking)

    def _query(self, statement: sql.SQL | sql.Composed | str, conn: Any) -> str:
        if isinstance(statement, str):
            return statement
        cached = self._rendered.get(id(statement))
        if cached is None or cached[0] is not statement:
            if len(self._rendered) > _RENDERED_KEPT:  # statements built per call: bounded
                self._rendered.clear()
            cached = self._rendered[id(statement)] = (statement, statement.as_string(conn))
        return cached[1]

    def _learn_types(self, curs: Any, queries: list[tuple[str, Any]]) -> None:
        """Read the column types of the tables the queries insert into, once per table (in
        the tables `search_path` finds: a rebuild's scratch tables have the same)."""
        for query, _ in queries:
            insert = self._parsed(query)
            if insert is not None and insert.table not in self._column_types:
                curs.execute(
                    "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute"
                    " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    (insert.table,),
                )
                self._column_types[insert.table] = {
                    str(row["attname"]): str(row["format_type"]) for row in curs.fetchall()
                }

    def _types(self, table: str) -> dict[str, str]:
        return self._column_types[table]

    def _parsed(self, query: str) -> statement_batches.Insert | None:
        if query not in self._inserts:
            self._inserts[query] = statement_batches.parse(query)
        return self._inserts[query]

    def skip(self, tracking: Tracking) -> None:
        """Move past events this view does not use. Their position is written at most every
        `SKIPPED_WRITE_SECONDS` (or with the next rows): until then this process's readers
        see it at once, other processes' readers that long later, and a restart reads those
        events again, which writes nothing."""
        now = time.monotonic()
        if now - self._written_at >= self.SKIPPED_WRITE_SECONDS or self._wanted.is_set():
            self.record(tracking)
        else:
            self._moved_to(tracking.notification_id)

    def flush(self, application_name: str) -> None:
        """Write the position reached, if skipping left it unwritten."""
        if self._position > self.position(application_name):
            self.record(Tracking(application_name, self._position))

    def end_pauses_with(self, wanted: threading.Event) -> None:
        """Share the event that ends the leading projector's pause after a batch (see
        `Projectors.LINGER`) with other views: a reader of any of them ends it."""
        self._wanted = wanted

    def want(self) -> None:
        """End the projector's pause: a reader waits for a position not reached yet."""
        self._wanted.set()

    def _moved_to(self, position: int) -> None:
        with self._advanced:
            if position > self._position:
                self._position = position
                self._advanced.notify_all()

    def position(self, application_name: str) -> int:
        return self.max_tracking_id(application_name) or 0

    def wait_for(self, application_name: str, position: int, timeout: float) -> bool:
        """Block until the view has processed `position`; False on timeout."""
        deadline = time.monotonic() + timeout
        poll = 0.005
        while True:
            if self._position >= position:
                return True
            self.want()
            self._moved_to(self.position(application_name))
            if self._position >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._advanced:
                self._advanced.wait(min(poll, remaining))
            poll = min(poll * 2, 0.1)

    def reset(self, application_name: str) -> None:
        """Empty the tables and forget the position, so the view can be rebuilt."""
        with self.datastore.transaction(commit=True) as curs:
            for table in self.tables:
                curs.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
            curs.execute(
                sql.SQL("DELETE FROM {} WHERE application_name = %s").format(
                    sql.Identifier(self.tracking_table_name)
                ),
                (application_name,),
            )
        with self._advanced:
            self._position = 0

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one of the view's tables in a fixed order, to compare a rebuild with
        the live rows."""
        assert table in self.tables
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                sql.SQL("SELECT * FROM {0} ORDER BY {0}::text").format(sql.Identifier(table))
            )
            return list(curs.fetchall())

    def all_rows(self) -> dict[str, list[dict[str, Any]]]:
        return {table: self.rows(table) for table in self.tables}


def _copy(curs: Any, insert: statement_batches.Insert, rows: list[tuple[Any, ...]]) -> None:
    with curs.copy(insert.copy_statement) as copy:
        for row in rows:
            copy.write_row(row)
