"""The servers under test: a fresh database, uvicorn subprocesses, and their CPU use.

The database server is the one DATABASE_URL names, else the embedded PostgreSQL under
LEDGER_DATA_DIR, exactly as in tests/conftest.py; each benchmark gets its own database
`bench_<random>`, dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Self

import psycopg
from psycopg import sql

from ledger.persistence import DatabaseLocation, default_data_dir, embedded_server_location
from projections.migrations import ensure_database, migrate

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
_TICKS = os.sysconf("SC_CLK_TCK")


def database_server() -> DatabaseLocation:
    url = os.environ.get("DATABASE_URL")
    if url:
        return DatabaseLocation.from_url(url)
    return embedded_server_location(default_data_dir())


def describe(server: DatabaseLocation) -> str:
    where = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded (LEDGER_DATA_DIR)"
    with psycopg.connect(server.with_dbname("postgres").conninfo(), autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = row[0] if row else "?"
    return f"PostgreSQL {version}, {where}, at {server.host}:{server.port}"


@contextlib.contextmanager
def fresh_database(server: DatabaseLocation) -> Iterator[DatabaseLocation]:
    """A new, migrated database `bench_<random>` on `server`, dropped on exit. The event
    store's tables are left to the servers, as on a first deployment: workers starting
    together create them one at a time (api/main.py)."""
    db = server.with_dbname(f"bench_{uuid.uuid4().hex[:10]}")
    ensure_database(db)
    try:
        migrate(db)
        yield db
    finally:
        with psycopg.connect(server.with_dbname("postgres").conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.dbname))
            )


def postmaster_pid(server: DatabaseLocation) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (for its CPU use)."""
    if not (server.host.startswith("/") or server.host in ("127.0.0.1", "localhost", "::1")):
        return None
    with psycopg.connect(server.with_dbname("postgres").conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        try:  # while the backend still runs: it exits with the connection
            stat = Path(f"/proc/{row[0]}/stat").read_text() if row else ""
        except OSError:
            stat = ""  # another PID namespace, e.g. PostgreSQL in a container
    if not stat:
        return None
    parent = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parent if b"postgres" in _cmdline(parent) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (uvicorn's supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_by_pid(pids: list[int]) -> dict[int, tuple[float, float]]:
    """User and system CPU seconds each process used so far."""
    used: dict[int, tuple[float, float]] = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        used[pid] = (int(fields[11]) / _TICKS, int(fields[12]) / _TICKS)
    return used


def cpu_used(
    before: dict[int, tuple[float, float]], after: dict[int, tuple[float, float]]
) -> tuple[float, float]:
    """User and system CPU seconds used between two samples; processes started in between
    count whole, those that ended in between are lost."""
    user = sum(u - before.get(pid, (0.0, 0.0))[0] for pid, (u, _) in after.items())
    system = sum(s - before.get(pid, (0.0, 0.0))[1] for pid, (_, s) in after.items())
    return user, system


def background_load(quiet: float = 0.3, patience: float = 15.0) -> float:
    """Cores busy on the machine while the benchmark does nothing; waits up to `patience`
    seconds for it to drop under `quiet`, since other work skews every number."""
    deadline = time.monotonic() + patience
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        load = machine_busy_seconds() - before
        if load < quiet or time.monotonic() >= deadline:
            return load


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle, since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICKS


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _group_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[2])


class Child:
    """A subprocess in its own process group, with its output kept in a temporary file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: uvicorn's workers are stopped with it
        )

    def pids(self) -> list[int]:
        return process_tree(self.process.pid) if self.process else []

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the group, then SIGKILL whatever of it is left after 15 s."""
        process = self.process
        if process is not None:
            tree = self.pids()
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for pid in tree:  # workers that outlived their supervisor
                if _group_of(pid) == process.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Uvicorn(Child):
    """`python -m api.serving <app> --workers N` (uvicorn, as `ledger serve` runs it), ready
    once `ready_path` answers 200.

    `companions` are other processes of the server under test (a separate projector),
    counted in its CPU use.
    """

    def __init__(
        self,
        app: str,
        workers: int,
        env: dict[str, str],
        ready_path: str,
        companions: tuple[Child, ...] = (),
    ) -> None:
        self.app = app
        self.workers = workers
        self.port = free_port()
        self.ready_path = ready_path
        self.companions = companions
        # Set both to count the CPU of the database server's processes serving `database`.
        self.postmaster: int | None = None
        self.database: str | None = None
        command = [
            sys.executable,
            "-m",
            "api.serving",
            app,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        super().__init__(app, command, env)

    def start(self, timeout: float = 60.0) -> None:
        super().start()
        assert self.process is not None
        deadline = time.monotonic() + timeout
        url = f"http://{HOST}:{self.port}{self.ready_path}"
        # With several workers one answering is not all of them up: ask until many fresh
        # connections in a row were answered.
        wanted, answered = (1 if self.workers == 1 else 20), 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited on start:\n{self.log_tail()}")
            ok = False
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(url, timeout=2) as response,
            ):
                ok = response.status == 200
            answered = answered + 1 if ok else 0
            if answered >= wanted:
                return
            time.sleep(0.05 if ok else 0.1)
        raise RuntimeError(f"{self.app} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        return [pid for child in (self, *self.companions) for pid in Child.pids(child)]

    def database_pids(self) -> list[int]:
        """The PostgreSQL processes working for this server: its backends (their title names
        the database) and the shared ones (WAL writer, checkpointer, ...), not the backends
        of other databases."""
        if not self.postmaster:
            return []
        pids = []
        for pid in process_tree(self.postmaster):
            title = _cmdline(pid)
            backend = b"[local]" in title or b"127.0.0.1" in title or b"::1" in title
            if not backend or (self.database and self.database.encode() in title):
                pids.append(pid)
        return pids

    def running(self) -> bool:
        """The supervisor, each of its `workers` and every companion are alive."""
        alive = Child.running(self) and all(c.running() for c in self.companions)
        if alive and self.workers > 1 and self.process is not None:
            alive = any(b"spawn_main" in _cmdline(pid) for pid in self.pids())
        return alive
