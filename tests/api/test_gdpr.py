"""GDPR: personal data sealed per customer in the store, erasure by destroying the key
(refused within the retention of finalized documents unless the tenant says otherwise), and
the export of everything held about a customer."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.runner import Projectors, check
from tests.conftest import TenantClient

NAME = "Erika Mustermann"
EMAIL = "erika@example.org"
STREET = "Heidestrasse 17"
PERSON = {
    "name": NAME,
    "email": EMAIL,
    "address": {"line1": STREET, "city": "Koeln", "postal_code": "51147", "country": "DE"},
    "country": "DE",
    "kind": "consumer",
}

PLAN = {"code": "basic", "name": "Basic", "amount": "10.00", "currency": "EUR", "interval": "month"}


def _stored(location: DatabaseLocation, needle: str) -> int:
    """How many stored events or snapshots hold `needle` in the clear."""
    with psycopg.connect(location.conninfo()) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM ledger_events WHERE position(%s IN state) > 0)"
            " + (SELECT count(*) FROM ledger_snapshots WHERE position(%s IN state) > 0)",
            (needle.encode(), needle.encode()),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _projectors(client: TestClient) -> Projectors:
    app: Any = client.app
    projectors: Projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    return projectors


def _lenient(client: TestClient) -> TenantClient:
    return TenantClient(client, erase_within_retention=True)


def test_personal_data_is_never_stored_in_the_clear(
    tenant: TenantClient, location: DatabaseLocation
) -> None:
    unique = "Zeynep Quellhorst-Abendroth"
    created = tenant.post("/v1/customers", {**PERSON, "name": unique}, **{"Idempotency-Key": "g1"})
    customer = created.json()["id"]
    invoice = tenant.finalized(customer_id=customer)
    assert invoice["buyer"]["name"] == unique
    tenant.client.patch(
        f"/v1/customers/{customer}", json={"email": "z@example.org"}, headers=tenant.headers
    )

    assert tenant.get(f"/v1/customers/{customer}").json()["email"] == "z@example.org"
    for needle in (unique, EMAIL, "z@example.org", STREET):
        assert _stored(location, needle) == 0, needle
    # What is not personal stays readable to anyone holding the database.
    assert _stored(location, invoice["number"]) > 0


def test_erasure_is_refused_within_retention_and_changes_nothing(
    tenant: TenantClient,
) -> None:
    customer = tenant.customer(**PERSON)
    invoice = tenant.finalized(customer_id=customer)
    before = tenant.get(f"/v1/customers/{customer}").json()

    response = tenant.post(f"/v1/customers/{customer}/erase")

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "within_retention_period"
    issued = date.fromisoformat(invoice["issue_date"])
    assert problem["retained_until"] == date(issued.year + 10, 12, 31).isoformat()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert tenant.get(f"/v1/customers/{customer}").json() == before
    assert tenant.get(f"/v1/invoices/{invoice['id']}").json()["buyer"]["name"] == NAME


def test_a_customer_with_drafts_only_is_erased_and_can_no_longer_be_invoiced(
    tenant: TenantClient,
) -> None:
    customer = tenant.customer(**PERSON)
    draft = tenant.draft(customer_id=customer)

    response = tenant.post(f"/v1/customers/{customer}/erase")

    assert response.status_code == 200, response.text
    erased = response.json()
    assert (erased["name"], erased["email"], erased["address"]) == ("[erased]", None, None)
    assert erased["erased_on"] is not None
    assert erased["country"] == "DE"
    assert tenant.get(f"/v1/customers/{customer}").json() == erased
    refusals = [
        tenant.post(f"/v1/invoices/{draft['id']}/finalize", {}),
        tenant.post("/v1/invoices", {"customer_id": customer, "lines": [_line()]}),
        tenant.client.patch(
            f"/v1/customers/{customer}", json={"name": "Back"}, headers=tenant.headers
        ),
        tenant.post(f"/v1/customers/{customer}/erase"),
        tenant.post(
            "/v1/subscriptions",
            {"customer_id": customer, "plan": PLAN, "start_date": "2026-01-01"},
        ),
    ]
    for refused in refusals:
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "customer_erased"
    assert tenant.get(f"/v1/invoices/{draft['id']}").json()["status"] == "draft"


def _line() -> dict[str, str]:
    return {"description": "Beratung", "quantity": "1", "unit_price": "10.00", "tax_rate": "19"}


def test_erasure_within_retention_when_the_tenant_allows_it_reaches_every_event_and_view(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    tenant = _lenient(client)
    customer = tenant.post("/v1/customers", PERSON, **{"Idempotency-Key": "g2"}).json()["id"]
    invoice = tenant.finalized(customer_id=customer)
    note = tenant.post(
        "/v1/credit-notes", {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    ).json()
    assert note["total"] == invoice["total"]
    _projectors(client)

    response = tenant.post(f"/v1/customers/{customer}/erase")
    assert response.status_code == 200, response.text

    # The API: the customer, the invoice's and the credit note's buyer, their history.
    assert tenant.get(f"/v1/customers/{customer}").json()["name"] == "[erased]"
    after = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    assert after["buyer"]["name"] == "[erased]"
    assert after["buyer"]["address"] is None
    assert (after["number"], after["total"], after["tax_total"]) == (
        invoice["number"],
        invoice["total"],
        invoice["tax_total"],
    )
    assert after["buyer"]["country"] == "DE"
    assert tenant.get(f"/v1/credit-notes/{note['id']}").json()["buyer"]["name"] == "[erased]"
    history = tenant.get(f"/v1/customers/{customer}/export").json()["history"]
    assert history[0]["data"]["profile"]["name"] == "[erased]"
    # A replay of the request that created the customer no longer tells who it was.
    replay = tenant.post("/v1/customers", PERSON, **{"Idempotency-Key": "g2"})
    assert replay.headers.get("idempotent-replayed") == "true"
    assert NAME not in replay.text
    # The feed, the listing and the tax report rows.
    events = tenant.get("/v1/events", limit=1000).json()["data"]
    assert NAME not in str(events)
    assert EMAIL not in str(events)
    projectors = _projectors(client)
    listed = tenant.get("/v1/customers").json()["data"]
    assert [c["name"] for c in listed if c["id"] == customer] == ["[erased]"]
    with psycopg.connect(location.conninfo()) as conn:
        names = conn.execute(
            "SELECT DISTINCT buyer_name FROM tax_documents WHERE customer_id = %s", (customer,)
        ).fetchall()
    assert names == [("[erased]",)]
    # Every projection rebuilt from the events equals what incremental processing wrote.
    for projector in projectors.by_name.values():
        assert all(diff.equal for diff in check(ledger, projector, location)), projector.name
    # The store itself was not touched: the chain still verifies.
    auditor = tenant.key_for("auditor")
    verdict = client.get("/v1/audit/verify", headers=auditor).json()
    assert verdict["ok"] is True, verdict


def test_erasure_waits_for_running_subscriptions(tenant: TenantClient) -> None:
    customer = tenant.customer(**PERSON)
    response = tenant.post(
        "/v1/subscriptions",
        {
            "customer_id": customer,
            "plan": PLAN,
            "start_date": "2026-01-01",
            "billing": "in_advance",
        },
    )
    assert response.status_code == 201, response.text

    refused = tenant.post(f"/v1/customers/{customer}/erase")

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "customer_has_live_subscriptions"
    assert refused.json()["subscription_ids"] == [response.json()["id"]]


def test_the_export_holds_everything_about_the_customer_and_only_for_owners(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    customer = tenant.customer(**PERSON)
    invoice = tenant.finalized(customer_id=customer)
    draft = tenant.draft(customer_id=customer)
    tenant.draft()  # another customer's

    response = tenant.get(f"/v1/customers/{customer}/export")

    assert response.status_code == 200, response.text
    export = response.json()
    assert export["customer"]["name"] == NAME
    assert export["customer"]["email"] == EMAIL
    assert [e["type"] for e in export["history"]] == ["Created"]
    assert [i["id"] for i in export["invoices"]] == [invoice["id"], draft["id"]]
    assert export["invoices"][0]["buyer"]["name"] == NAME
    assert export["credit_notes"] == []
    assert export["subscriptions"] == []
    assert export["account"] == {"credit": {}, "refunds_owed": {}}
    issuer = tenant.key_for("issuer")
    denied = tenant.client.get(f"/v1/customers/{customer}/export", headers=issuer)
    assert denied.status_code == 403
    assert tenant_b.get(f"/v1/customers/{customer}/export").status_code == 404
    assert tenant_b.post(f"/v1/customers/{customer}/erase").status_code == 404
