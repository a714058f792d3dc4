"""Crash safety: a server killed with SIGKILL at random moments loses no acknowledged
command, leaves no projection half-applied and no broken link in the hash chain; after a
restart the projectors continue from their tracked positions.

A factory process (crash_server.py) forks a fresh server for each round; a client streams
commands at it until, at a random moment, the server is killed. LEDGER_CRASH_KILLS sets the
number of rounds (default 200).
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.app import create_app
from api.settings import Settings
from ledger.persistence import DatabaseLocation
from projections.chain_verify import verify
from projections.runner import rebuild
from tests.conftest import ADMIN_TOKEN, TENANT

KILLS = int(os.environ.get("LEDGER_CRASH_KILLS", "200"))
ROOT = Path(__file__).resolve().parents[2]
LINES = [
    {"description": "Consulting", "quantity": "3", "unit_price": "120.00", "tax_rate": "19"},
    {"description": "Book", "quantity": "1", "unit_price": "9.99", "tax_rate": "7"},
]


@dataclass
class Acknowledged:
    """What the client was told succeeded: resource path -> the version it was told of."""

    versions: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    customers: list[str] = field(default_factory=list)
    open_invoices: list[str] = field(default_factory=list)

    def record(self, path: str, body: dict[str, Any]) -> None:
        self.versions[path] = max(self.versions.get(path, 0), body["version"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def database(location: DatabaseLocation) -> Iterator[DatabaseLocation]:
    own = location.with_dbname(f"ledger_crash_{uuid.uuid4().hex[:10]}")
    yield own
    with psycopg.connect(location.with_dbname("postgres").conninfo(), autocommit=True) as c:
        c.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(own.dbname))
        )


class Servers:
    """Forks servers on demand from a factory process that imported everything once."""

    def __init__(self, database: DatabaseLocation, data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database.url(),
            "LEDGER_DATA_DIR": str(data_dir),
            "LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
            "LEDGER_LOG_LEVEL": "critical",
        }
        self.factory = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.crash_server", str(self.port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def start(self, client: httpx.Client) -> int:
        assert self.factory.stdin is not None
        assert self.factory.stdout is not None
        self.factory.stdin.write("serve\n")
        self.factory.stdin.flush()
        pid = int(self.factory.stdout.readline())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if client.get(f"{self.base}/health").status_code == 200:
                    return pid
            except httpx.TransportError:
                time.sleep(0.01)
        raise AssertionError("the server did not start")

    def close(self) -> None:
        self.factory.kill()
        self.factory.wait()


def stream(
    client: httpx.Client, base: str, key: str, acked: Acknowledged, rng: random.Random
) -> None:
    """Send commands until the server stops answering; remember each acknowledged one."""
    headers = {"Authorization": f"Bearer {key}"}

    def post(path: str, body: Any) -> dict[str, Any] | None:
        response = client.post(f"{base}{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        return result

    try:
        while True:
            if not acked.customers or rng.random() < 0.1:
                customer = post("/v1/customers", {"name": "Kunde AG", "country": "DE"})
                assert customer is not None
                acked.customers.append(customer["id"])
                acked.record(f"/v1/customers/{customer['id']}", customer)
            body = {"customer_id": rng.choice(acked.customers), "lines": LINES}
            draft = post("/v1/invoices", body)
            assert draft is not None
            path = f"/v1/invoices/{draft['id']}"
            acked.record(path, draft)
            final = post(f"{path}/finalize", {})
            assert final is not None
            acked.record(path, final)
            acked.numbers[path] = final["number"]
            acked.open_invoices.append(draft["id"])
            if rng.random() < 0.5:
                target = rng.choice(acked.open_invoices)
                paid = post(
                    f"/v1/invoices/{target}/payments", {"amount": "1.00", "paid_at": "2026-01-05"}
                )
                assert paid is not None
                acked.record(f"/v1/invoices/{target}", paid)
    except httpx.TransportError:
        return  # killed: the command in flight was not acknowledged


@pytest.mark.timeout(1200)  # 200 server start-ups and kills, then a rebuild of everything
def test_sigkill_at_random_moments_loses_no_acknowledged_command(
    database: DatabaseLocation, tmp_path: Path
) -> None:
    rng = random.Random(20261123)
    servers = Servers(database, tmp_path)
    acked = Acknowledged()
    try:
        with httpx.Client(timeout=30) as client:
            pid = servers.start(client)
            signup = client.post(
                f"{servers.base}/v1/tenants",
                json=TENANT,
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert signup.status_code == 201, signup.text
            key = signup.json()["api_key"]["key"]
            for round_ in range(KILLS):
                if round_:
                    pid = servers.start(client)
                killer = threading.Timer(rng.uniform(0.005, 0.4), os.kill, (pid, signal.SIGKILL))
                killer.start()
                stream(client, servers.base, key, acked, rng)
                killer.join()
    finally:
        servers.close()

    settings = Settings.model_validate(
        {
            "DATABASE_URL": database.url(),
            "LEDGER_DATA_DIR": str(tmp_path),
            "LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
            "LEDGER_LOG_LEVEL": "warning",
        }
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as restarted:
        headers = {"Authorization": f"Bearer {key}"}
        assert len(acked.numbers) > KILLS // 4, "too few commands got through to mean much"
        for path, version in acked.versions.items():
            response = restarted.get(path, headers=headers)
            assert response.status_code == 200, path
            assert response.json()["version"] >= version, path
        for path, number in acked.numbers.items():
            assert restarted.get(path, headers=headers).json()["number"] == number
        app: Any = restarted.app
        ledger, projectors = app.state.ledger, app.state.projectors
        assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 60)
        listed = restarted.get("/v1/invoices", params={"limit": 200}, headers=headers).json()
        incremental = {name: p.view.all_rows() for name, p in projectors.by_name.items()}
        projectors.stop()
        for projector in projectors.by_name.values():
            rebuild(ledger, projector, database)
        rebuilt = {name: p.view.all_rows() for name, p in projectors.by_name.items()}
        projectors.start()
    assert rebuilt == incremental
    numbers = sorted(
        int(re.sub(r"\D", "", row["number"][-6:]))
        for row in incremental["invoice_list"]["invoice_list"]
        if row["number"]
    )
    assert numbers == list(range(1, len(numbers) + 1)), "the numbers have a gap"
    assert listed["data"]
    with psycopg.connect(database.conninfo()) as conn:
        chain = verify(conn)
    assert chain.ok, chain.breaks
