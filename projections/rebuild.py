"""Rebuilding a read model beside the live one, then swapping it in; or diffing the two.

The replay writes into same-named tables in a scratch schema `rebuild_<projection>`
(`CREATE TABLE ... (LIKE public.T INCLUDING ALL)`): its connections run with
`search_path` set to that schema first, so the projections' unqualified SQL needs no
change, and readers keep reading the live tables meanwhile.

Which position the new tables reach depends on who projects:

- No projector runs (this process gets the projection's advisory lock and keeps it): the
  replay goes to the store's head, and the swap writes that position.
- A projector runs elsewhere (the lock is taken): the rebuild follows that projector's
  committed position instead of the head, and swaps under table locks at exactly that
  position, so the projector carries on into the new tables from where it was, without
  stopping. A projector's committed position may trail its own by events it does not use
  only, which change no rows.

The swap is one transaction: lock the live tables (and the tracking row), catch the new
tables up to the position, drop the old tables, move the new ones into `public` and give
their indexes the old names. Readers see all of the old model or all of the new one.
Grants on the old tables are not carried over (the application owns its tables).
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.state import StateProjection
from projections.view import View

Progress = Callable[[int, int], None]
TView = TypeVar("TView", bound=View)

# How long the swap (or check) waits for the live tables' locks before trying again; the
# new tables are caught up between attempts.
LOCK_TIMEOUT = "10s"
LOCK_ATTEMPTS = 6


class RebuildRunning(RuntimeError):
    """Raised when a rebuild or check of the same projection is already running."""


def lock_key(projection_name: str) -> int:
    """The advisory lock a projection's leading projector holds."""
    return zlib.crc32(f"ledger-projection:{projection_name}".encode())


def _rebuild_key(projection_name: str) -> int:
    return zlib.crc32(f"ledger-rebuild:{projection_name}".encode())


class _ScratchDatastore(PostgresDatastore):
    """A datastore whose connections resolve unqualified names in `schema` first, and
    commit without waiting for the disk: a crash loses the scratch tables anyway (a rebuild
    starts over), and the swap's own commit, which waits, makes everything before it
    durable."""

    def after_connect_func(self) -> Callable[[psycopg.Connection[Any]], None]:
        configure = super().after_connect_func()
        search_path = sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema))

        def after_connect(conn: psycopg.Connection[Any]) -> None:
            configure(conn)
            conn.execute(search_path)
            conn.execute("SET synchronous_commit TO off")

        return after_connect


def scratch_view(
    location: DatabaseLocation, schema: str, view_class: type[TView], tracking_table_name: str
) -> tuple[TView, PostgresDatastore]:
    """A view of the tables in the scratch `schema`, and the datastore it connects with."""
    datastore = _ScratchDatastore(
        dbname=location.dbname,
        host=location.host,
        port=location.port,
        user=location.user,
        password=location.password,
        schema=schema,
        pool_size=1,
        max_overflow=1,
    )
    return view_class(datastore=datastore, tracking_table_name=tracking_table_name), datastore


@dataclass
class TableDiff:
    """One table's difference: rows only the rebuild has (missing from the live table) and
    rows only the live table has (extra), with a few of each as JSON text."""

    table: str
    missing: int = 0
    extra: int = 0
    missing_examples: list[str] = field(default_factory=list)
    extra_examples: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.missing == 0 and self.extra == 0


class Scratch:
    """A projection replayed into scratch tables. Use as a context manager: on exit the
    scratch schema is dropped and the locks are released."""

    def __init__(
        self,
        app: Ledger,
        name: str,
        live: View,
        projection_cls: type[StateProjection[Any]],
        location: DatabaseLocation,
    ) -> None:
        self.app = app
        self.name = name
        self.live = live
        self.location = location
        self.schema = f"rebuild_{name}"
        self.position = 0
        self.replayed = 0
        self.seconds = 0.0  # spent on this projection's rows in a replay with others
        self.analyzed = False
        self._lock_conn = psycopg.connect(location.conninfo(), autocommit=True)
        self._datastore: PostgresDatastore | None = None
        try:
            if not self._try_lock(_rebuild_key(name)):
                raise RebuildRunning(f"a rebuild or check of {name} is already running")
            # Holding the projection's lock keeps projectors out for the whole rebuild.
            self.leading = self._try_lock(lock_key(name))
            self._create_tables()
            self.view, self._datastore = scratch_view(
                location, self.schema, type(live), live.tracking_table_name
            )
            self.view.create_table()
            self.projection = projection_cls(self.view, app.repository)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._datastore is not None:
            self._datastore.close()
            self._datastore = None
        if not self._lock_conn.closed:
            with contextlib.suppress(psycopg.Error):
                self._lock_conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
                )
            self._lock_conn.close()  # releases the advisory locks

    def _try_lock(self, key: int) -> bool:
        row = self._lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        return bool(row and row[0])

    def _create_tables(self) -> None:
        schema = sql.Identifier(self.schema)
        with self._lock_conn.transaction():
            # A scratch schema left by a killed rebuild of this projection is stale.
            self._lock_conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
            self._lock_conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
            for table in self.live.tables:
                self._lock_conn.execute(
                    sql.SQL("CREATE TABLE {}.{} (LIKE public.{} INCLUDING ALL)").format(
                        schema, sql.Identifier(table), sql.Identifier(table)
                    )
                )

    def live_position(self) -> int:
        return self.live.position(self.app.name)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def replay(self, stop: int, progress: Progress, batch: int) -> None:
        """Project the recorded events after `position` up to `stop` into the scratch
        tables (`stop` must not exceed the head, so every event up to it is recorded)."""
        while self.position < stop:
            notifications = self.app.recorder.select_notifications(
                self.position, batch, stop=stop, inclusive_of_start=False
            )
            if not notifications:
                break
            self.projection.process_notifications(self.app, notifications)
            self.position = notifications[-1].id
            self.replayed += len(notifications)
            progress(self.position, stop)
        self.position = max(self.position, stop)

    def target(self) -> int:
        """Where the new tables must be at the swap: the head if this process keeps the
        projectors out, else the live projector's committed position."""
        return self.head() if self.leading else self.live_position()

    def catch_up(
        self, progress: Progress, batch: int, target: Callable[[], int] | None = None
    ) -> None:
        """Replay to the target (default `self.target`) until it stops moving ahead of the
        replay by much."""
        for _ in range(100):
            position = (target or self.target)()
            if position - self.position <= batch // 10:
                return
            self.replay(position, progress, batch)

    @contextlib.contextmanager
    def _locked(self, table_mode: str, tracking_mode: str) -> Iterator[psycopg.Connection[Any]]:
        """A transaction holding the live tables' locks (retried on lock timeouts, catching
        nothing up in between: the caller does, inside)."""
        tables = sql.SQL(", ").join(
            sql.SQL("public.{}").format(sql.Identifier(t)) for t in self.live.tables
        )
        tracking = sql.SQL("public.{}").format(sql.Identifier(self.live.tracking_table_name))
        for attempt in range(LOCK_ATTEMPTS):
            conn = psycopg.connect(self.location.conninfo())
            try:
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(LOCK_TIMEOUT))
                conn.execute(
                    sql.SQL("LOCK TABLE {} IN {} MODE").format(tables, sql.SQL(table_mode))
                )
                conn.execute(
                    sql.SQL("LOCK TABLE {} IN {} MODE").format(tracking, sql.SQL(tracking_mode))
                )
            except psycopg.errors.LockNotAvailable:
                conn.close()
                if attempt == LOCK_ATTEMPTS - 1:
                    raise
                continue
            with conn:  # commits on success, rolls back on an exception
                yield conn
            return

    def _locked_position(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            sql.SQL("SELECT notification_id FROM public.{} WHERE application_name = %s").format(
                sql.Identifier(self.live.tracking_table_name)
            ),
            (self.app.name,),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def analyze(self) -> None:
        """Gather the new tables' statistics (the swap does, unless done before: several
        scratches analyze at once, each on its own connection)."""
        for table in self.live.tables:
            self._lock_conn.execute(
                sql.SQL("ANALYZE {}.{}").format(sql.Identifier(self.schema), sql.Identifier(table))
            )
        self.analyzed = True

    def swap(self, progress: Progress, batch: int) -> int:
        """Replace the live tables by the scratch ones in one transaction; return the
        position the new tables have reached (and the view tracks)."""
        if not self.analyzed:
            self.analyze()
        # Readers wait for the swap's locks: take them only when little is left to replay.
        self.catch_up(progress, batch)
        with self._locked("ACCESS EXCLUSIVE", "EXCLUSIVE") as conn:
            if not self.leading:
                # The projector is stopped at its committed position: meet it there.
                self.replay(self._locked_position(conn), progress, batch)
            self.view.flush(self.app.name)
            for table in self.live.tables:
                self._move(conn, table)
            conn.execute(
                sql.SQL(
                    "INSERT INTO public.{} (application_name, notification_id) VALUES (%s, %s)"
                    " ON CONFLICT (application_name) DO UPDATE"
                    " SET notification_id = EXCLUDED.notification_id"
                ).format(sql.Identifier(self.live.tracking_table_name)),
                (self.app.name, self.position),
            )
        self.live._moved_to(self.position)
        return self.position

    def _move(self, conn: psycopg.Connection[Any], table: str) -> None:
        """Drop the live table and move the scratch one into its place, renaming its
        indexes (and so their constraints) to the old names."""
        new = _indexes(conn, self.schema, table)
        old = _indexes(conn, "public", table)
        schema = sql.Identifier(self.schema)
        renames: list[tuple[str, str]] = []
        for index, definition in new.items():
            names = [name for name, d in old.items() if d == definition]
            if names:
                renames.append((index, names[0]))
                del old[names[0]]
        # Through temporary names, in case one index's new name is another's old one.
        for n, (index, _) in enumerate(renames):
            conn.execute(
                sql.SQL("ALTER INDEX {}.{} RENAME TO {}").format(
                    schema, sql.Identifier(index), sql.Identifier(f"rebuild_swap_{n}")
                )
            )
        for n, (_, name) in enumerate(renames):
            conn.execute(
                sql.SQL("ALTER INDEX {}.{} RENAME TO {}").format(
                    schema, sql.Identifier(f"rebuild_swap_{n}"), sql.Identifier(name)
                )
            )
        conn.execute(sql.SQL("DROP TABLE public.{}").format(sql.Identifier(table)))
        conn.execute(
            sql.SQL("ALTER TABLE {}.{} SET SCHEMA public").format(schema, sql.Identifier(table))
        )

    def diff(self, progress: Progress, batch: int, examples: int = 3) -> list[TableDiff]:
        """Compare the scratch tables with the live ones at the live tracked position."""
        self.catch_up(progress, batch, self.live_position)
        diffs = []
        with self._locked("SHARE", "SHARE") as conn:
            self.replay(self._locked_position(conn), progress, batch)
            for table in self.live.tables:
                found = TableDiff(table)
                rebuilt = sql.SQL("{}.{}").format(
                    sql.Identifier(self.schema), sql.Identifier(table)
                )
                live = sql.SQL("public.{}").format(sql.Identifier(table))
                for first, second, kind in ((rebuilt, live, "missing"), (live, rebuilt, "extra")):
                    only = sql.SQL("SELECT * FROM {} EXCEPT ALL SELECT * FROM {}").format(
                        first, second
                    )
                    count = conn.execute(sql.SQL("SELECT count(*) FROM ({}) r").format(only))
                    row = count.fetchone()
                    setattr(found, kind, int(row[0]) if row else 0)
                    shown = conn.execute(
                        sql.SQL("SELECT to_jsonb(r)::text FROM ({}) r LIMIT %s").format(only),
                        (examples,),
                    )
                    getattr(found, f"{kind}_examples").extend(r[0] for r in shown.fetchall())
                diffs.append(found)
            conn.rollback()
        return diffs


def _indexes(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, str]:
    """A table's indexes: name -> definition without the name and the table's schema."""
    rows = conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = %s AND t.relname = %s ORDER BY c.relname",
        (schema, table),
    ).fetchall()
    result = {}
    for name, definition in rows:
        head, _, tail = str(definition).partition(" USING ")
        result[str(name)] = ("UNIQUE " if head.startswith("CREATE UNIQUE") else "") + tail
    return result


def rebuild_projection(
    app: Ledger,
    name: str,
    live: View,
    projection_cls: type[StateProjection[Any]],
    location: DatabaseLocation,
    progress: Progress,
    batch: int,
) -> int:
    """Rebuild into scratch tables and swap them in; return how many events were replayed."""
    with Scratch(app, name, live, projection_cls, location) as scratch:
        scratch.replay(scratch.target(), progress, batch)
        scratch.swap(progress, batch)
        return scratch.replayed


def check_projection(
    app: Ledger,
    name: str,
    live: View,
    projection_cls: type[StateProjection[Any]],
    location: DatabaseLocation,
    progress: Progress,
    batch: int,
) -> list[TableDiff]:
    """Rebuild into scratch tables and compare them with the live ones (the scratch tables
    are dropped)."""
    with Scratch(app, name, live, projection_cls, location) as scratch:
        scratch.replay(scratch.live_position(), progress, batch)
        return scratch.diff(progress, batch)
