"""`make bench`: finalized invoices per second through HTTP against a FastAPI no-op baseline.

For each process layout (uvicorn with 1 and with 2 workers): the no-op app's requests per
second, then the ledger's finalized invoices per second (16 clients, one tenant, each
invoice = draft with three lines + finalize), with latencies, CPU use and a check that the
numbers issued are distinct and contiguous. Progress goes to stderr, results to stdout.

    python -m tests.benchmarks [--duration 15 | --invoices N] [--workers 1,2]
                               [--separate-projector] [--profile]

--profile samples the ledger server with py-spy (`.venv/bin/pip install py-spy`) during
the measured phase and prints where the thread holding the GIL spends its time. The
servers inherit the environment, so eventsourcing settings can be tried without code
changes, e.g. LEDGER_POSTGRES_PRE_PING=n or LEDGER_AGGREGATE_CACHE_FASTFORWARD=n.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvloop

from tests.benchmarks import http_finalize, noop, profiling
from tests.benchmarks.load import PhaseResult, percentile
from tests.benchmarks.server import (
    ROOT,
    Child,
    Uvicorn,
    background_load,
    database_server,
    describe,
    fresh_database,
    postmaster_pid,
)

TARGET = 300.0
NOISY = 0.3  # cores used by other processes that make a measurement unreliable
LEDGER_APP = "api.main:app"


@dataclass
class Layout:
    workers: int
    separate_projector: bool
    noop: PhaseResult
    invoices: http_finalize.InvoiceRun
    profile: list[str]

    @property
    def name(self) -> str:
        plural = "s" if self.workers > 1 else ""
        return f"{self.workers} worker{plural}" + (
            " + projector" if self.separate_projector else ""
        )

    @property
    def ratio(self) -> float:
        return self.invoices.measured.rate / self.noop.rate if self.noop.rate else 0.0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--warmup", type=float, default=3.0, help="invoice warm-up seconds (3)")
    parser.add_argument(
        "--duration", type=float, default=15.0, help="measured seconds of invoices (15)"
    )
    parser.add_argument(
        "--invoices", type=int, default=None, help="measure this many invoices instead"
    )
    parser.add_argument("--noop-duration", type=float, default=8.0, help="no-op seconds (8)")
    parser.add_argument(
        "--workers", default="1,2", help="uvicorn --workers layouts to measure (1,2)"
    )
    parser.add_argument(
        "--separate-projector",
        action="store_true",
        help="run the projections in a `ledger project` process (LEDGER_RUN_PROJECTORS=false)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the ledger server with py-spy during the measured invoices",
    )
    parser.add_argument(
        "--profile-threads",
        action="store_true",
        help="with --profile: sample every running thread, not only the GIL holder",
    )
    return parser.parse_args(argv)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def _latency(values: list[float]) -> str:
    return f"p50 {_ms(percentile(values, 50))}, p99 {_ms(percentile(values, 99))}"


def _cpu(phase: PhaseResult, cores: int, unit: str) -> str:
    cpu = phase.cpu
    server = phase.cores(cpu.server)
    client = phase.cores(cpu.client)
    postgres = phase.cores(cpu.postgres) if cpu.postgres is not None else None
    rest = max(0.0, phase.cores(cpu.machine) - server - client - (postgres or 0.0))
    ms = 1000 / phase.units if phase.units else float("nan")
    database = (
        f"PostgreSQL {postgres:.2f} ({ms * (cpu.postgres or 0.0):.2f} ms per {unit}), "
        if postgres is not None
        else ""
    )
    return (
        f"CPU, cores busy of {cores}: server {server:.2f} (user {phase.cores(cpu.server_user):.2f}"
        f", system {phase.cores(cpu.server_system):.2f}; {ms * cpu.server:.2f} ms per {unit}), "
        f"{database}load generator {client:.2f}, other processes {rest:.2f}"
    )


def _noise(phase: PhaseResult) -> list[str]:
    cpu = phase.cpu
    others = phase.cores(cpu.machine - cpu.server - cpu.client - (cpu.postgres or 0.0))
    if others < NOISY:
        return []
    return [
        f"  WARNING: other processes used {others:.2f} cores meanwhile; numbers are pessimistic"
    ]


def _spread(rates: list[float]) -> str:
    return f"{min(rates):.0f}..{max(rates):.0f}" if rates else "-"


def _errors(phase: PhaseResult) -> list[str]:
    recorder = phase.recorder
    if not recorder.error_count:
        return []
    lines = [f"  errors: {recorder.errors}"]
    lines += [f"    {sample}" for sample in recorder.error_samples]
    return lines


def _layout_lines(layout: Layout, cores: int) -> list[str]:
    baseline, run = layout.noop, layout.invoices
    measured = run.measured
    latencies = measured.recorder.latencies
    requests = sum(len(v) for v in latencies.values())
    lines = [
        f"== uvicorn --workers {layout.workers}"
        + (
            ", projections in a separate `ledger project` process"
            if layout.separate_projector
            else ""
        )
        + " ==",
        f"no-op    GET /noop: {baseline.rate:9.1f} requests/s over {baseline.elapsed:.1f} s "
        f"({baseline.units} requests, {baseline.recorder.error_count} errors); "
        f"latency {_latency(baseline.recorder.latencies.get('noop', []))}",
        f"         {_cpu(baseline, cores, 'request')}",
        *_noise(baseline),
        *_errors(baseline),
        f"invoices: {measured.rate:8.1f} finalized invoices/s over {measured.elapsed:.1f} s "
        f"({measured.units} invoices, {requests} requests = {requests / measured.elapsed:.1f} "
        f"requests/s, {measured.failed_units} failed; warm-up {run.warmup.units} invoices "
        f"in {run.warmup.elapsed:.1f} s; per second {_spread(measured.per_second)})",
        f"  POST /v1/invoices (3 lines)      latency {_latency(latencies.get('draft', []))}",
        f"  POST /v1/invoices/{{id}}/finalize  latency {_latency(latencies.get('finalize', []))}",
        f"  {_cpu(measured, cores, 'invoice')}",
        *_noise(measured),
        *_errors(measured),
        f"ratio: {measured.rate:.1f} finalized invoices/s / {baseline.rate:.1f} no-op "
        f"requests/s = {layout.ratio:.4f}",
        "correctness: " + ("OK" if run.verification.ok else "FAILED"),
        *(f"  {line}" for line in run.verification.lines),
    ]
    if layout.profile:
        lines += layout.profile
    return lines


def _summary(layouts: list[Layout]) -> list[str]:
    def ms(values: list[float], q: float) -> float:
        return percentile(values, q) * 1000

    lines = [
        "== summary ==",
        f"{'layout':<22}{'no-op req/s':>12}{'invoices/s':>11}{'ratio':>8}"
        f"{'draft p50/p99 ms':>18}{'finalize p50/p99 ms':>21}"
        f"{'server CPU/inv':>16}{'PG CPU/inv':>12}  numbers",
    ]
    for layout in layouts:
        measured = layout.invoices.measured
        latencies = measured.recorder.latencies
        draft, final = latencies.get("draft", []), latencies.get("finalize", [])
        units = measured.units or float("nan")
        postgres = measured.cpu.postgres
        lines.append(
            f"{layout.name:<22}{layout.noop.rate:12.1f}{measured.rate:11.1f}{layout.ratio:8.4f}"
            f"{ms(draft, 50):10.1f}/{ms(draft, 99):<7.1f}{ms(final, 50):13.1f}/{ms(final, 99):<7.1f}"
            f"{1000 * measured.cpu.server / units:13.2f} ms"
            + (f"{1000 * postgres / units:9.2f} ms" if postgres is not None else f"{'-':>12}")
            + ("  contiguous" if layout.invoices.verification.ok else "  FAILED")
        )
    best = max(layouts, key=lambda layout: layout.invoices.measured.rate)
    rate = best.invoices.measured.rate
    verdict = "met" if rate >= TARGET else f"NOT met ({100 * rate / TARGET:.0f}% of target)"
    lines.append(f"target: >= {TARGET:.0f} finalized invoices/s")
    lines.append(f"best: {rate:.1f} finalized invoices/s with {best.name}: {verdict}")
    return lines


def _code_state() -> str:
    """The commit measured, and whether the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "(not a git checkout)"
    return head + (" + uncommitted changes" if dirty else "")


def _header(args: argparse.Namespace, database: str, background: float) -> list[str]:
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("fastapi", "uvicorn", "uvloop", "httptools", "eventsourcing", "psycopg")
    )
    measure = f"{args.invoices} invoices" if args.invoices else f"{args.duration:.0f} s of invoices"
    return [
        f"Ledger HTTP benchmark: finalized invoices/s vs a FastAPI no-op; code: {_code_state()}",
        f"machine: {os.cpu_count()} cores ({platform.machine()}), Python "
        f"{platform.python_version()}; {versions}",
        f"database: {database}; a fresh database per layout, dropped afterwards",
        f"load: {args.clients} concurrent clients, one keep-alive connection each, asyncio "
        f"on uvloop in one process; warm-up {args.warmup:.0f} s, then {measure}; "
        f"no-op {args.noop_duration:.0f} s",
        "server: python -m api.serving <app> --workers N (uvicorn, each worker on its own "
        "SO_REUSEPORT socket, as `ledger serve`), no access log, LEDGER_LOG_LEVEL=warning; "
        "the no-op route is a sync `def`, like the ledger's",
        f"background load before start: {background:.2f} of {os.cpu_count()} cores busy"
        + (
            " -- WARNING: the machine is busy; every number below is pessimistic"
            if background >= NOISY
            else ""
        ),
        "",
    ]


def _measure_layout(
    runner: asyncio.Runner,
    args: argparse.Namespace,
    workers: int,
    profile_dir: Path | None,
) -> Layout:
    print(f"-- {workers} worker(s): no-op baseline", file=sys.stderr)
    postmaster = postmaster_pid(database_server())
    with Uvicorn(noop.APP, workers, {"LEDGER_LOG_LEVEL": "warning"}, noop.READY_PATH) as server:
        server.postmaster = postmaster
        baseline = runner.run(
            noop.run(server, args.clients, 1.5, args.noop_duration, f"no-op w={workers}")
        )
    print(f"-- {workers} worker(s): invoices", file=sys.stderr)
    token = http_finalize.admin_token()
    profile_lines: list[str] = []
    with fresh_database(database_server()) as db:
        env = {
            "DATABASE_URL": db.url(),
            "LEDGER_ADMIN_TOKEN": token,
            "LEDGER_LOG_LEVEL": "warning",
        }
        with contextlib.ExitStack() as stack:
            companions: tuple[Child, ...] = ()
            if args.separate_projector:
                command = [sys.executable, "-m", "api.cli", "project"]
                companions = (stack.enter_context(Child("ledger project", command, env)),)
                env = {**env, "LEDGER_RUN_PROJECTORS": "false"}
            server = stack.enter_context(Uvicorn(LEDGER_APP, workers, env, "/health", companions))
            server.postmaster, server.database = postmaster, db.dbname
            samplers: list[profiling.Sampler] = []
            output = profile_dir / f"py-spy-w{workers}.txt" if profile_dir else None

            def start_sampling() -> None:
                if output is not None and server.process is not None:
                    samplers.append(
                        profiling.Sampler(
                            server.process.pid, output, gil_only=not args.profile_threads
                        )
                    )

            def stop_sampling() -> None:
                for sampler in samplers:
                    sampler.stop()

            invoices = runner.run(
                http_finalize.run(
                    server,
                    token,
                    args.clients,
                    args.warmup,
                    None if args.invoices else args.duration,
                    args.invoices,
                    f"invoices w={workers}",
                    on_measure=start_sampling,
                    after_measure=stop_sampling,
                )
            )
            if output is not None and output.exists():
                profile_lines = [
                    f"profile (raw stacks: {output})",
                    *profiling.report(profiling.load(output)),
                ]
    return Layout(workers, args.separate_projector, baseline, invoices, profile_lines)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the `with` blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    layouts_wanted = [int(w) for w in args.workers.split(",") if w.strip()]
    profile_dir = None
    if args.profile:
        if profiling.py_spy() is None:
            print("--profile needs py-spy: .venv/bin/pip install py-spy", file=sys.stderr)
            return 2
        profile_dir = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    started = time.monotonic()
    header = _header(args, describe(database_server()), background_load())
    print("\n".join(header), flush=True)
    cores = os.cpu_count() or 1
    layouts: list[Layout] = []
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        for workers in layouts_wanted:
            layout = _measure_layout(runner, args, workers, profile_dir)
            layouts.append(layout)
            print("\n".join([*_layout_lines(layout, cores), ""]), flush=True)
    print("\n".join(_summary(layouts)))
    print(f"(whole benchmark: {time.monotonic() - started:.0f} s)")
    ok = all(
        layout.invoices.verification.ok and not layout.invoices.measured.recorder.error_count
        for layout in layouts
    )
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped and databases dropped", file=sys.stderr)
        sys.exit(130)
