"""Shared fixtures: a fresh database per test run on a real PostgreSQL.

The server is the one DATABASE_URL names, else the embedded PostgreSQL under
LEDGER_DATA_DIR (default ./var). Each run gets its own database, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.app import create_app
from api.checkpoints import new_key
from api.settings import Settings
from ledger.application import Ledger
from ledger.context import CommandContext
from ledger.persistence import DatabaseLocation, default_data_dir, embedded_server_location
from projections.migrations import ensure_database, migrate
from tests.tenant_profile import TENANT

ADMIN_TOKEN = "test-admin-token"


def _server() -> DatabaseLocation:
    url = os.environ.get("DATABASE_URL")
    if url:
        return DatabaseLocation.from_url(url)
    return embedded_server_location(default_data_dir())


def fresh_database(server: DatabaseLocation) -> Iterator[DatabaseLocation]:
    """A new, migrated database on the server, dropped afterwards."""
    db = server.with_dbname(f"ledger_test_{uuid.uuid4().hex[:10]}")
    ensure_database(db)
    migrate(db)
    yield db
    with psycopg.connect(server.with_dbname("postgres").conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.dbname))
        )


def app_settings(location: DatabaseLocation, data_dir: Path) -> Settings:
    return Settings.model_validate(
        {
            "DATABASE_URL": location.url(),
            "LEDGER_DATA_DIR": str(data_dir),
            "LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
            "LEDGER_LOG_LEVEL": "warning",
            # Made per run: no signing key lives in the repository.
            "LEDGER_CHECKPOINT_KEY": new_key(),
        }
    )


@pytest.fixture(scope="session")
def location() -> Iterator[DatabaseLocation]:
    yield from fresh_database(_server())


@pytest.fixture(scope="session")
def settings(location: DatabaseLocation, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return app_settings(location, tmp_path_factory.mktemp("data"))


def serve(settings: Settings) -> Iterator[TestClient]:
    """The app started on `settings`, with a client to call it; stopped afterwards."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def ledger_behind(client: TestClient) -> Ledger:
    """The application instance behind `client`."""
    app: Any = client.app
    result: Ledger = app.state.ledger
    return result


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    yield from serve(settings)


@pytest.fixture(scope="session")
def ledger(client: TestClient) -> Ledger:
    return ledger_behind(client)


class TenantClient:
    """A tenant created through the API, with helpers that call the API as its owner."""

    def __init__(self, client: TestClient, **overrides: Any) -> None:
        self.client = client
        response = client.post(
            "/v1/tenants",
            json={**TENANT, **overrides},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        self.id = uuid.UUID(body["tenant"]["id"])
        self.key = body["api_key"]["key"]
        self.headers = {"Authorization": f"Bearer {self.key}"}

    def key_for(self, role: str) -> dict[str, str]:
        response = self.client.post(
            "/v1/api-keys", json={"name": role, "role": role}, headers=self.headers
        )
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['key']}"}

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=json, headers={**self.headers, **kwargs})

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers)

    def customer(self, **overrides: Any) -> str:
        body = {"name": "Kunde AG", "country": "DE", "kind": "business", **overrides}
        response = self.post("/v1/customers", body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def draft(
        self,
        customer_id: str | None = None,
        lines: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "customer_id": customer_id or self.customer(),
            "lines": lines if lines is not None else [LINE],
            **extra,
        }
        response = self.post("/v1/invoices", body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def finalized(self, **kwargs: Any) -> dict[str, Any]:
        invoice = self.draft(**kwargs)
        response = self.post(f"/v1/invoices/{invoice['id']}/finalize", {})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


LINE = {"description": "Consulting", "quantity": "2", "unit_price": "100.00", "tax_rate": "19"}


@pytest.fixture
def tenant(client: TestClient) -> TenantClient:
    return TenantClient(client)


@pytest.fixture
def tenant_b(client: TestClient) -> TenantClient:
    return TenantClient(
        client,
        legal_name="Other BV",
        country="NL",
        currency="EUR",
        vat_id=None,
        address={**TENANT["address"], "country": "NL"},
    )


def command_context(tenant_id: uuid.UUID | None, actor: str = "test") -> CommandContext:
    return CommandContext(tenant_id=tenant_id, actor=actor, correlation_id=uuid.uuid4().hex)


def data_dir() -> Path:
    return default_data_dir()
