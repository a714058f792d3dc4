"""`ledger serve --workers N`: every worker takes connections, a dead one is replaced."""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pid_of_answer(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/pid")
    response = connection.getresponse()
    assert response.status == 200
    pid: int = json.loads(response.read())["pid"]
    return pid


def _answering_pids(port: int, connections: int = 16) -> set[int]:
    """The processes that answer `connections` keep-alive connections opened at once."""
    opened = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(connections)]
    try:
        for connection in opened:
            connection.connect()
        return {_pid_of_answer(connection) for connection in opened for _ in range(3)}
    finally:
        for connection in opened:
            connection.close()


def _two_workers_answering(port: int, killed: int | None = None) -> set[int]:
    """The two workers' pids once connections reach both (and not `killed`)."""
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException):
            pids = _answering_pids(port)
            if len(pids) == 2 and killed not in pids:
                return pids
        if time.monotonic() > deadline:
            raise AssertionError(f"two workers did not answer on port {port} in time")
        time.sleep(0.2)


@pytest.fixture
def two_workers() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    command = [sys.executable, "-m", "api.serving", "tests.serving_app:app", "--workers", "2"]
    supervisor = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT)
    try:
        yield supervisor, port
    finally:
        if supervisor.poll() is None:
            supervisor.terminate()
            supervisor.wait(30)


def test_connections_opened_together_are_shared_by_both_workers(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = two_workers
    assert supervisor.pid not in _two_workers_answering(port)


def test_a_killed_worker_is_replaced_and_a_signal_stops_them_all(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = two_workers
    before = _two_workers_answering(port)
    killed = min(before)
    os.kill(killed, signal.SIGKILL)
    after = _two_workers_answering(port, killed)
    assert len(after & before) == 1  # the other worker served on

    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) == 0
    for pid in after:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_workers_stop_when_their_supervisor_is_killed_outright(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = two_workers
    workers = _two_workers_answering(port)
    supervisor.kill()
    supervisor.wait(10)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "orphaned workers kept running"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_that_keep_failing_to_start_stop_the_supervisor_with_status_1() -> None:
    command = [sys.executable, "-m", "api.serving", "tests.no_such_module:app", "--workers", "2"]
    supervisor = subprocess.Popen(
        [*command, "--port", str(_free_port())],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert supervisor.wait(90) == 1
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
