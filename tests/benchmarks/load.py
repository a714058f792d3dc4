"""Closed-loop load: N clients, each on its own keep-alive connection, repeat a unit of work.

A unit is one no-op request, or one invoice (draft + finalize). The phase ends after a
fixed duration or a fixed number of units; units in flight at the deadline are finished
and counted. Latencies are kept per request kind; CPU used by the load generator, by
the server's processes and by the whole machine is sampled at both ends of the phase.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.benchmarks.client import Connection, Response
from tests.benchmarks.server import Uvicorn, cpu_by_pid, cpu_used, machine_busy_seconds


class Recorder:
    """Latencies per request kind, and the failures of one phase."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_samples: list[str] = []
        self.exceptions = 0  # failures without an HTTP response (connection errors)

    async def timed(
        self, kind: str, call: Awaitable[Response], expect: int = 200
    ) -> Response | None:
        started = time.perf_counter()
        try:
            response = await call
        except (OSError, RuntimeError) as error:
            self.exceptions += 1
            self.fail(kind, f"{kind}: {error!r}")
            await asyncio.sleep(0.05)  # no busy loop against a server that went away
            return None
        self.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        if response.status != expect:
            self.fail(kind, f"{kind}: {response.status} {response.body[:300]!r}")
            return None
        return response

    def fail(self, kind: str, sample: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_samples) < 5:
            self.error_samples.append(sample)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


Unit = Callable[[int, Connection, Recorder], Awaitable[bool]]
"""One unit of work by client `i` on its connection; True when it fully succeeded."""


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used during a phase."""

    client: float
    server_user: float
    server_system: float
    postgres: float | None
    machine: float

    @property
    def server(self) -> float:
        return self.server_user + self.server_system


@dataclass
class PhaseResult:
    label: str
    units: int
    elapsed: float
    recorder: Recorder
    cpu: Cpu
    failed_units: int = 0
    per_second: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.units / self.elapsed if self.elapsed else 0.0

    def cores(self, seconds: float) -> float:
        return seconds / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


async def run_phase(
    label: str,
    connections: list[Connection],
    unit: Unit,
    server: Uvicorn,
    *,
    duration: float | None = None,
    count: int | None = None,
    unit_name: str = "req",
) -> PhaseResult:
    """Run `unit` on every connection until `duration` passed or `count` units started."""
    assert duration is not None or count is not None
    recorder = Recorder()
    started_units = 0
    done_units = 0
    failed_units = 0
    stop = False
    server_died = False

    async def client(index: int, connection: Connection) -> None:
        nonlocal started_units, done_units, failed_units
        while not stop and (count is None or started_units < count):
            started_units += 1
            ok = await unit(index, connection, recorder)
            if ok:
                done_units += 1
            else:
                failed_units += 1

    server_before = cpu_by_pid(server.pids())
    database_before = cpu_by_pid(server.database_pids())
    cpu_client = time.process_time()
    cpu_machine = machine_busy_seconds()
    started = time.perf_counter()
    tasks = [asyncio.create_task(client(i, c)) for i, c in enumerate(connections)]
    per_second: list[float] = []
    last_done, last_at = 0, started
    pending = set(tasks)
    deadline = started + duration if duration is not None else float("inf")
    while pending:
        now = time.perf_counter()
        wait = min(1.0 - (now - last_at), deadline - now) if not stop else 1.0
        _, pending = await asyncio.wait(pending, timeout=max(wait, 0.001))
        now = time.perf_counter()
        if now >= deadline:
            stop = True
        if not server.running():
            stop = True
            server_died = True
        if now - last_at >= 0.999 and pending:
            rate_now = (done_units - last_done) / (now - last_at)
            per_second.append(rate_now)
            last_done, last_at = done_units, now
            of = f"/{count}" if count is not None else ""
            sys.stderr.write(
                f"  {label} {now - started:5.1f}s: {done_units}{of} {unit_name}, "
                f"{rate_now:.1f}/s now, {done_units / (now - started):.1f}/s so far, "
                f"{recorder.error_count} errors\n"
            )
            sys.stderr.flush()
    elapsed = time.perf_counter() - started
    server_user, server_system = cpu_used(server_before, cpu_by_pid(server.pids()))
    database_pids = server.database_pids()
    cpu = Cpu(
        client=time.process_time() - cpu_client,
        server_user=server_user,
        server_system=server_system,
        postgres=sum(cpu_used(database_before, cpu_by_pid(database_pids)))
        if database_pids
        else None,
        machine=machine_busy_seconds() - cpu_machine,
    )
    for task in tasks:
        task.result()  # re-raise what a client task raised, if anything
    if server_died:
        raise RuntimeError(f"{server.name} exited during {label}:\n{server.log_tail()}")
    return PhaseResult(label, done_units, elapsed, recorder, cpu, failed_units, per_second)


async def open_connections(
    host: str, port: int, n: int, headers: dict[str, str]
) -> list[Connection]:
    connections = [Connection(host, port, headers) for _ in range(n)]
    await asyncio.gather(*(c.open() for c in connections))
    return connections


async def close_connections(connections: list[Connection]) -> None:
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
