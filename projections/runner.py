"""Running the projections: one thread per projection, one active runner per database.

A runner projects only while it holds its projection's PostgreSQL advisory lock, so any
number of API processes and `ledger project` workers can start runners safely: one
projects, the others stand by and take over when it goes away.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from psycopg import sql

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.credit_note_list import CreditNoteListing, CreditNoteListView
from projections.customer_list import CustomerListing, CustomerListView
from projections.invoice_list import InvoiceListing, InvoiceListView
from projections.rebuild import TableDiff, check_projection, lock_key, rebuild_projection
from projections.rebuild_together import Rebuilt, rebuild_projections
from projections.receivables import Receivables, ReceivablesView
from projections.revenue import RevenueChanges, RevenueView
from projections.state import StateProjection
from projections.tax_reports import TaxReports, TaxReportsView
from projections.usage import UsageCounters, UsageView
from projections.view import View

log = structlog.get_logger("projections")

# Every read model, with the view class that owns its tables.
CATALOGUE: dict[str, tuple[type[StateProjection[Any]], type[View]]] = {
    InvoiceListing.name: (InvoiceListing, InvoiceListView),
    CustomerListing.name: (CustomerListing, CustomerListView),
    CreditNoteListing.name: (CreditNoteListing, CreditNoteListView),
    Receivables.name: (Receivables, ReceivablesView),
    TaxReports.name: (TaxReports, TaxReportsView),
    UsageCounters.name: (UsageCounters, UsageView),
    RevenueChanges.name: (RevenueChanges, RevenueView),
}


@dataclass
class Projector:
    """A projection with its view, and the thread that feeds it while it leads."""

    name: str
    projection: StateProjection[Any]
    view: View
    thread: threading.Thread | None = None
    leading: bool = False
    # Set when events may have been recorded since the projector last looked.
    wake: threading.Event = field(default_factory=threading.Event)


class Feed:
    """The recorded events the projectors of a process read: projectors at the same
    position (the usual case, as they are woken together) share one query. Any prefix of
    what follows a position is a correct answer; the rest comes with the next read."""

    def __init__(self, app: Ledger, limit: int) -> None:
        self._app = app
        self._limit = limit
        self._lock = threading.Lock()
        self._last: tuple[int, Sequence[Notification]] = (-1, ())

    def after(self, position: int) -> Sequence[Notification]:
        with self._lock:
            read_after, notifications = self._last
            if read_after == position and notifications:
                return notifications
            notifications = self._app.recorder.select_notifications(
                position, self._limit, inclusive_of_start=False
            )
            self._last = (position, notifications)
            return notifications


class Projectors:
    """All read models of one process, over the application's connection pool.

    A leading projector reads what was recorded after its position in batches of up to
    `BATCH` events and writes each batch's rows and its position in one transaction. It
    looks again when this process records events (at once), when PostgreSQL notifies that
    another process did (one LISTEN connection per process), and every `POLL` seconds.
    After a batch it pauses up to `LINGER` seconds, so that under load a transaction
    carries many events, not one; a reader waiting for the view ends the pause at once.
    """

    BATCH = 500
    POLL = 1.0
    LINGER = 0.05

    def __init__(self, app: Ledger, location: DatabaseLocation) -> None:
        self.app = app
        self.location = location
        self._feed = Feed(app, self.BATCH)
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        factory = app.factory
        assert isinstance(factory, PostgresFactory)
        self.by_name: dict[str, Projector] = {}
        for name, (projection_cls, view_cls) in CATALOGUE.items():
            view = view_cls(datastore=factory.datastore, tracking_table_name=f"{name}_tracking")
            view.create_table()
            self.by_name[name] = Projector(name, projection_cls(view, app.repository), view)

    def view(self, name: str) -> View:
        return self.by_name[name].view

    def start(self) -> None:
        self._stopping.clear()
        self.app.recorded_listeners.append(self._recorded)
        self._listener = threading.Thread(
            target=self._listen, name="projectors-listen", daemon=True
        )
        self._listener.start()
        for projector in self.by_name.values():
            projector.thread = threading.Thread(
                target=self._run,
                args=(projector,),
                name=f"projector-{projector.name}",
                daemon=True,
            )
            projector.thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(ValueError):
            self.app.recorded_listeners.remove(self._recorded)
        self._wake_all()
        for projector in self.by_name.values():
            projector.view.want()
        for thread in (self._listener, *(p.thread for p in self.by_name.values())):
            if thread is not None:
                thread.join(timeout=10)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def lag(self) -> dict[str, int]:
        head = self.head()
        return {name: head - p.view.position(self.app.name) for name, p in self.by_name.items()}

    def wait_for(self, names: tuple[str, ...], position: int, timeout: float) -> bool:
        """Block until every named view has processed `position`."""
        return all(
            self.by_name[name].view.wait_for(self.app.name, position, timeout) for name in names
        )

    def _recorded(self, count: int) -> None:
        self._wake_all()

    def _wake_all(self) -> None:
        for projector in self.by_name.values():
            projector.wake.set()

    def _listen(self) -> None:
        """Wake the projectors when another process records events."""
        recorder = self.app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        listen = sql.SQL("LISTEN {}").format(sql.Identifier(recorder.channel_name))
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.location.conninfo(), autocommit=True) as conn:
                    conn.execute(listen)
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=self.POLL, stop_after=1):
                            self._wake_all()
            except Exception:
                log.exception("projectors_listen_failed")
                self._stopping.wait(self.POLL)

    def _run(self, projector: Projector) -> None:
        while not self._stopping.is_set():
            try:
                self._lead(projector)
            except Exception:
                log.exception("projector_failed", projection=projector.name)
            self._stopping.wait(1.0)

    def _lead(self, projector: Projector) -> None:
        with psycopg.connect(self.location.conninfo(), autocommit=True) as lock_conn:
            row = lock_conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (lock_key(projector.name),)
            ).fetchone()
            if not row or not row[0]:
                return  # another process projects; try again later
            projector.leading = True
            log.info("projector_leading", projection=projector.name)
            try:
                position = projector.view.max_tracking_id(self.app.name) or 0
                while not self._stopping.is_set():
                    projector.wake.clear()
                    notifications = self._feed.after(position)
                    if notifications:
                        projector.projection.process_notifications(self.app, notifications)
                        position = notifications[-1].id
                        if len(notifications) < self.BATCH:
                            projector.view.linger(self.LINGER)
                        continue
                    projector.view.flush(self.app.name)  # caught up: the position is written
                    if not projector.wake.wait(self.POLL):
                        lock_conn.execute("SELECT 1")  # the lock's session is still there
            finally:
                projector.leading = False


class ProjectorRunning(RuntimeError):
    """Raised when a rebuild is asked for while a projector of that projection runs (no
    longer: a rebuild now follows a running projector and swaps at its position)."""


def rebuild(
    app: Ledger,
    projector: Projector,
    location: DatabaseLocation,
    progress: Callable[[int, int], None] = lambda done, total: None,
    batch: int = 1000,
) -> int:
    """Replay every event into new tables beside the live ones and swap them in, in one
    transaction; return how many events were replayed. See `projections.rebuild`."""
    return rebuild_projection(
        app,
        projector.name,
        projector.view,
        type(projector.projection),
        location,
        progress,
        batch,
    )


def rebuild_all(
    app: Ledger,
    projectors: list[Projector],
    location: DatabaseLocation,
    progress: Callable[[int, int], None] = lambda done, total: None,
    batch: int = 5000,
    workers: int = 1,
) -> Rebuilt:
    """Rebuild several projections in one read of the store and swap each in, the replay
    in `workers` processes when it is long. See `projections.rebuild_together`."""
    return rebuild_projections(
        app,
        [(p.name, p.view, type(p.projection)) for p in projectors],
        location,
        progress,
        batch,
        workers,
    )


def check(
    app: Ledger,
    projector: Projector,
    location: DatabaseLocation,
    progress: Callable[[int, int], None] = lambda done, total: None,
    batch: int = 1000,
) -> list[TableDiff]:
    """Replay every event into scratch tables and diff them with the live tables."""
    return check_projection(
        app,
        projector.name,
        projector.view,
        type(projector.projection),
        location,
        progress,
        batch,
    )
