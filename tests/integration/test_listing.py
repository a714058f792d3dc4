"""The invoice listing: read-your-writes, filters, pages, rebuild equals incremental."""

from typing import Any

from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.runner import rebuild
from tests.conftest import TenantClient


def test_a_list_read_right_after_a_write_sees_it(client: TestClient) -> None:
    tenant = TenantClient(client)
    for _ in range(5):
        invoice = tenant.finalized()
        listed = tenant.get("/v1/invoices", limit=1).json()["data"][0]
        assert (listed["id"], listed["number"], listed["status"]) == (
            invoice["id"],
            invoice["number"],
            "open",
        )


def test_filters_by_status_customer_dates_and_number(client: TestClient) -> None:
    tenant = TenantClient(client)
    alice, bob = tenant.customer(name="Alice"), tenant.customer(name="Bob")
    draft = tenant.draft(alice)
    paid = tenant.finalized(customer_id=alice)
    tenant.post(
        f"/v1/invoices/{paid['id']}/payments", {"amount": paid["total"], "paid_at": "2026-02-01"}
    )
    old = tenant.draft(bob)
    tenant.post(f"/v1/invoices/{old['id']}/finalize", {"issue_date": "2025-06-01"})

    def ids(**params: Any) -> set[str]:
        return {row["id"] for row in tenant.get("/v1/invoices", **params).json()["data"]}

    assert ids(status="draft") == {draft["id"]}
    assert ids(status="paid") == {paid["id"]}
    assert ids(customer_id=bob) == {old["id"]}
    assert ids(issued_from="2025-01-01", issued_to="2025-12-31") == {old["id"]}
    assert ids(overdue=True) == {old["id"]}
    assert ids(q="2025-0") == {old["id"]}
    assert ids() == {draft["id"], paid["id"], old["id"]}


def test_pages_follow_the_cursor_without_gaps_or_repeats(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    created = [tenant.draft(customer)["id"] for _ in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = tenant.get("/v1/invoices", **params).json()
        seen.extend(row["id"] for row in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))


def test_a_discarded_draft_leaves_the_listing(client: TestClient) -> None:
    tenant = TenantClient(client)
    draft = tenant.draft()
    assert (
        tenant.client.delete(f"/v1/invoices/{draft['id']}", headers=tenant.headers).status_code
        == 200
    )
    assert tenant.get("/v1/invoices").json()["data"] == []
    assert tenant.get(f"/v1/invoices/{draft['id']}").status_code == 404


def test_rebuilding_the_projections_yields_exactly_the_incremental_rows(
    client: TestClient,
    ledger: Ledger,
    location: DatabaseLocation,
) -> None:
    tenant = TenantClient(client)
    for _ in range(3):
        invoice = tenant.finalized()
        tenant.post(
            f"/v1/invoices/{invoice['id']}/payments", {"amount": "1.00", "paid_at": "2026-01-02"}
        )
    credited = tenant.finalized()
    tenant.post("/v1/credit-notes", {"invoice_id": credited["id"], "reason": "r", "full": True})
    refunded = tenant.finalized(customer_id=credited["customer_id"])
    payment = tenant.post(
        "/v1/payments",
        {
            "customer_id": credited["customer_id"],
            "amount": "500.00",
            "currency": "EUR",
            "paid_at": "2026-01-03",
            "allocations": [{"invoice_id": refunded["id"], "amount": "238.00"}],
        },
    ).json()
    tenant.post(
        f"/v1/payments/{payment['id']}/refunds", {"amount": "12.00", "refunded_at": "2026-01-04"}
    )
    tenant.post(
        "/v1/credit-notes",
        {"invoice_id": refunded["id"], "reason": "r", "full": True, "outcome": "refund"},
    )
    discarded = tenant.draft()
    tenant.client.delete(f"/v1/invoices/{discarded['id']}", headers=tenant.headers)
    tenant.client.patch(
        f"/v1/customers/{tenant.customer()}", json={"name": "Renamed"}, headers=tenant.headers
    )
    app: Any = client.app
    projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    incremental = {name: p.view.all_rows() for name, p in projectors.by_name.items()}
    projectors.stop()
    try:
        for projector in projectors.by_name.values():
            rebuild(ledger, projector, location)
        rebuilt = {name: p.view.all_rows() for name, p in projectors.by_name.items()}
    finally:
        projectors.start()
    assert rebuilt == incremental
    assert incremental["invoice_list"]["invoice_list"]
    assert incremental["receivables"]["open_items"]
    assert incremental["credit_note_list"]["credit_note_list"]
    kinds = {row["kind"] for row in incremental["receivables"]["statement_lines"]}
    assert {"invoice", "credit_note", "payment", "refund"} <= kinds
