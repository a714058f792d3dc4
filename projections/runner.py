"""Running the projections: one thread per projection, one active runner per database.

A runner projects only while it holds its projection's PostgreSQL advisory lock, so any
number of API processes and `ledger project` workers can start runners safely: one
projects, the others stand by and take over when it goes away.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresFactory
from eventsourcing.projection import ApplicationSubscription

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.credit_note_list import CreditNoteListing, CreditNoteListView
from projections.customer_list import CustomerListing, CustomerListView
from projections.invoice_list import InvoiceListing, InvoiceListView
from projections.receivables import Receivables, ReceivablesView
from projections.state import StateProjection
from projections.tax_reports import TaxReports, TaxReportsView
from projections.view import View

log = structlog.get_logger("projections")

# Every read model, with the view class that owns its tables.
CATALOGUE: dict[str, tuple[type[StateProjection[Any]], type[View]]] = {
    InvoiceListing.name: (InvoiceListing, InvoiceListView),
    CustomerListing.name: (CustomerListing, CustomerListView),
    CreditNoteListing.name: (CreditNoteListing, CreditNoteListView),
    Receivables.name: (Receivables, ReceivablesView),
    TaxReports.name: (TaxReports, TaxReportsView),
}


def lock_key(projection_name: str) -> int:
    return zlib.crc32(f"ledger-projection:{projection_name}".encode())


@dataclass
class Projector:
    """A projection with its view, and the thread that feeds it while it leads."""

    name: str
    projection: StateProjection[Any]
    view: View
    thread: threading.Thread | None = None
    subscription: ApplicationSubscription[Any] | None = None
    leading: bool = False


class Projectors:
    """All read models of one process, over the application's connection pool."""

    def __init__(self, app: Ledger, location: DatabaseLocation) -> None:
        self.app = app
        self.location = location
        self._stopping = threading.Event()
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
        for projector in self.by_name.values():
            if projector.subscription is not None:
                projector.subscription.stop()
        for projector in self.by_name.values():
            if projector.thread is not None:
                projector.thread.join(timeout=10)

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
                gt = projector.view.max_tracking_id(self.app.name)
                with ApplicationSubscription(self.app, gt=gt) as subscription:
                    projector.subscription = subscription
                    if self._stopping.is_set():
                        return
                    for domain_event, tracking in subscription:
                        projector.projection.process_event(domain_event, tracking)
            finally:
                projector.leading = False
                projector.subscription = None


class ProjectorRunning(RuntimeError):
    """Raised when a rebuild is asked for while a projector of that projection runs."""


def rebuild(
    app: Ledger,
    projector: Projector,
    location: DatabaseLocation,
    progress: Callable[[int, int], None] = lambda done, total: None,
    batch: int = 1000,
) -> int:
    """Empty a projection and replay every event into it; return how many were replayed.

    Takes the projection's advisory lock, so it refuses to run beside an active projector.
    """
    with psycopg.connect(location.conninfo(), autocommit=True) as lock_conn:
        row = lock_conn.execute(
            "SELECT pg_try_advisory_lock(%s)", (lock_key(projector.name),)
        ).fetchone()
        if not row or not row[0]:
            raise ProjectorRunning(
                f"a projector of {projector.name} is running (an API process or `ledger "
                "project`); stop it before rebuilding"
            )
        view = projector.view
        view.reset(app.name)
        projection = type(projector.projection)(view, app.repository)
        total = app.recorder.max_notification_id() or 0
        done, start = 0, 0
        while True:
            notifications = app.recorder.select_notifications(
                start, batch, stop=total, inclusive_of_start=False
            )
            if not notifications:
                break
            for notification in notifications:
                domain_event = app.mapper.to_domain_event(notification)
                projection.process_event(domain_event, Tracking(app.name, notification.id))
            start = notifications[-1].id
            done += len(notifications)
            progress(done, total)
        return done
