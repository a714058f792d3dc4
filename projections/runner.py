"""Running the projections: one leading thread per process, one leader per projection.

A runner projects only while it holds its projection's PostgreSQL advisory lock, so any
number of API processes and `ledger project` workers can start runners safely: one
projects, the others stand by and take over when it goes away.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from psycopg import sql

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.credit_note_list import CreditNoteListing, CreditNoteListView
from projections.customer_list import CustomerListing, CustomerListView
from projections.invoice_list import InvoiceListing, InvoiceListView
from projections.projecting import Led, Projecting
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
    """A projection with its view; `leading` while this process projects it."""

    name: str
    projection: StateProjection[Any]
    view: View
    leading: bool = False


class Projectors:
    """All read models of one process, over the application's connection pool.

    One thread leads every projection whose PostgreSQL advisory lock this process holds,
    and looks for the others' every `POLL` seconds. It reads what was recorded after the
    led projections' positions in batches of up to `BATCH` events, decodes and folds each
    event once for all of them (`projections.projecting`), and writes each projection's
    rows and position in one transaction. It looks again when this process records
    events (at once), when PostgreSQL notifies that another process did (one LISTEN
    connection per process), and every `POLL` seconds. After a batch it pauses up to
    `LINGER` seconds, so that under load a transaction carries many events, not one; a
    reader waiting for a view ends the pause at once.
    """

    BATCH = 500
    POLL = 1.0
    LINGER = 0.05

    def __init__(self, app: Ledger, location: DatabaseLocation) -> None:
        self.app = app
        self.location = location
        self._projecting = Projecting(app)
        self._stopping = threading.Event()
        # Set when events may have been recorded since the leader last looked.
        self._wake = threading.Event()
        # Set by a reader waiting for any view: the leader's pause ends.
        self._wanted = threading.Event()
        self._listener: threading.Thread | None = None
        self._leader: threading.Thread | None = None
        factory = app.factory
        assert isinstance(factory, PostgresFactory)
        self.by_name: dict[str, Projector] = {}
        for name, (projection_cls, view_cls) in CATALOGUE.items():
            view = view_cls(datastore=factory.datastore, tracking_table_name=f"{name}_tracking")
            view.create_table()
            view.end_pauses_with(self._wanted)
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
        self._leader = threading.Thread(target=self._run, name="projectors", daemon=True)
        self._leader.start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(ValueError):
            self.app.recorded_listeners.remove(self._recorded)
        self._wake.set()
        self._wanted.set()
        for thread in (self._listener, self._leader):
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
        self._wake.set()

    def _listen(self) -> None:
        """Wake the leader when another process records events."""
        recorder = self.app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        listen = sql.SQL("LISTEN {}").format(sql.Identifier(recorder.channel_name))
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.location.conninfo(), autocommit=True) as conn:
                    conn.execute(listen)
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=self.POLL, stop_after=1):
                            self._wake.set()
            except Exception:
                log.exception("projectors_listen_failed")
                self._stopping.wait(self.POLL)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._lead()
            except Exception:
                log.exception("projector_failed")
            self._stopping.wait(1.0)

    def _lead(self) -> None:
        with psycopg.connect(self.location.conninfo(), autocommit=True) as lock_conn:
            led: list[Led] = []
            self._projecting.forget()
            look_again = 0.0
            try:
                while not self._stopping.is_set():
                    if time.monotonic() >= look_again:
                        self._take_over(lock_conn, led)
                        look_again = time.monotonic() + self.POLL
                    if not led:  # another process leads them all
                        self._stopping.wait(max(0.0, look_again - time.monotonic()))
                        continue
                    self._wake.clear()
                    notifications = self.app.recorder.select_notifications(
                        min(entry.position for entry in led), self.BATCH, inclusive_of_start=False
                    )
                    if notifications:
                        self._projecting.project(led, notifications)
                        if len(notifications) < self.BATCH:
                            self._wanted.wait(self.LINGER)
                            self._wanted.clear()
                        continue
                    for entry in led:  # caught up: the positions are written
                        self.by_name[entry.name].view.flush(self.app.name)
                    if not self._wake.wait(self.POLL):
                        lock_conn.execute("SELECT 1")  # the locks' session is still there
            finally:
                for entry in led:
                    self.by_name[entry.name].leading = False

    def _take_over(self, lock_conn: psycopg.Connection[Any], led: list[Led]) -> None:
        """Lead every projection that no other process (or rebuild) holds."""
        for projector in self.by_name.values():
            if projector.leading:
                continue
            row = lock_conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (lock_key(projector.name),)
            ).fetchone()
            if not row or not row[0]:
                continue
            projector.leading = True
            position = projector.view.max_tracking_id(self.app.name) or 0
            led.append(Led(projector.name, projector.projection, position))
            log.info("projector_leading", projection=projector.name)


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
