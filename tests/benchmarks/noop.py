"""The baseline: requests per second of `GET /noop` on a one-route FastAPI app."""

from __future__ import annotations

from tests.benchmarks.client import Connection
from tests.benchmarks.load import (
    PhaseResult,
    Recorder,
    close_connections,
    open_connections,
    run_phase,
)
from tests.benchmarks.server import HOST, Uvicorn

APP = "tests.benchmarks.noop_app:app"
READY_PATH = "/noop"


async def _noop(index: int, connection: Connection, recorder: Recorder) -> bool:
    return await recorder.timed("noop", connection.request("GET", "/noop")) is not None


async def run(
    server: Uvicorn, clients: int, warmup_seconds: float, duration: float, label: str
) -> PhaseResult:
    connections = await open_connections(HOST, server.port, clients, {})
    try:
        await run_phase(f"{label} warm-up", connections, _noop, server, duration=warmup_seconds)
        return await run_phase(label, connections, _noop, server, duration=duration)
    finally:
        await close_connections(connections)
