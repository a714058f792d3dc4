"""Generated requests against the OpenAPI description: no 5xx, and every answer as documented.

schemathesis derives requests, valid ones and deliberately invalid ones, for every operation
of /openapi.json. They are sent as the owner of a fresh tenant (and with the admin token to
POST /v1/tenants). Most ids a generator invents name nothing, so three in four are swapped
for ids of the tenant's real customers, invoices, lines and spare keys: the generated bodies
then reach the ledger's rules, not only the 404 path. Hypothesis runs derandomized, so a CI
run is repeatable.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import Settings
from tests.conftest import ADMIN_TOKEN, LINE, TenantClient

EXAMPLES_PER_OPERATION = 40
TODAY = datetime.now(UTC).date().isoformat()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class World:
    """A tenant with real resources, so that generated ids sometimes name something."""

    owner: TenantClient
    pools: dict[str, list[str]] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)  # invoice id -> one of its line ids

    def aim(self, case: Case) -> None:
        """Swap generated UUIDs for real ids, deterministically (by the generated value)."""
        path = case.path_parameters or {}
        for name, value in list(path.items()):
            path[name] = self._real(name, value)
        if path.get("invoice_id") in self.lines and _as_uuid(path.get("line_id")):
            path["line_id"] = self.lines[path["invoice_id"]]
        if isinstance(case.query, dict):
            case.query = self._swapped(case.query)
        if isinstance(case.body, dict):
            case.body = self._swapped(case.body)
        headers = case.headers or {}
        # A generated ETag almost never names the current version; most go, some stay.
        if "If-Match" in headers and zlib.crc32(str(headers["If-Match"]).encode()) % 4:
            del headers["If-Match"]

    def _swapped(self, value: Any, name: str = "") -> Any:
        if isinstance(value, dict):
            return {key: self._swapped(item, key) for key, item in value.items()}
        if isinstance(value, list):
            return [self._swapped(item, name) for item in value]
        return self._real(name, value)

    def _real(self, name: str, value: Any) -> Any:
        generated = _as_uuid(value)
        pool = self.pools.get(name)
        if generated is None or not pool or generated.int % 4 == 0:
            return value
        return pool[generated.int % len(pool)]

    def headers_for(self, case: Case) -> dict[str, str]:
        if case.path == "/v1/tenants":
            return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return self.owner.headers


def _as_uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _credit_note(owner: TenantClient, invoice: dict[str, Any], outcome: str) -> str:
    if outcome == "refund":
        paid = {"amount": invoice["total"], "paid_at": TODAY}
        assert owner.post(f"/v1/invoices/{invoice['id']}/payments", paid).status_code == 200
    body = {"invoice_id": invoice["id"], "reason": "Returned", "full": True, "outcome": outcome}
    response = owner.post("/v1/credit-notes", body)
    assert response.status_code == 201, response.text
    note_id: str = response.json()["id"]
    return note_id


@pytest.fixture(scope="module")
def world(client: TestClient) -> World:
    owner = TenantClient(client)
    customers = [owner.customer(name=f"Kunde {n}") for n in range(3)]
    drafts = [owner.draft(customers[n % 3], lines=[LINE, LINE]) for n in range(4)]
    opened = [owner.finalized(customer_id=customers[n % 3]) for n in range(3)]
    keys = [owner.post("/v1/api-keys", {"name": f"spare {n}", "role": "issuer"}) for n in range(3)]
    notes = [
        _credit_note(owner, invoice, outcome)
        for invoice, outcome in zip(
            [owner.finalized(customer_id=customers[n]) for n in range(2)],
            ["refund", "reduce_due"],
            strict=True,
        )
    ]
    receipt = {"amount": "500.00", "currency": "EUR", "paid_at": TODAY}
    payments = [owner.post("/v1/payments", {**receipt, "customer_id": c}) for c in customers]
    world = World(owner)
    world.pools = {
        "customer_id": customers,
        "invoice_id": [invoice["id"] for invoice in drafts + opened],
        "key_id": [key.json()["id"] for key in keys],
        "credit_note_id": notes,
        "payment_id": [payment.json()["id"] for payment in payments],
    }
    world.lines = {invoice["id"]: invoice["lines"][0]["id"] for invoice in drafts + opened}
    return world


@pytest.fixture(scope="module")
def session(client: TestClient) -> asgi.ASGIClient:
    """Calls the app the `client` fixture started; not entered, so no second lifespan."""
    return asgi.get_client(client.app)


def _load_schema() -> BaseSchema:
    """The app's OpenAPI description. Building it needs no database, only the routes."""
    app = create_app(Settings.model_validate({"LEDGER_LOG_LEVEL": "warning"}))
    loaded = schemathesis.openapi.from_dict(app.openapi())
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return loaded


schema = _load_schema()


def test_the_schema_under_test_is_the_one_the_app_serves(client: TestClient) -> None:
    assert client.get("/openapi.json").json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_response(
    case: Case, world: World, session: asgi.ASGIClient
) -> None:
    world.aim(case)
    response = case.call(session=session, headers=world.headers_for(case))
    case.validate_response(response, checks=CHECKS)
