"""Verifying the hash chain and rebuilding every projection over a large store.

Fills a fresh database with N events (default 1,000,000): one tenant's year of invoicing
run through the real commands, copied with fresh ids as often as it takes and written by
COPY with its hash chain (`tests/benchmarks/audit_store.py`). Then, in one run, on the
same events:

- baselines: reading every event of the store (raw), and reading and decoding each to a
  domain event, through the same reader the rebuild uses;
- `ledger verify`: reading the store and the chain and recomputing every link, in ranges
  checked by two processes;
- rebuilding every projection together (`rebuild_all`): one read of the store per process,
  as many processes as cores (at most 4), each replaying part of the tenants; then swapping
  each projection in.

Rates are events in the store per second of wall time, with the ratio to the read+decode
baseline. CPU seconds (this process, and the database backend when it runs here) are
printed beside, since the machine may be shared. Targets: verify at least 100,000
events/s, rebuild of all projections at least 20,000 events/s.

    python -m tests.benchmarks.audit_bench [--events 1000000] [--skip-rebuild]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from ledger.application import Ledger
from projections.chain_verify import WORKERS, verify
from projections.event_chain import ledger_env
from projections.rebuild_parts import default_workers
from projections.rebuild_together import decoded, recorded_events
from projections.runner import Projectors, rebuild_all
from tests.benchmarks.audit_store import fill
from tests.benchmarks.server import database_server, describe, fresh_database

VERIFY_TARGET = 100_000.0
REBUILD_TARGET = 20_000.0
READ_BATCH = 10_000
_TICKS = os.sysconf("SC_CLK_TCK")


class Measured:
    """Wall and CPU seconds of one step; `backend` is a database backend pid to count."""

    def __init__(self, what: str, backend: int | None = None) -> None:
        self.what = what
        self.backend = backend

    def __enter__(self) -> Measured:
        print(f"-- {self.what}", file=sys.stderr)
        self.started = time.perf_counter()
        self.cpu_started = _own_and_children_cpu()
        self.backend_started = _cpu_of(self.backend)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.started
        self.cpu = _own_and_children_cpu() - self.cpu_started
        used = _cpu_of(self.backend)
        started = self.backend_started
        self.backend_cpu = used - started if used is not None and started is not None else None
        print(file=sys.stderr)

    def cpu_text(self) -> str:
        server = f", database {self.backend_cpu:.1f}" if self.backend_cpu is not None else ""
        return f"CPU s: bench {self.cpu:.1f}{server}"


def _own_and_children_cpu() -> float:
    """CPU seconds of this process and of its ended children (a rebuild's worker processes)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _cpu_of(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # the server is elsewhere (or in another PID namespace)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def read_events(ledger: Ledger, decode: bool, progress: Callable[[int], None]) -> int:
    """Every event of the store, read (and decoded to a domain event) as the rebuild reads
    them."""
    head = ledger.recorder.max_notification_id() or 0
    count = 0
    for notifications in recorded_events(ledger, 0, head, READ_BATCH):
        if decode:
            for notification in notifications:
                decoded(ledger, notification)
        count += len(notifications)
        progress(count)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.audit_bench")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args(argv)
    server = database_server()
    print(f"Audit benchmark: verify and rebuild over {args.events:,} events")
    print(f"database: {describe(server)}; a fresh database, dropped afterwards")
    with fresh_database(server) as db:
        ledger = Ledger(env=ledger_env(db, 4))  # creates the event store's tables
        try:
            _run(ledger, db, args)
        finally:
            ledger.close()
    return 0


def _run(ledger: Ledger, db: Any, args: argparse.Namespace) -> None:
    events = args.events
    with Measured("filling the store") as filling:
        written = fill(db.conninfo(), events, lambda n: _progress("filled", n, events))
    print(
        f"filled                 : {written:,} events in {filling.wall:.1f} s "
        f"({written / filling.wall:,.0f}/s, COPY with the hash chain)"
    )
    with psycopg.connect(db.conninfo(), autocommit=True) as conn:
        conn.execute("ANALYZE")  # as autovacuum would have, after a million appends
        backend = conn.info.backend_pid
    with Measured("baseline: read") as raw:
        read = read_events(ledger, False, lambda n: _progress("read", n, written))
    raw_rate = read / raw.wall
    print(f"baseline read          : {raw_rate:12,.0f} events/s ({read:,} in {raw.wall:.1f} s)")
    with Measured("baseline: read and decode") as base:
        decoded = read_events(ledger, True, lambda n: _progress("decoded", n, written))
    baseline = decoded / base.wall
    print(
        f"baseline read + decode : {baseline:12,.0f} events/s ({decoded:,} in "
        f"{base.wall:.1f} s; {base.cpu_text()})"
    )
    with psycopg.connect(db.conninfo()) as conn:
        backend = conn.info.backend_pid
        with Measured("verify", backend) as checking:
            result = verify(conn, None, lambda n: _progress("verified", n, written))
    rate = result.checked / checking.wall
    print(
        f"verify                 : {rate:12,.0f} events/s ({result.checked:,} in "
        f"{checking.wall:.1f} s by {WORKERS} processes checking ranges, their CPU and their "
        f"backends' not counted; chain {'intact' if result.ok else 'BROKEN'}; "
        f"{checking.cpu_text()}); ratio {rate / baseline:.2f} (to read only "
        f"{rate / raw_rate:.2f}); target {VERIFY_TARGET:,.0f}: {_verdict(rate, VERIFY_TARGET)}"
    )
    if not args.skip_rebuild:
        _rebuild(ledger, db, written, baseline)


def _rebuild(ledger: Ledger, db: Any, stored: int, baseline: float) -> None:
    projectors = Projectors(ledger, db)
    chosen = list(projectors.by_name.values())
    workers = default_workers()
    with Measured(f"rebuild of every projection, in {workers} processes") as rebuilding:
        rebuilt = rebuild_all(
            ledger,
            chosen,
            db,
            lambda done, total: _progress("rebuilt", done, total),
            workers=workers,
        )
    rate = stored / rebuilding.wall
    print(
        f"rebuild, all {len(chosen)} together: {rate:10,.0f} events/s ({stored:,} events in the "
        f"store, {rebuilt.read:,} read, in {rebuilding.wall:.1f} s by {workers} processes, "
        f"each taking part of the tenants; {rebuilding.cpu_text()}); ratio {rate / baseline:.2f} "
        f"(the baseline reads and decodes in one); target {REBUILD_TARGET:,.0f}: "
        f"{_verdict(rate, REBUILD_TARGET)}"
    )
    for name, seconds in rebuilt.seconds.items():
        print(
            f"   {name:<17}: {seconds:6.1f} s on its own rows, their writes and its swap"
            " (summed over the processes)"
            f" ({stored / max(seconds, 1e-9):10,.0f} events/s)"
        )
    print(
        f"   {'shared':<17}: {rebuilt.shared_seconds:6.1f} s decoding and folding, once for all"
        f" ({stored / max(rebuilt.shared_seconds, 1e-9):10,.0f} events/s)"
    )


_shown = [0.0]


def _progress(what: str, done: int, total: int) -> None:
    now = time.monotonic()
    if now - _shown[0] >= 0.5 or done >= total:
        _shown[0] = now
        print(f"\r   {what}: {done:,}/{total:,}", end="", file=sys.stderr)


def _verdict(rate: float, target: float) -> str:
    return "met" if rate >= target else f"NOT met ({100 * rate / target:.0f}%)"


if __name__ == "__main__":
    sys.exit(main())
