"""Roles: what each API key may do, route by route, and who gets in at all.

owner: everything. issuer: write and read documents. accountant: read and reports.
auditor: read, reports, history, past versions and the event feed. A refused request is a 403
problem+json and appends no event. Every route of the app is in ROUTES (a test fails when
one is missing), so a new route gets its permission decided here, explicitly.
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

from api.auth import ROLE_PERMISSIONS, Permission
from ledger.application import Ledger
from ledger.domain.api_key import Role
from tests.conftest import ADMIN_TOKEN, LINE, TENANT, TenantClient
from tests.pdf import samples

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI releases that still list included routes flat

    def iter_route_contexts(routes: Iterable[Any]) -> Iterable[Any]:  # type: ignore[misc]
        return routes


PROBLEM_JSON = "application/problem+json"
ROLES = ("owner", "issuer", "accountant", "auditor")
EVERYONE = frozenset(ROLES)
WRITERS = frozenset({"owner", "issuer"})
ADMINS = frozenset({"owner"})
AUDITORS = frozenset({"owner", "auditor"})
REPORTERS = frozenset({"owner", "accountant", "auditor"})
TODAY = datetime.now(UTC).date().isoformat()
THIS_YEAR = {"from": f"{TODAY[:4]}-01-01", "to": f"{TODAY[:4]}-12-31"}


@dataclass(frozen=True)
class Target:
    """What a request acts on: its path parameters, and a GET that shows its state."""

    params: dict[str, str] = field(default_factory=dict)
    read: str = "/v1/tenant"


def _tenant(owner: TenantClient) -> Target:
    return Target()


def _customers(owner: TenantClient) -> Target:
    owner.customer()
    return Target({}, "/v1/customers")


def _customer(owner: TenantClient) -> Target:
    customer_id = owner.customer()
    return Target({"customer_id": customer_id}, f"/v1/customers/{customer_id}")


def _invoices(owner: TenantClient) -> Target:
    invoice = owner.draft()
    return Target({"customer_id": invoice["customer_id"]}, "/v1/invoices")


def _draft(owner: TenantClient) -> Target:
    invoice = owner.draft()
    params = {"invoice_id": invoice["id"], "line_id": invoice["lines"][0]["id"]}
    return Target(params, f"/v1/invoices/{invoice['id']}")


def _open_invoice(owner: TenantClient) -> Target:
    invoice = owner.finalized()
    return Target({"invoice_id": invoice["id"]}, f"/v1/invoices/{invoice['id']}")


def _credit_note(owner: TenantClient) -> Target:
    """A credit note that owes a refund (so paying the refund out is allowed)."""
    invoice = owner.finalized()
    owner.post(
        f"/v1/invoices/{invoice['id']}/payments", {"amount": invoice["total"], "paid_at": TODAY}
    )
    body = {"invoice_id": invoice["id"], "reason": "Returned", "full": True, "outcome": "refund"}
    response = owner.post("/v1/credit-notes", body)
    assert response.status_code == 201, response.text
    note_id = response.json()["id"]
    return Target({"credit_note_id": note_id}, f"/v1/credit-notes/{note_id}")


def _payment(owner: TenantClient) -> Target:
    body = {"customer_id": owner.customer(), "amount": "50.00", "currency": "EUR", "paid_at": TODAY}
    response = owner.post("/v1/payments", body)
    assert response.status_code == 201, response.text
    payment_id = response.json()["id"]
    return Target({"payment_id": payment_id}, f"/v1/payments/{payment_id}")


def _api_key(owner: TenantClient) -> Target:
    response = owner.post("/v1/api-keys", {"name": "spare", "role": "issuer"})
    assert response.status_code == 201, response.text
    return Target({"key_id": response.json()["id"]}, "/v1/tenant")


def _with_logo(owner: TenantClient) -> Target:
    response = owner.client.put(
        "/v1/tenant/logo",
        content=samples.logo_png(),
        headers={**owner.headers, "Content-Type": "image/png"},
    )
    assert response.status_code == 200, response.text
    return Target()


SUBSCRIPTION_PLAN = {"code": "basic", "name": "Basic", "amount": "30.00", "currency": "EUR"}


def _subscription(owner: TenantClient) -> Target:
    customer_id = owner.customer()
    body = {
        "customer_id": customer_id,
        "plan": SUBSCRIPTION_PLAN,
        "start_date": TODAY,
        "metered": [{"metric": "calls", "unit_price": "1"}],
    }
    response = owner.post("/v1/subscriptions", body)
    assert response.status_code == 201, response.text
    sub_id = response.json()["id"]
    params = {"subscription_id": sub_id, "customer_id": customer_id}
    return Target(params, f"/v1/subscriptions/{sub_id}")


def _paused_subscription(owner: TenantClient) -> Target:
    target = _subscription(owner)
    response = owner.post(f"/v1/subscriptions/{target.params['subscription_id']}/pause", {})
    assert response.status_code == 200, response.text
    return target


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    allowed: frozenset[str]
    target: Callable[[TenantClient], Target] = _tenant
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    png: bytes | None = None  # a raw image/png body instead of JSON

    @property
    def id(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


ROUTES = [
    Route("GET", "/v1/tenant", EVERYONE),
    Route("PATCH", "/v1/tenant", ADMINS, body={"payment_terms_days": 30}),
    Route("POST", "/v1/api-keys", ADMINS, body={"name": "ci", "role": "auditor"}),
    Route("DELETE", "/v1/api-keys/{key_id}", ADMINS, _api_key),
    Route("POST", "/v1/customers", WRITERS, _customers, {"name": "Neu AG", "country": "DE"}),
    Route("GET", "/v1/customers", EVERYONE, _customers),
    Route("GET", "/v1/customers/{customer_id}", EVERYONE, _customer),
    Route("PATCH", "/v1/customers/{customer_id}", WRITERS, _customer, {"name": "Renamed"}),
    Route("POST", "/v1/invoices", WRITERS, _invoices, {"customer_id": "{customer_id}"}),
    Route("GET", "/v1/invoices", EVERYONE, _invoices),
    Route("GET", "/v1/invoices/{invoice_id}", EVERYONE, _draft),
    Route("GET", "/v1/invoices/{invoice_id}", AUDITORS, _draft, query={"version": "1"}),
    Route(
        "GET",
        "/v1/invoices/{invoice_id}",
        AUDITORS,
        _draft,
        query={"as_of": "2100-01-01T00:00:00Z"},
    ),
    Route("GET", "/v1/invoices/{invoice_id}/history", AUDITORS, _draft),
    Route("POST", "/v1/invoices/{invoice_id}/lines", WRITERS, _draft, LINE),
    Route("PATCH", "/v1/invoices/{invoice_id}/lines/{line_id}", WRITERS, _draft, {"quantity": "3"}),
    Route("DELETE", "/v1/invoices/{invoice_id}/lines/{line_id}", WRITERS, _draft),
    Route("DELETE", "/v1/invoices/{invoice_id}", WRITERS, _draft),
    Route("POST", "/v1/invoices/{invoice_id}/finalize", WRITERS, _draft, {}),
    Route(
        "POST",
        "/v1/invoices/{invoice_id}/payments",
        WRITERS,
        _open_invoice,
        {"amount": "1.00", "paid_at": TODAY},
    ),
    Route("POST", "/v1/invoices/{invoice_id}/void", WRITERS, _open_invoice, {"reason": "Typo"}),
    Route("POST", "/v1/invoices/{invoice_id}/mark-uncollectible", WRITERS, _open_invoice),
    Route(
        "POST",
        "/v1/credit-notes",
        WRITERS,
        _open_invoice,
        {"invoice_id": "{invoice_id}", "reason": "Returned", "full": True},
    ),
    Route("GET", "/v1/credit-notes", EVERYONE, _credit_note),
    Route("GET", "/v1/credit-notes/{credit_note_id}", EVERYONE, _credit_note),
    Route("GET", "/v1/credit-notes/{credit_note_id}/history", AUDITORS, _credit_note),
    Route(
        "POST",
        "/v1/credit-notes/{credit_note_id}/refund",
        WRITERS,
        _credit_note,
        {"refunded_at": TODAY},
    ),
    Route(
        "POST",
        "/v1/payments",
        WRITERS,
        _customer,
        {"customer_id": "{customer_id}", "amount": "5.00", "currency": "EUR", "paid_at": TODAY},
    ),
    Route("GET", "/v1/payments/{payment_id}", EVERYONE, _payment),
    Route(
        "POST",
        "/v1/payments/{payment_id}/refunds",
        WRITERS,
        _payment,
        {"amount": "5.00", "refunded_at": TODAY},
    ),
    Route("GET", "/v1/customers/{customer_id}/statement", EVERYONE, _customer),
    Route("POST", "/v1/customers/{customer_id}/erase", ADMINS, _customer),
    Route("GET", "/v1/customers/{customer_id}/export", ADMINS, _customer),
    Route("GET", "/v1/reports/aging", REPORTERS, _open_invoice),
    Route("GET", "/v1/invoices/{invoice_id}/pdf", EVERYONE, _open_invoice),
    Route("GET", "/v1/invoices/{invoice_id}/pdf", AUDITORS, _open_invoice, query={"version": "1"}),
    Route("GET", "/v1/credit-notes/{credit_note_id}/pdf", EVERYONE, _credit_note),
    Route(
        "GET",
        "/v1/credit-notes/{credit_note_id}/pdf",
        AUDITORS,
        _credit_note,
        query={"version": "1"},
    ),
    Route("PUT", "/v1/tenant/logo", ADMINS, _tenant, png=samples.logo_png()),
    Route("DELETE", "/v1/tenant/logo", ADMINS, _tenant),
    Route("GET", "/v1/tenant/logo", EVERYONE, _with_logo),
    Route("GET", "/v1/events", AUDITORS, _open_invoice),
    Route("GET", "/v1/audit/verify", AUDITORS, _open_invoice),
    Route("GET", "/v1/audit/checkpoint", AUDITORS, _open_invoice),
    *[
        Route("GET", f"/v1/reports/{name}", REPORTERS, _open_invoice, query=THIS_YEAR)
        for name in ("vat", "ec-sales-list", "oss", "gst")
    ],
    Route(
        "POST",
        "/v1/subscriptions",
        WRITERS,
        _subscription,
        {"customer_id": "{customer_id}", "plan": SUBSCRIPTION_PLAN},
    ),
    Route("GET", "/v1/subscriptions", EVERYONE, _subscription),
    Route("GET", "/v1/subscriptions/{subscription_id}", EVERYONE, _subscription),
    Route(
        "POST",
        "/v1/subscriptions/{subscription_id}/change-plan",
        WRITERS,
        _subscription,
        {"plan": {**SUBSCRIPTION_PLAN, "amount": "40.00"}},
    ),
    Route("POST", "/v1/subscriptions/{subscription_id}/pause", WRITERS, _subscription, {}),
    Route("POST", "/v1/subscriptions/{subscription_id}/resume", WRITERS, _paused_subscription, {}),
    Route(
        "POST", "/v1/subscriptions/{subscription_id}/cancel", WRITERS, _subscription, {"at": "now"}
    ),
    Route("GET", "/v1/subscriptions/{subscription_id}/usage", EVERYONE, _subscription),
    Route(
        "POST",
        "/v1/usage",
        WRITERS,
        _subscription,
        {
            "events": [
                {
                    "subscription_id": "{subscription_id}",
                    "metric": "calls",
                    "quantity": "1",
                    "timestamp": f"{TODAY}T00:00:00Z",
                    "idempotency_key": "k1",
                }
            ]
        },
    ),
    Route("POST", "/v1/billing/run", WRITERS, _subscription, {"as_of": TODAY}),
    Route("GET", "/v1/reports/usage", REPORTERS, _subscription, query=THIS_YEAR),
    Route("GET", "/v1/reports/revenue", REPORTERS, _subscription, query=THIS_YEAR),
]
ROLE_CASES = [
    pytest.param(route, role, id=f"{route.id} as {role}") for route in ROUTES for role in ROLES
]
# Routes that take no API key: sign-up takes the admin token; operations are for probes.
ADMIN_TOKEN_ROUTES = {("POST", "/v1/tenants"), ("PUT", "/v1/admin/tenants/{tenant_id}/plan")}
PUBLIC_ROUTES = {("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics")}
DOCS_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route of the app, except the documentation pages."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        if path and path not in DOCS_PATHS:
            found |= {(m, path) for m in route.methods or () if m != "HEAD"}
    return found


def _call(
    client: TestClient, route: Route, params: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    body: dict[str, Any] = (
        {"content": route.png, "headers": {**headers, "Content-Type": "image/png"}}
        if route.png is not None
        else {"json": _filled(route.body, params), "headers": headers}
    )
    return client.request(route.method, route.path.format(**params), params=route.query, **body)


def _filled(body: Any, params: dict[str, str]) -> Any:
    """The body with "{name}" placeholders replaced by the target's ids."""
    if isinstance(body, dict):
        return {key: _filled(value, params) for key, value in body.items()}
    if isinstance(body, list):
        return [_filled(value, params) for value in body]
    return body.format(**params) if isinstance(body, str) else body


def _state(client: TestClient, owner: TenantClient, target: Target) -> tuple[int, Any]:
    response = client.get(target.read, headers=owner.headers)
    return response.status_code, response.json()


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code


@pytest.fixture
def head(ledger: Ledger) -> Callable[[], int]:
    """The event store's last position: unchanged means no event was appended."""
    return lambda: ledger.recorder.max_notification_id() or 0


def test_every_route_of_the_app_has_its_roles_decided(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    routed = app_routes(app)
    tabled = {(route.method, route.path) for route in ROUTES} | ADMIN_TOKEN_ROUTES | PUBLIC_ROUTES
    assert len(routed) > 20, "the route enumeration is broken"
    assert routed - tabled == set(), "routes missing from ROUTES (decide who may call them)"
    assert tabled - routed == set(), "the table names routes the app no longer has"


def test_the_table_matches_the_role_permissions_of_the_auth_module() -> None:
    def holders(permission: Permission) -> frozenset[str]:
        return frozenset(
            r.value for r, granted in ROLE_PERMISSIONS.items() if permission in granted
        )

    assert {r.value for r in Role} == EVERYONE
    assert holders(Permission.READ) == EVERYONE
    assert holders(Permission.WRITE) == WRITERS
    assert holders(Permission.ADMINISTER) == ADMINS
    assert holders(Permission.AUDIT) == AUDITORS
    assert holders(Permission.REPORT) == REPORTERS


@pytest.mark.parametrize(("route", "role"), ROLE_CASES)
def test_each_role_may_call_exactly_the_routes_its_permissions_allow(
    client: TestClient, tenant: TenantClient, head: Callable[[], int], route: Route, role: str
) -> None:
    headers = tenant.headers if role == "owner" else tenant.key_for(role)
    target = route.target(tenant)
    before, position = _state(client, tenant, target), head()

    response = _call(client, route, target.params, headers)

    if role in route.allowed:
        assert response.is_success, response.text
        return
    _assert_problem(response, 403, "forbidden")
    assert response.json()["role"] == role
    assert head() == position, "a refused request appended events"
    assert _state(client, tenant, target) == before


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_request_without_an_api_key_gets_401_and_changes_nothing(
    client: TestClient, tenant: TenantClient, head: Callable[[], int], route: Route
) -> None:
    target = route.target(tenant)
    before, position = _state(client, tenant, target), head()
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = _call(client, route, target.params, headers)
        _assert_problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert head() == position
    assert _state(client, tenant, target) == before


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_request_with_an_unknown_api_key_gets_401_and_changes_nothing(
    client: TestClient, tenant: TenantClient, head: Callable[[], int], route: Route
) -> None:
    target = route.target(tenant)
    before, position = _state(client, tenant, target), head()
    unknown_keys = ["lk_" + uuid.uuid4().hex, tenant.key + "x", tenant.key[:-1], ADMIN_TOKEN]
    for key in unknown_keys:
        response = _call(client, route, target.params, {"Authorization": f"Bearer {key}"})
        _assert_problem(response, 401, "unauthorized")
    assert head() == position
    assert _state(client, tenant, target) == before


def test_a_revoked_api_key_stops_working_at_once(client: TestClient, tenant: TenantClient) -> None:
    issued = tenant.post("/v1/api-keys", {"name": "leaked", "role": "issuer"}).json()
    key = {"Authorization": f"Bearer {issued['key']}"}
    assert client.get("/v1/tenant", headers=key).status_code == 200
    assert client.post("/v1/customers", json={"name": "A", "country": "DE"}, headers=key).is_success

    revoked = client.delete(f"/v1/api-keys/{issued['id']}", headers=tenant.headers)

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked"] is True
    assert revoked.json()["key"] is None
    _assert_problem(client.get("/v1/tenant", headers=key), 401, "unauthorized")
    customers = client.get("/v1/customers", headers=tenant.headers).json()["data"]
    refused = client.post("/v1/customers", json={"name": "B", "country": "DE"}, headers=key)
    _assert_problem(refused, 401, "unauthorized")
    assert client.get("/v1/customers", headers=tenant.headers).json()["data"] == customers
    # The owner's key is untouched by revoking another key.
    assert client.get("/v1/tenant", headers=tenant.headers).status_code == 200


def test_an_owner_may_revoke_its_own_key_and_is_locked_out(
    client: TestClient, tenant: TenantClient
) -> None:
    spare_owner = tenant.key_for("owner")
    own_id = client.post("/v1/api-keys", json={"name": "me", "role": "owner"}, headers=spare_owner)
    me = {"Authorization": f"Bearer {own_id.json()['key']}"}

    assert client.delete(f"/v1/api-keys/{own_id.json()['id']}", headers=me).status_code == 200

    _assert_problem(client.get("/v1/tenant", headers=me), 401, "unauthorized")
    assert client.get("/v1/tenant", headers=spare_owner).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no token"),
        pytest.param("Bearer wrong-token", id="wrong token"),
        pytest.param(f"Bearer {ADMIN_TOKEN}x", id="token with a suffix"),
        pytest.param(f"Basic {ADMIN_TOKEN}", id="right token, wrong scheme"),
        pytest.param("Bearer ", id="empty token"),
    ],
)
def test_tenant_sign_up_without_the_admin_token_gets_401_and_creates_nothing(
    client: TestClient, head: Callable[[], int], authorization: str | None
) -> None:
    position = head()
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = client.post("/v1/tenants", json=TENANT, headers=headers)

    _assert_problem(response, 401, "unauthorized")
    assert head() == position


def test_tenant_sign_up_refuses_an_owners_api_key(
    client: TestClient, tenant: TenantClient, head: Callable[[], int]
) -> None:
    position = head()

    response = client.post("/v1/tenants", json=TENANT, headers=tenant.headers)

    _assert_problem(response, 401, "unauthorized")
    assert head() == position


def test_tenant_sign_up_with_the_admin_token_returns_an_owner_key_that_works(
    client: TestClient,
) -> None:
    response = client.post(
        "/v1/tenants", json=TENANT, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["api_key"]["role"] == "owner"
    key = {"Authorization": f"Bearer {body['api_key']['key']}"}
    assert client.get("/v1/tenant", headers=key).json()["id"] == body["tenant"]["id"]


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics"])
def test_operations_endpoints_answer_without_a_key(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200
