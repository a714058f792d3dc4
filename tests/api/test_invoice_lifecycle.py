"""The lifecycle through HTTP: each illegal transition is a 409 and changes nothing."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import LINE, TenantClient

Step = Callable[[TenantClient, dict[str, Any]], Any]


def finalize(t: TenantClient, inv: dict[str, Any]) -> Any:
    return t.post(f"/v1/invoices/{inv['id']}/finalize", {})


def pay(amount: str) -> Step:
    return lambda t, inv: t.post(
        f"/v1/invoices/{inv['id']}/payments", {"amount": amount, "paid_at": "2026-01-10"}
    )


def void(t: TenantClient, inv: dict[str, Any]) -> Any:
    return t.post(f"/v1/invoices/{inv['id']}/void", {"reason": "wrong customer"})


def uncollectible(t: TenantClient, inv: dict[str, Any]) -> Any:
    return t.post(f"/v1/invoices/{inv['id']}/mark-uncollectible")


def add_line(t: TenantClient, inv: dict[str, Any]) -> Any:
    return t.post(f"/v1/invoices/{inv['id']}/lines", LINE)


def change_line(t: TenantClient, inv: dict[str, Any]) -> Any:
    return t.client.patch(
        f"/v1/invoices/{inv['id']}/lines/{inv['lines'][0]['id']}",
        json={"quantity": "5"},
        headers=t.headers,
    )


def remove_line(t: TenantClient, inv: dict[str, Any]) -> Any:
    return t.client.delete(
        f"/v1/invoices/{inv['id']}/lines/{inv['lines'][0]['id']}", headers=t.headers
    )


def discard(t: TenantClient, inv: dict[str, Any]) -> Any:
    return t.client.delete(f"/v1/invoices/{inv['id']}", headers=t.headers)


STATES: dict[str, list[Step]] = {
    "draft": [],
    "open": [finalize],
    "partly_paid": [finalize, pay("10.00")],
    "paid": [finalize, pay("238.00")],
    "void": [finalize, void],
    "uncollectible": [finalize, uncollectible],
}

ILLEGAL = [
    ("draft", "pay", pay("1.00")),
    ("draft", "void", void),
    ("draft", "mark uncollectible", uncollectible),
    *[(s, "finalize", finalize) for s in ("open", "paid", "void", "uncollectible")],
    *[
        (s, name, step)
        for s in ("open", "paid", "void", "uncollectible")
        for name, step in (
            ("add a line", add_line),
            ("change a line", change_line),
            ("remove a line", remove_line),
            ("discard", discard),
        )
    ],
    ("partly_paid", "void", void),
    ("paid", "void", void),
    ("paid", "pay", pay("0.01")),
    ("paid", "mark uncollectible", uncollectible),
    ("void", "pay", pay("1.00")),
    ("void", "void", void),
    ("void", "mark uncollectible", uncollectible),
    ("uncollectible", "void", void),
    ("uncollectible", "mark uncollectible", uncollectible),
    ("open", "overpay", pay("238.01")),
]


@pytest.mark.parametrize(
    ("state", "action", "step"), ILLEGAL, ids=[f"{s}-{a}" for s, a, _ in ILLEGAL]
)
def test_an_illegal_transition_is_a_409_and_changes_nothing(
    client: TestClient, state: str, action: str, step: Step
) -> None:
    tenant = TenantClient(client)
    invoice = tenant.draft()
    for setup in STATES[state]:
        assert setup(tenant, invoice).status_code == 200
    before = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    response = step(tenant, before)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert tenant.get(f"/v1/invoices/{invoice['id']}").json() == before


def test_the_whole_happy_path(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.draft()
    path = f"/v1/invoices/{invoice['id']}"
    assert invoice["status"] == "draft"
    assert invoice["number"] is None
    invoice = tenant.post(f"{path}/lines", {**LINE, "quantity": "1", "tax_rate": "7"}).json()
    assert invoice["subtotal"] == "300.00"
    assert invoice["tax_total"] == "45.00"  # 200 x 19% + 100 x 7%
    opened = finalize(tenant, invoice).json()
    assert opened["status"] == "open"
    assert opened["seller"]["legal_name"] == "Muster GmbH"
    assert opened["buyer"]["name"] == "Kunde AG"
    assert opened["due_date"] > opened["issue_date"]
    partly = pay("100.00")(tenant, opened).json()
    assert (partly["status"], partly["amount_due"]) == ("open", "245.00")
    paid = pay("245.00")(tenant, partly).json()
    assert (paid["status"], paid["amount_due"]) == ("paid", "0.00")


def test_an_uncollectible_invoice_can_be_paid_later(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.draft()
    finalize(tenant, invoice)
    uncollectible(tenant, invoice)
    assert pay("238.00")(tenant, invoice).json()["status"] == "paid"


def test_if_match_refuses_a_stale_change(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.draft()
    stale = tenant.post(f"/v1/invoices/{invoice['id']}/finalize", {}, **{"If-Match": '"7"'})
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_mismatch"
    fresh = tenant.post(f"/v1/invoices/{invoice['id']}/finalize", {}, **{"If-Match": '"1"'})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == '"2"'
