"""The ASGI entry point for uvicorn: `api.main:app`."""

from __future__ import annotations

import gc
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def one_start_at_a_time(lifespan: Lifespan, settings: Settings) -> Lifespan:
    """The app's start-up (database, migrations, event store and projection tables) under a
    PostgreSQL advisory lock, so that `--workers N` processes starting together on a new
    database do not race to create the same tables (the loser would fail its start with a
    duplicate key in pg_type). The lock is held until start-up is done, not while serving.
    """

    @asynccontextmanager
    async def serialized(app: FastAPI) -> AsyncIterator[Any]:
        location = settings.location()
        key = zlib.crc32(f"ledger-start:{location.dbname}".encode())
        # On the maintenance database: the ledger's own may not exist yet.
        lock = psycopg.connect(location.with_dbname("postgres").conninfo(), autocommit=True)
        try:
            lock.execute("SELECT pg_advisory_lock(%s)", (key,))
            async with lifespan(app) as state:
                lock.close()  # ends the session, and the lock with it
                tune_garbage_collector()
                yield state
        finally:
            lock.close()

    return serialized


def tune_garbage_collector() -> None:
    """What is alive after start-up (modules, the app, its caches) lives as long as the
    process: frozen, the collector no longer walks it. A request allocates thousands of
    short-lived containers (a batch of a thousand usage events, an invoice's events and
    rows), so the youngest generation is collected every 20,000 allocations, not 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


app = create_app()
app.router.lifespan_context = one_start_at_a_time(app.router.lifespan_context, app.state.settings)
