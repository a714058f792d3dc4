"""Authenticated API requests per tenant and month, for the usage report.

A request is not a business event, so it is not stored as one: each process counts in
memory and adds its counts to `api_requests` every `FLUSH_SECONDS` and when it stops. A
process killed outright loses at most that many seconds of counts; nothing is billed on
them.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.postgres import PostgresDatastore

FLUSH_SECONDS = 2.0

log = structlog.get_logger(__name__)

_ADD = (
    "INSERT INTO api_requests (tenant_id, month, requests)"
    " SELECT * FROM unnest(%s::uuid[], %s::date[], %s::bigint[])"
    " ON CONFLICT (tenant_id, month) DO UPDATE"
    " SET requests = api_requests.requests + EXCLUDED.requests"
)


class RequestCounts:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._pending: Counter[tuple[UUID, date]] = Counter()
        self._guard = threading.Lock()
        self._flushing = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self, tenant_id: UUID) -> None:
        month = datetime.now(UTC).date().replace(day=1)
        with self._guard:
            self._pending[(tenant_id, month)] += 1

    def flush(self) -> None:
        """Add the counts so far to the table (also before a report reads it)."""
        with self._flushing:
            with self._guard:
                pending, self._pending = self._pending, Counter()
            if not pending:
                return
            keys = list(pending)
            try:
                with self._datastore.transaction(commit=True) as curs:
                    curs.execute(
                        _ADD,
                        (
                            [tenant for tenant, _ in keys],
                            [month for _, month in keys],
                            [pending[key] for key in keys],
                        ),
                    )
            except Exception:
                with self._guard:  # kept for the next flush
                    self._pending.update(pending)
                raise

    def per_month(self, tenant_id: UUID, start: date, end: date) -> list[dict[str, Any]]:
        self.flush()
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT to_char(month, 'YYYY-MM') AS month, requests FROM api_requests"
                " WHERE tenant_id = %s AND month BETWEEN %s AND %s ORDER BY month",
                (tenant_id, start.replace(day=1), end),
            )
            return list(curs.fetchall())

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="request-counts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stopping.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:  # the database may be away for a moment: try again later
                log.warning("request counts not flushed; kept for the next try", exc_info=True)
