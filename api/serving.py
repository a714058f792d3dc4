"""Serving an ASGI app with uvicorn in one or several processes.

With several workers, uvicorn's own supervisor shares one listening socket among them, and
whichever worker wakes first accepts every connection waiting: long-lived keep-alive
clients (a shop's back end holding a pool of connections) all end up on one process while
the others idle. Here each worker listens on a socket of its own with SO_REUSEPORT, and
the kernel deals new connections out among them by a hash of the connection, so the
processes share the load.

    python -m api.serving APP [--host 127.0.0.1] [--port 8000] [--workers 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import structlog
import uvicorn

BACKLOG = 2048
RESTART_PAUSE = 1.0  # between restarts of a worker that died, so a crash loop cannot spin
ORPHAN_CHECK_SECONDS = 0.5
EARLY_EXIT_SECONDS = 10.0  # a worker that dies sooner after its start "failed to start"
EARLY_EXITS_TO_GIVE_UP = 5

log = structlog.get_logger("api")


def serve(app: str, host: str, port: int, workers: int = 1) -> int:
    """Serve `app` ("module:attribute") until SIGINT or SIGTERM; the exit status."""
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
        return 0
    return _Supervisor(app, host, port, workers).run()


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket that other processes may bind to the same address too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _worker(app: str, host: str, port: int) -> None:
    _stop_when_orphaned()
    sock = listening_socket(host, port)
    config = uvicorn.Config(app, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _stop_when_orphaned() -> None:
    """Stop this worker (as SIGTERM would) when its supervisor is gone, even killed outright:
    an orphan would keep taking connections on the port with no one to stop it."""
    supervisor = os.getppid()

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


class _Supervisor:
    """Starts the workers, restarts one that dies, and stops them all on a signal."""

    def __init__(self, app: str, host: str, port: int, workers: int) -> None:
        self.app, self.host, self.port = app, host, port
        self.context = multiprocessing.get_context("spawn")
        self.started: dict[int, float] = {}
        self.early_exits = 0  # in a row: workers that died soon after they started
        self.workers: list[BaseProcess] = [self._start() for _ in range(workers)]
        self.stopping = False

    def _start(self) -> BaseProcess:
        process = self.context.Process(
            target=_worker, args=(self.app, self.host, self.port), daemon=False
        )
        process.start()
        self.started[id(process)] = time.monotonic()
        return process

    def _replace(self, i: int, process: BaseProcess) -> None:
        """Start a worker in place of one that exited, unless workers keep dying at start
        (the port taken, the app not importable): then stop, as a single server would."""
        lived = time.monotonic() - self.started.pop(id(process), 0.0)
        self.early_exits = self.early_exits + 1 if lived < EARLY_EXIT_SECONDS else 0
        log.warning("worker_exited", pid=process.pid, exitcode=process.exitcode)
        if self.early_exits >= EARLY_EXITS_TO_GIVE_UP:
            log.error("workers_keep_failing", exits=self.early_exits)
            self.stopping, self.failed = True, True
            return
        time.sleep(RESTART_PAUSE)
        self.workers[i] = self._start()

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        """Supervise until a signal (0) or until workers keep failing (1)."""
        self.failed = False
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        while not self.stopping:
            time.sleep(0.2)
            for i, process in enumerate(self.workers):
                if not process.is_alive() and not self.stopping:
                    self._replace(i, process)
        for process in self.workers:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes the requests it has
        for process in self.workers:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        return 1 if self.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.serving", description=__doc__)
    parser.add_argument("app", help='the ASGI app, "module:attribute"')
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    return serve(args.app, args.host, args.port, args.workers)


if __name__ == "__main__":
    sys.exit(main())
