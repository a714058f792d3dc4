"""Tenant isolation: one tenant's API key never sees nor changes another tenant's data.

Every route with an id in its path is in ROUTES; a test fails when a route is added to the
app without a row here, so coverage cannot silently rot. Each row is checked three ways:
tenant A's owner key gets the 404 an unknown id gets, tenant B's resource is unchanged, and
the very same request made with B's own key succeeds (so the 404 is about the tenant, not a
bad request) and, for mutations, visibly changes B's resource (so "unchanged" can fail).
Listings and reports never show B's rows, and naming one of B's ids inside a request body is
refused exactly as an id that exists nowhere, appending no event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledger.application import Ledger
from tests.api.test_roles import ADMIN_TOKEN_ROUTES
from tests.conftest import LINE, TenantClient

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI releases that still list included routes flat

    def iter_route_contexts(routes: Iterable[Any]) -> Iterable[Any]:  # type: ignore[misc]
        return routes


PROBLEM_JSON = "application/problem+json"
TODAY = datetime.now(UTC).date().isoformat()
Snapshot = tuple[int, str | None, Any]


@dataclass(frozen=True)
class Target:
    """A resource of tenant B: the path parameters naming it and where B reads its state."""

    params: dict[str, str]
    read: str  # a GET path; for an API key, a route the key itself is used on
    reader: dict[str, str] | None = None  # headers to read with; default: B's owner key


def _customer(b: TenantClient) -> Target:
    customer_id = b.customer()
    return Target({"customer_id": customer_id}, f"/v1/customers/{customer_id}")


def _draft(b: TenantClient) -> Target:
    invoice = b.draft()
    params = {"invoice_id": invoice["id"], "line_id": invoice["lines"][0]["id"]}
    return Target(params, f"/v1/invoices/{invoice['id']}")


def _open_invoice(b: TenantClient) -> Target:
    invoice = b.finalized()
    return Target({"invoice_id": invoice["id"]}, f"/v1/invoices/{invoice['id']}")


def _credit_note(b: TenantClient) -> Target:
    """A credit note that owes a refund (so paying the refund out is allowed)."""
    invoice = b.finalized()
    paid = b.post(
        f"/v1/invoices/{invoice['id']}/payments", {"amount": invoice["total"], "paid_at": TODAY}
    )
    assert paid.status_code == 200, paid.text
    body = {"invoice_id": invoice["id"], "reason": "Returned", "full": True, "outcome": "refund"}
    response = b.post("/v1/credit-notes", body)
    assert response.status_code == 201, response.text
    note_id = response.json()["id"]
    return Target({"credit_note_id": note_id}, f"/v1/credit-notes/{note_id}")


def _payment(b: TenantClient) -> Target:
    """A payment not allocated to any invoice (so part of it may be refunded)."""
    body = {"customer_id": b.customer(), "amount": "50.00", "currency": "EUR", "paid_at": TODAY}
    response = b.post("/v1/payments", body)
    assert response.status_code == 201, response.text
    payment_id = response.json()["id"]
    return Target({"payment_id": payment_id}, f"/v1/payments/{payment_id}")


def _api_key(b: TenantClient) -> Target:
    response = b.post("/v1/api-keys", {"name": "bookkeeping", "role": "issuer"})
    assert response.status_code == 201, response.text
    key = response.json()
    # A key has no GET route: its state is whether it still authenticates.
    return Target({"key_id": key["id"]}, "/v1/tenant", {"Authorization": f"Bearer {key['key']}"})


def _subscription(b: TenantClient) -> Target:
    plan = {"code": "basic", "name": "Basic", "amount": "30.00", "currency": "EUR"}
    body = {"customer_id": b.customer(), "plan": plan, "start_date": TODAY}
    response = b.post("/v1/subscriptions", body)
    assert response.status_code == 201, response.text
    sub_id = response.json()["id"]
    return Target({"subscription_id": sub_id}, f"/v1/subscriptions/{sub_id}")


def _paused_subscription(b: TenantClient) -> Target:
    target = _subscription(b)
    response = b.post(f"/v1/subscriptions/{target.params['subscription_id']}/pause", {})
    assert response.status_code == 200, response.text
    return target


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    target: Callable[[TenantClient], Target]
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    mutates: bool = False

    @property
    def id(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


ROUTES = [
    Route("GET", "/v1/customers/{customer_id}", _customer),
    Route("PATCH", "/v1/customers/{customer_id}", _customer, {"name": "Renamed"}, mutates=True),
    Route("GET", "/v1/invoices/{invoice_id}", _draft),
    Route("GET", "/v1/invoices/{invoice_id}", _draft, query={"version": "1"}),
    Route("GET", "/v1/invoices/{invoice_id}", _draft, query={"as_of": "2100-01-01T00:00:00Z"}),
    Route("GET", "/v1/invoices/{invoice_id}/history", _draft),
    Route("POST", "/v1/invoices/{invoice_id}/lines", _draft, LINE, mutates=True),
    Route(
        "PATCH",
        "/v1/invoices/{invoice_id}/lines/{line_id}",
        _draft,
        {"quantity": "5"},
        mutates=True,
    ),
    Route("DELETE", "/v1/invoices/{invoice_id}/lines/{line_id}", _draft, mutates=True),
    Route("DELETE", "/v1/invoices/{invoice_id}", _draft, mutates=True),
    Route("POST", "/v1/invoices/{invoice_id}/finalize", _draft, {}, mutates=True),
    Route(
        "POST",
        "/v1/invoices/{invoice_id}/payments",
        _open_invoice,
        {"amount": "10.00", "paid_at": TODAY, "method": "bank_transfer"},
        mutates=True,
    ),
    Route(
        "POST",
        "/v1/invoices/{invoice_id}/void",
        _open_invoice,
        {"reason": "Issued in error"},
        mutates=True,
    ),
    Route("POST", "/v1/invoices/{invoice_id}/mark-uncollectible", _open_invoice, mutates=True),
    Route("DELETE", "/v1/api-keys/{key_id}", _api_key, mutates=True),
    Route("GET", "/v1/customers/{customer_id}/statement", _customer),
    Route("POST", "/v1/customers/{customer_id}/erase", _customer, mutates=True),
    Route("GET", "/v1/customers/{customer_id}/export", _customer),
    Route("GET", "/v1/credit-notes/{credit_note_id}", _credit_note),
    Route("GET", "/v1/credit-notes/{credit_note_id}/history", _credit_note),
    Route(
        "POST",
        "/v1/credit-notes/{credit_note_id}/refund",
        _credit_note,
        {"refunded_at": TODAY},
        mutates=True,
    ),
    Route("GET", "/v1/payments/{payment_id}", _payment),
    # The first PDF of a finalized document records its hash: a change B can see.
    Route("GET", "/v1/invoices/{invoice_id}/pdf", _open_invoice, mutates=True),
    Route("GET", "/v1/invoices/{invoice_id}/pdf", _open_invoice, query={"version": "1"}),
    Route("GET", "/v1/credit-notes/{credit_note_id}/pdf", _credit_note, mutates=True),
    Route("GET", "/v1/credit-notes/{credit_note_id}/pdf", _credit_note, query={"version": "1"}),
    Route(
        "POST",
        "/v1/payments/{payment_id}/refunds",
        _payment,
        {"amount": "10.00", "refunded_at": TODAY},
        mutates=True,
    ),
    Route("GET", "/v1/subscriptions/{subscription_id}", _subscription),
    Route(
        "POST",
        "/v1/subscriptions/{subscription_id}/change-plan",
        _subscription,
        {"plan": {"code": "pro", "name": "Pro", "amount": "60.00", "currency": "EUR"}},
        mutates=True,
    ),
    Route("POST", "/v1/subscriptions/{subscription_id}/pause", _subscription, {}, mutates=True),
    Route(
        "POST",
        "/v1/subscriptions/{subscription_id}/resume",
        _paused_subscription,
        {},
        mutates=True,
    ),
    Route(
        "POST",
        "/v1/subscriptions/{subscription_id}/cancel",
        _subscription,
        {"at": "now"},
        mutates=True,
    ),
    Route("GET", "/v1/subscriptions/{subscription_id}/usage", _subscription),
]


def routes_with_path_parameters(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route of the app whose path names a resource."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        if path and "{" in path:
            found |= {(method, path) for method in route.methods or ()}
    return found


def _call(
    client: TestClient, route: Route, params: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    return client.request(
        route.method,
        route.path.format(**params),
        json=route.body,
        params=route.query,
        headers=headers,
    )


def _snapshot(client: TestClient, b: TenantClient, target: Target) -> Snapshot:
    response = client.get(target.read, headers=target.reader or b.headers)
    return response.status_code, response.headers.get("ETag"), response.json()


def _without(ids: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """The problem body with the ids it names blanked, to compare two 404s."""
    text = repr(body)
    for value in ids.values():
        text = text.replace(value, "<id>")
    return {"text": text}


def test_every_route_with_an_id_in_its_path_is_in_the_isolation_table(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    routed = routes_with_path_parameters(app)
    # The admin's routes take the admin token, not a tenant's key (tests/api/test_roles.py).
    admin = {(method, path) for method, path in ADMIN_TOKEN_ROUTES if "{" in path}
    tabled = {(route.method, route.path) for route in ROUTES} | admin
    assert routed, "no route with a path parameter found: the route enumeration is broken"
    assert routed - tabled == set(), "routes missing from ROUTES (add a row per new route)"
    assert tabled - routed == set(), "ROUTES names routes the app no longer has"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_key_of_one_tenant_gets_404_for_another_tenants_resource_and_changes_nothing(
    client: TestClient, tenant: TenantClient, tenant_b: TenantClient, route: Route
) -> None:
    target = route.target(tenant_b)
    before = _snapshot(client, tenant_b, target)
    assert before[0] == 200

    attempts = [tenant.headers]
    if route.mutates and before[1] is not None:
        # Naming B's real version must not turn the 404 into a 409 that confirms it exists.
        attempts.append({**tenant.headers, "If-Match": before[1]})
    unknown = {name: str(uuid.uuid4()) for name in target.params}
    unknown_response = _call(client, route, unknown, tenant.headers)
    assert unknown_response.status_code == 404, unknown_response.text
    for headers in attempts:
        response = _call(client, route, target.params, headers)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "not_found"
        assert "ETag" not in response.headers
        # Indistinguishable from an id that exists nowhere: nothing leaks B's existence.
        assert _without(target.params, response.json()) == _without(
            unknown, unknown_response.json()
        )
        assert _snapshot(client, tenant_b, target) == before

    own = _call(client, route, target.params, tenant_b.headers)
    assert own.status_code < 300, own.text
    after_own = _snapshot(client, tenant_b, target)
    assert (after_own != before) is route.mutates


def test_customer_listing_never_shows_another_tenants_customers(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    own = {tenant.customer(name="Eigene Kunde GmbH") for _ in range(3)}
    theirs = {tenant_b.customer(name="Hidden BV") for _ in range(3)}

    seen = _all_ids(tenant, "/v1/customers")

    assert own <= seen
    assert not seen & theirs
    assert _all_ids(tenant_b, "/v1/customers") == theirs


def test_invoice_listing_never_shows_another_tenants_invoices(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    own = {tenant.draft()["id"], tenant.finalized()["id"]}
    b_customer = tenant_b.customer()
    theirs = {tenant_b.draft(b_customer)["id"], tenant_b.finalized(customer_id=b_customer)["id"]}

    seen = _all_ids(tenant, "/v1/invoices")

    assert own <= seen
    assert not seen & theirs
    assert _all_ids(tenant, "/v1/invoices", customer_id=b_customer) == set()
    assert _all_ids(tenant, "/v1/invoices", status="open") & theirs == set()
    assert _all_ids(tenant_b, "/v1/invoices") == theirs


def _all_ids(owner: TenantClient, path: str, **filters: str) -> set[str]:
    """Every id of a listing, following cursors page by page (small pages, to page at all)."""
    ids: set[str] = set()
    cursor: str | None = None
    while True:
        params = {**filters, "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = owner.get(path, **params)
        assert response.status_code == 200, response.text
        page = response.json()
        ids |= {row["id"] for row in page["data"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_invoice_for_another_tenants_customer_is_refused_and_creates_nothing(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    tenant.draft()  # so the listing compared below is not trivially empty
    b_customer = tenant_b.customer()
    a_before = _all_ids(tenant, "/v1/invoices")
    b_before = _all_ids(tenant_b, "/v1/invoices")

    response = tenant.post("/v1/invoices", {"customer_id": b_customer, "lines": [LINE]})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "invalid_input"
    assert _all_ids(tenant, "/v1/invoices") == a_before
    assert _all_ids(tenant_b, "/v1/invoices") == b_before
    # The same body from B itself is fine: the refusal is about whose customer it is.
    assert tenant_b.post("/v1/invoices", {"customer_id": b_customer, "lines": [LINE]}).is_success


def test_same_idempotency_key_in_two_tenants_never_replays_the_other_tenants_response(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    key = f"shared-{uuid.uuid4()}"
    body = {"name": "Same Name AG", "country": "DE"}

    first = tenant.post("/v1/customers", body, **{"Idempotency-Key": key})
    second = tenant_b.post("/v1/customers", body, **{"Idempotency-Key": key})
    other_body = tenant_b.post(
        "/v1/customers", {**body, "name": "Other"}, **{"Idempotency-Key": f"{key}-2"}
    )
    reused_elsewhere = tenant.post(
        "/v1/customers", {**body, "name": "Other"}, **{"Idempotency-Key": f"{key}-2"}
    )

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["id"] in _all_ids(tenant_b, "/v1/customers")
    assert second.json()["id"] not in _all_ids(tenant, "/v1/customers")
    assert other_body.status_code == reused_elsewhere.status_code == 201
    assert "Idempotent-Replayed" not in reused_elsewhere.headers


@dataclass(frozen=True)
class Reference:
    """A request of tenant A whose body names ids; `{...}` placeholders name B's or A's."""

    label: str
    path: str
    body: dict[str, Any]


REFERENCES = [
    Reference("invoice for B's customer", "/v1/invoices", {"customer_id": "{b_customer}"}),
    Reference(
        "credit note on B's invoice",
        "/v1/credit-notes",
        {"invoice_id": "{b_invoice}", "reason": "Returned", "full": True},
    ),
    Reference(
        "payment from B's customer",
        "/v1/payments",
        {"customer_id": "{b_customer}", "amount": "5.00", "currency": "EUR", "paid_at": TODAY},
    ),
    Reference(
        "payment allocated to B's invoice",
        "/v1/payments",
        {
            "customer_id": "{a_customer}",
            "amount": "5.00",
            "currency": "EUR",
            "paid_at": TODAY,
            "allocations": [{"invoice_id": "{b_invoice}", "amount": "5.00"}],
        },
    ),
]


def _filled(body: Any, ids: dict[str, str]) -> Any:
    if isinstance(body, dict):
        return {key: _filled(value, ids) for key, value in body.items()}
    if isinstance(body, list):
        return [_filled(value, ids) for value in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return ids[body[1:-1]]
    return body


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda reference: reference.label)
def test_naming_another_tenants_id_in_a_body_is_refused_as_if_it_did_not_exist(
    tenant: TenantClient, tenant_b: TenantClient, ledger: Ledger, reference: Reference
) -> None:
    b_invoice = tenant_b.finalized()
    theirs = {"b_customer": b_invoice["customer_id"], "b_invoice": b_invoice["id"]}
    unknown = {"b_customer": str(uuid.uuid4()), "b_invoice": str(uuid.uuid4())}
    a_customer = tenant.customer()
    b_before = tenant_b.get(f"/v1/invoices/{b_invoice['id']}").json()
    position = ledger.recorder.max_notification_id()

    named = tenant.post(
        reference.path, _filled(reference.body, {**theirs, "a_customer": a_customer})
    )
    nowhere = tenant.post(
        reference.path, _filled(reference.body, {**unknown, "a_customer": a_customer})
    )

    assert named.status_code in (404, 422), named.text
    assert named.headers["content-type"] == PROBLEM_JSON
    assert (named.status_code, named.json()["code"]) == (
        nowhere.status_code,
        nowhere.json()["code"],
    )
    assert ledger.recorder.max_notification_id() == position, "a refused request appended events"
    assert tenant_b.get(f"/v1/invoices/{b_invoice['id']}").json() == b_before


def test_credit_note_listing_never_shows_another_tenants_credit_notes(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    own = {_credit_note(tenant).params["credit_note_id"]}
    b_note = _credit_note(tenant_b).params["credit_note_id"]
    b_invoice = tenant_b.get(f"/v1/credit-notes/{b_note}").json()["invoice_id"]

    seen = _all_ids(tenant, "/v1/credit-notes")

    assert own <= seen
    assert b_note not in seen
    assert _all_ids(tenant, "/v1/credit-notes", invoice_id=b_invoice) == set()
    assert _all_ids(tenant_b, "/v1/credit-notes") == {b_note}


def test_aging_report_never_shows_another_tenants_receivables(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    own = tenant.finalized()
    theirs = tenant_b.finalized()

    rows = tenant.get("/v1/reports/aging").json()["rows"]
    csv = tenant.client.get("/v1/reports/aging", headers={**tenant.headers, "Accept": "text/csv"})

    assert {row["customer_id"] for row in rows} == {own["customer_id"]}
    assert theirs["customer_id"] not in csv.text
    assert own["customer_id"] in csv.text
