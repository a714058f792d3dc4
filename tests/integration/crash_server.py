"""A server factory for the crash test: imports everything once, then forks a fresh API
server for every "serve" line on stdin and answers with its pid.

Forking from this single-threaded process (no connections, no threads) makes a restart
cost a lifespan start-up instead of a Python start-up, so the test can kill 200 servers.
"""

from __future__ import annotations

import os
import signal
import sys

import uvicorn

from api.app import create_app
from api.settings import Settings


def serve(port: int) -> None:
    config = uvicorn.Config(
        create_app(Settings()),
        host="127.0.0.1",
        port=port,
        log_level="error",
        access_log=False,
        lifespan="on",
    )
    uvicorn.Server(config).run()


def main() -> None:
    port = int(sys.argv[1])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed servers are reaped at once
    for line in sys.stdin:
        if line.strip() != "serve":
            continue
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                serve(port)
            finally:
                os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
