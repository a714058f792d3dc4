"""The FastAPI application: built by `create_app(settings)`, started in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from api import problems
from api.fast_path import FastPath
from api.logs import configure_logging
from api.metrics import Metrics
from api.middleware import RequestContext
from api.request_counts import RequestCounts
from api.routes import (
    audit,
    credit_notes,
    customers,
    invoices,
    metering,
    ops,
    payments,
    pdfs,
    plans,
    privacy,
    receivables,
    reports,
    revenue,
    subscriptions,
    tenants,
)
from api.settings import Settings
from ledger.application import Ledger
from projections.event_chain import ledger_env
from projections.migrations import ensure_database, migrate
from projections.runner import Projectors

log = structlog.get_logger("api")

DESCRIPTION = """An event-sourced invoicing ledger.

Authenticate with `Authorization: Bearer <api key>`. Amounts and rates are decimal
strings. Every POST takes an `Idempotency-Key`; mutations accept `If-Match` with the
`ETag` of the resource. Errors are `application/problem+json` (RFC 9457)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_format, settings.log_level)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        location = settings.location()
        ensure_database(location)
        applied = migrate(location)
        ledger = Ledger(env=ledger_env(location, settings.pool_size))
        ledger.recorded_listeners.append(lambda n: metrics.events_appended.inc(n))
        projectors = Projectors(ledger, location)
        if settings.run_projectors:
            projectors.start()
        request_counts = RequestCounts(ledger.recorder.datastore)  # type: ignore[attr-defined]
        request_counts.start()
        app.state.ledger = ledger
        app.state.projectors = projectors
        app.state.request_counts = request_counts
        log.info("started", database=location.dbname, migrations_applied=applied)
        try:
            yield
        finally:
            request_counts.stop()
            projectors.stop()
            ledger.close()

    app = FastAPI(
        title="Ledger",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    problems.install(app)
    for module in (
        tenants,
        customers,
        invoices,
        pdfs,
        credit_notes,
        payments,
        receivables,
        reports,
        audit,
        subscriptions,
        metering,
        revenue,
        plans,
        privacy,
    ):
        app.include_router(module.router, prefix="/v1", responses=problems.RESPONSES)
    app.include_router(ops.router)
    if settings.http_fast_path:
        # Added first, so it sits inside RequestContext: ids, metrics and the access log
        # see the requests it answers as any other.
        app.add_middleware(FastPath)
    app.add_middleware(RequestContext, metrics=metrics)
    return app
