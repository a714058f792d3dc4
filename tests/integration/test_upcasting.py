"""Event schema evolution: an Invoice.Finalized stored before version 2 (no exchange rate, no
tax advisories) still loads, as version 2, in the application, the API and the projections."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.domain.invoice import Invoice, Status
from tests.conftest import TenantClient

V2_FIELDS = ("exchange_rate", "accounting_currency", "advisories")


def finalized_state(ledger: Ledger, invoice_id: UUID) -> tuple[str, dict[str, Any]]:
    """The topic and decoded state of an invoice's stored Finalized event."""
    for stored in ledger.recorder.select_events(invoice_id):
        if stored.topic.endswith("Invoice.Finalized"):
            state: dict[str, Any] = ledger.mapper.transcoder.decode(stored.state)
            return stored.topic, state
    raise AssertionError("no Finalized event")


def store_v1_finalized(ledger: Ledger, draft_id: UUID, template_id: UUID, number: str) -> None:
    """Append to the draft a Finalized event as version 1 of the class wrote it."""
    topic, state = finalized_state(ledger, template_id)
    assert state.pop("class_version") == 2
    for name in V2_FIELDS:
        del state[name]
    state["number"] = number
    draft = ledger.repository.get(draft_id)
    ledger.recorder.insert_events(
        [
            StoredEvent(
                originator_id=draft_id,
                originator_version=draft.version + 1,
                topic=topic,
                state=ledger.mapper.transcoder.encode(state),
            )
        ]
    )


def test_a_version_1_finalized_event_loads_as_version_2(client: TestClient, ledger: Ledger) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    template = tenant.finalized(customer_id=customer)
    draft = tenant.draft(customer)
    store_v1_finalized(ledger, UUID(draft["id"]), UUID(template["id"]), "INV-1999-000001")

    invoice = ledger.repository.get(UUID(draft["id"]))
    shown = tenant.get(f"/v1/invoices/{draft['id']}").json()
    history = tenant.get(f"/v1/invoices/{draft['id']}/history").json()["data"]

    assert isinstance(invoice, Invoice)
    assert invoice.status is Status.OPEN
    assert (invoice.exchange_rate, invoice.accounting_currency, invoice.advisories) == (
        None,
        None,
        (),
    )
    assert shown["number"] == "INV-1999-000001"
    assert shown["total"] == template["total"]
    assert (shown["exchange_rate"], shown["accounting_currency"], shown["tax_advisories"]) == (
        None,
        None,
        [],
    )
    [finalized] = [item for item in history if item["type"] == "Finalized"]
    assert {name: finalized["data"][name] for name in V2_FIELDS} == {
        "exchange_rate": None,
        "accounting_currency": None,
        "advisories": [],
    }
    # The projections consume the old event too.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = tenant.get("/v1/invoices", q="1999").json()["data"]
        if listed:
            break
        time.sleep(0.05)
    assert [row["number"] for row in listed] == ["INV-1999-000001"]
    assert listed[0]["status"] == "open"


def test_new_finalized_events_are_stored_as_version_2(client: TestClient, ledger: Ledger) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized()
    _, state = finalized_state(ledger, UUID(invoice["id"]))
    assert state["class_version"] == 2
    assert set(V2_FIELDS) <= set(state)
