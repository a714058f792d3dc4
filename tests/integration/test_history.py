"""Auditors: history and past states match what the API showed at the time."""

import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import LINE, TenantClient


def test_every_past_version_reads_back_exactly_as_it_was_shown(client: TestClient) -> None:
    tenant = TenantClient(client)
    shown: list[dict[str, Any]] = []
    invoice = tenant.draft()
    shown.append(invoice)
    path = f"/v1/invoices/{invoice['id']}"
    shown.append(tenant.post(f"{path}/lines", {**LINE, "unit_price": "5.00"}).json())
    shown.append(tenant.post(f"{path}/finalize", {}).json())
    shown.append(
        tenant.post(f"{path}/payments", {"amount": "50.00", "paid_at": "2026-01-05"}).json()
    )
    for body in shown:
        past = tenant.get(path, version=body["version"])
        assert past.status_code == 200
        assert past.json() == body


def test_as_of_an_instant_gives_the_state_then(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.draft()
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    tenant.post(f"/v1/invoices/{invoice['id']}/finalize", {})
    then = tenant.get(f"/v1/invoices/{invoice['id']}", as_of=between).json()
    assert then == invoice
    before = tenant.get(f"/v1/invoices/{invoice['id']}", as_of="2000-01-01T00:00:00Z")
    assert before.status_code == 404


def test_history_lists_every_event_with_its_actor_in_order(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized()
    tenant.post(
        f"/v1/invoices/{invoice['id']}/void",
        {"reason": "sent twice"},
        **{"X-Correlation-ID": "ticket-42"},
    )
    history = tenant.get(f"/v1/invoices/{invoice['id']}/history").json()["data"]
    assert [h["type"] for h in history] == ["Drafted", "Finalized", "Voided"]
    assert [h["version"] for h in history] == [1, 2, 3]
    assert history[2]["correlation_id"] == "ticket-42"
    assert history[2]["data"] == {"reason": "sent twice"}
    assert len({h["actor"] for h in history}) == 1
    assert history[1]["data"]["number"] == invoice["number"]
