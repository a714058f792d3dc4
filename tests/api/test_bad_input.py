"""Bad input on every route: a 4xx application/problem+json, and nothing changes.

ROUTES holds one valid request per route; the generic cases (malformed JSON, a body that is
not an object, unknown fields, ids that are not UUIDs or name nothing, malformed and stale
If-Match) are derived from it, and FIELD_CASES adds each route's bad values. "Nothing
changes" is checked twice: the event store's head position stays where it was, and the
resource (and its listing) reads the same before and after.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledger.application import Ledger
from tests.conftest import ADMIN_TOKEN, LINE, TENANT, TenantClient
from tests.pdf import samples

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI releases that still list included routes flat

    def iter_route_contexts(routes: Iterable[Any]) -> Iterable[Any]:  # type: ignore[misc]
        return routes


PROBLEM_JSON = "application/problem+json"
TODAY = datetime.now(UTC).date().isoformat()
THIS_YEAR = {"from": f"{TODAY[:4]}-01-01", "to": f"{TODAY[:4]}-12-31"}
MISSING = object()  # a field left out of the body
NOT_PROBED = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/health", "/ready"}


@dataclass(frozen=True)
class Raw:
    """A body sent as these bytes (with "{name}" placeholders filled) instead of as JSON."""

    text: str


@dataclass(frozen=True)
class Target:
    """What a request acts on: its path parameters, and GETs that show its state."""

    params: dict[str, str] = field(default_factory=dict)
    reads: tuple[str, ...] = ("/v1/tenant",)


def _tenant(owner: TenantClient) -> Target:
    return Target()


def _customers(owner: TenantClient) -> Target:
    owner.customer()
    return Target({}, ("/v1/customers",))


def _customer(owner: TenantClient) -> Target:
    customer_id = owner.customer()
    return Target({"customer_id": customer_id}, (f"/v1/customers/{customer_id}", "/v1/customers"))


def _invoices(owner: TenantClient) -> Target:
    invoice = owner.draft()
    return Target({"customer_id": invoice["customer_id"]}, ("/v1/invoices",))


def _draft(owner: TenantClient, lines: list[dict[str, Any]] | None = None) -> Target:
    invoice = owner.draft(lines=lines)
    params = {"invoice_id": invoice["id"], "customer_id": invoice["customer_id"]}
    if invoice["lines"]:
        params["line_id"] = invoice["lines"][0]["id"]
    return Target(params, (f"/v1/invoices/{invoice['id']}", "/v1/invoices"))


def _empty_draft(owner: TenantClient) -> Target:
    return _draft(owner, lines=[])


def _open_invoice(owner: TenantClient) -> Target:
    invoice = owner.finalized()
    params = {
        "invoice_id": invoice["id"],
        "line_id": invoice["lines"][0]["id"],
        "customer_id": invoice["customer_id"],
    }
    reads = (
        f"/v1/invoices/{invoice['id']}",
        "/v1/invoices",
        "/v1/credit-notes",
        f"/v1/customers/{invoice['customer_id']}/statement",
    )
    return Target(params, reads)


def _credit_note(owner: TenantClient, outcome: str = "refund") -> Target:
    """A credit note of a paid invoice; with outcome refund it owes the refund."""
    invoice = owner.finalized()
    paid = owner.post(
        f"/v1/invoices/{invoice['id']}/payments", {"amount": invoice["total"], "paid_at": TODAY}
    )
    assert paid.status_code == 200, paid.text
    body = {"invoice_id": invoice["id"], "reason": "Returned", "full": True, "outcome": outcome}
    response = owner.post("/v1/credit-notes", body)
    assert response.status_code == 201, response.text
    note_id = response.json()["id"]
    return Target({"credit_note_id": note_id}, (f"/v1/credit-notes/{note_id}", "/v1/credit-notes"))


def _credit_balance_note(owner: TenantClient) -> Target:
    return _credit_note(owner, outcome="credit_balance")


def _payment(owner: TenantClient) -> Target:
    """A payment of 50.00 allocated to no invoice."""
    customer_id = owner.customer()
    body = {"customer_id": customer_id, "amount": "50.00", "currency": "EUR", "paid_at": TODAY}
    response = owner.post("/v1/payments", body)
    assert response.status_code == 201, response.text
    payment_id = response.json()["id"]
    statement = f"/v1/customers/{customer_id}/statement"
    return Target({"payment_id": payment_id}, (f"/v1/payments/{payment_id}", statement))


def _uncollectible(owner: TenantClient) -> Target:
    target = _open_invoice(owner)
    path = f"/v1/invoices/{target.params['invoice_id']}/mark-uncollectible"
    assert owner.client.post(path, headers=owner.headers).status_code == 200
    return target


def _api_key(owner: TenantClient) -> Target:
    response = owner.post("/v1/api-keys", {"name": "spare", "role": "issuer"})
    assert response.status_code == 201, response.text
    return Target({"key_id": response.json()["id"]})


def _revoked_key(owner: TenantClient) -> Target:
    target = _api_key(owner)
    path = f"/v1/api-keys/{target.params['key_id']}"
    assert owner.client.delete(path, headers=owner.headers).status_code == 200
    return target


def _with_logo(owner: TenantClient) -> Target:
    response = owner.client.put(
        "/v1/tenant/logo",
        content=samples.logo_png(),
        headers={**owner.headers, "Content-Type": "image/png"},
    )
    assert response.status_code == 200, response.text
    return Target()


# Subscriptions start in 2025: the tax-rate tables begin on 2025-01-01.
PLAN = {"code": "basic", "name": "Basic", "amount": "30.00", "currency": "EUR"}
PRO = {**PLAN, "code": "pro", "name": "Pro", "amount": "60.00"}
METERED = [{"metric": "calls", "unit_price": "1.00"}]
USAGE_EVENT = {
    "subscription_id": "{subscription_id}",
    "metric": "calls",
    "quantity": "3",
    "timestamp": "2025-04-15T12:00:00Z",
    "idempotency_key": "use-1",
}
APRIL = {"from": "2025-04-01", "to": "2025-04-30"}


def _subscriber(owner: TenantClient) -> Target:
    customer_id = owner.customer()
    reads = ("/v1/subscriptions", f"/v1/customers/{customer_id}")
    return Target({"customer_id": customer_id}, reads)


def _subscription(owner: TenantClient) -> Target:
    """A monthly subscription from 2025-04-01, metering calls, never billed."""
    body = {
        "customer_id": owner.customer(),
        "plan": PLAN,
        "start_date": "2025-04-01",
        "metered": METERED,
    }
    response = owner.post("/v1/subscriptions", body)
    assert response.status_code == 201, response.text
    subscription_id = response.json()["id"]
    reads = (
        f"/v1/subscriptions/{subscription_id}",
        f"/v1/subscriptions/{subscription_id}/usage?period=2025-04-15",
        "/v1/subscriptions",
        "/v1/invoices",
    )
    return Target({"subscription_id": subscription_id}, reads)


def _paused_subscription(owner: TenantClient) -> Target:
    target = _subscription(owner)
    path = f"/v1/subscriptions/{target.params['subscription_id']}/pause"
    response = owner.post(path, {"effective_date": "2025-04-16"})
    assert response.status_code == 200, response.text
    return target


def _canceled_subscription(owner: TenantClient) -> Target:
    target = _subscription(owner)
    path = f"/v1/subscriptions/{target.params['subscription_id']}/cancel"
    response = owner.post(path, {"at": "now", "effective_date": "2025-04-20"})
    assert response.status_code == 200, response.text
    return target


def _own_tenant(owner: TenantClient) -> Target:
    """The owner's tenant, by id, for the admin's routes."""
    return Target({"tenant_id": str(owner.id)})


@dataclass(frozen=True)
class Request:
    """A request of one route; `body` and `raw` may hold "{name}" placeholders."""

    method: str
    path: str
    target: Callable[[TenantClient], Target]
    body: Any = None
    raw: Raw | None = None
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None  # a body of these bytes, sent with `headers` as they are
    admin: bool = False  # authenticate with the admin token instead of the owner's key
    versioned: bool = False  # acts on an existing aggregate, so If-Match applies

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path


# One valid request per route of the API.
ROUTES = [
    Request("POST", "/v1/tenants", _tenant, TENANT, admin=True),
    Request("GET", "/v1/tenant", _tenant),
    Request("PATCH", "/v1/tenant", _tenant, {"payment_terms_days": 30}, versioned=True),
    Request("POST", "/v1/api-keys", _tenant, {"name": "ci", "role": "auditor"}),
    Request("DELETE", "/v1/api-keys/{key_id}", _api_key, versioned=True),
    Request("POST", "/v1/customers", _customers, {"name": "Kunde AG", "country": "DE"}),
    Request("GET", "/v1/customers", _customers),
    Request("GET", "/v1/customers/{customer_id}", _customer),
    Request("PATCH", "/v1/customers/{customer_id}", _customer, {"name": "Renamed"}, versioned=True),
    Request("POST", "/v1/invoices", _invoices, {"customer_id": "{customer_id}", "lines": [LINE]}),
    Request("GET", "/v1/invoices", _invoices),
    Request("GET", "/v1/invoices/{invoice_id}", _draft),
    Request("GET", "/v1/invoices/{invoice_id}/history", _draft),
    Request("POST", "/v1/invoices/{invoice_id}/lines", _draft, LINE, versioned=True),
    Request(
        "PATCH",
        "/v1/invoices/{invoice_id}/lines/{line_id}",
        _draft,
        {"quantity": "3"},
        versioned=True,
    ),
    Request("DELETE", "/v1/invoices/{invoice_id}/lines/{line_id}", _draft, versioned=True),
    Request("DELETE", "/v1/invoices/{invoice_id}", _draft, versioned=True),
    Request("POST", "/v1/invoices/{invoice_id}/finalize", _draft, {}, versioned=True),
    Request(
        "POST",
        "/v1/invoices/{invoice_id}/payments",
        _open_invoice,
        {"amount": "10.00", "paid_at": TODAY, "method": "card"},
        versioned=True,
    ),
    Request(
        "POST", "/v1/invoices/{invoice_id}/void", _open_invoice, {"reason": "Typo"}, versioned=True
    ),
    Request("POST", "/v1/invoices/{invoice_id}/mark-uncollectible", _open_invoice, versioned=True),
    Request(
        "POST",
        "/v1/credit-notes",
        _open_invoice,
        {"invoice_id": "{invoice_id}", "reason": "Returned", "full": True},
    ),
    Request("GET", "/v1/credit-notes", _credit_note),
    Request("GET", "/v1/credit-notes/{credit_note_id}", _credit_note),
    Request("GET", "/v1/credit-notes/{credit_note_id}/history", _credit_note),
    Request(
        "POST",
        "/v1/credit-notes/{credit_note_id}/refund",
        _credit_note,
        {"refunded_at": TODAY, "method": "bank_transfer", "reference": "R-1"},
        versioned=True,
    ),
    Request(
        "POST",
        "/v1/payments",
        _open_invoice,
        {
            "customer_id": "{customer_id}",
            "amount": "50.00",
            "currency": "EUR",
            "paid_at": TODAY,
            "allocations": [{"invoice_id": "{invoice_id}", "amount": "20.00"}],
        },
    ),
    Request("GET", "/v1/payments/{payment_id}", _payment),
    Request(
        "POST",
        "/v1/payments/{payment_id}/refunds",
        _payment,
        {"amount": "10.00", "refunded_at": TODAY},
        versioned=True,
    ),
    Request("GET", "/v1/customers/{customer_id}/statement", _customer),
    Request("POST", "/v1/customers/{customer_id}/erase", _customer, versioned=True),
    Request("GET", "/v1/customers/{customer_id}/export", _customer),
    Request("GET", "/v1/reports/aging", _open_invoice),
    *[
        Request("GET", f"/v1/reports/{name}", _open_invoice, query=THIS_YEAR)
        for name in ("vat", "ec-sales-list", "oss", "gst")
    ],
    Request(
        "PUT",
        "/v1/tenant/logo",
        _tenant,
        content=samples.logo_png(),
        headers={"Content-Type": "image/png"},
        versioned=True,
    ),
    Request("DELETE", "/v1/tenant/logo", _with_logo, versioned=True),
    Request("GET", "/v1/tenant/logo", _with_logo),
    Request("GET", "/v1/invoices/{invoice_id}/pdf", _open_invoice),
    Request("GET", "/v1/credit-notes/{credit_note_id}/pdf", _credit_note),
    Request("GET", "/v1/events", _open_invoice, query={"after": 0, "limit": 10}),
    Request("GET", "/v1/audit/verify", _open_invoice),
    Request("GET", "/v1/audit/checkpoint", _open_invoice),
    Request(
        "POST",
        "/v1/subscriptions",
        _subscriber,
        {
            "customer_id": "{customer_id}",
            "plan": PLAN,
            "start_date": "2025-04-01",
            "trial_days": 14,
            "metered": METERED,
        },
    ),
    Request("GET", "/v1/subscriptions", _subscription),
    Request("GET", "/v1/subscriptions/{subscription_id}", _subscription),
    Request(
        "GET",
        "/v1/subscriptions/{subscription_id}/usage",
        _subscription,
        query={"period": "2025-04-15"},
    ),
    Request(
        "POST",
        "/v1/subscriptions/{subscription_id}/change-plan",
        _subscription,
        {"plan": PRO, "effective_date": "2025-04-11"},
        versioned=True,
    ),
    Request(
        "POST",
        "/v1/subscriptions/{subscription_id}/pause",
        _subscription,
        {"effective_date": "2025-04-16"},
        versioned=True,
    ),
    Request(
        "POST",
        "/v1/subscriptions/{subscription_id}/resume",
        _paused_subscription,
        {"effective_date": "2025-05-11"},
        versioned=True,
    ),
    Request(
        "POST",
        "/v1/subscriptions/{subscription_id}/cancel",
        _subscription,
        {"at": "period_end", "effective_date": "2025-04-10"},
        versioned=True,
    ),
    Request("POST", "/v1/usage", _subscription, {"events": [USAGE_EVENT]}),
    Request("POST", "/v1/billing/run", _subscription, {"as_of": "2025-05-01"}),
    Request("GET", "/v1/reports/usage", _subscription, query=APRIL),
    Request(
        "GET",
        "/v1/reports/revenue",
        _subscription,
        query={"from": "2025-01-01", "to": "2025-06-30"},
    ),
    Request(
        "PUT",
        "/v1/admin/tenants/{tenant_id}/plan",
        _own_tenant,
        {"plan": "growth", "limits": {"api_keys": 10}},
        admin=True,
        versioned=True,
    ),
]
VALID = {request.route: request for request in ROUTES}


@dataclass(frozen=True)
class Case:
    label: str
    request: Request
    status: int
    code: str | None = None

    @property
    def id(self) -> str:
        return f"{self.request.method} {self.request.path}: {self.label}"


def _with(body: Any, changes: dict[str, Any]) -> Any:
    """A deep copy of `body` with dotted paths ("lines.0.quantity") set, or removed (MISSING)."""
    result = copy.deepcopy(body)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = result
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is MISSING:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return result


def bad_body(
    method: str, path: str, label: str, status: int, code: str | None, /, **changes: Any
) -> Case:
    return bad(VALID[(method, path)], label, status, code, **changes)


def bad(valid: Request, label: str, status: int, code: str | None, /, **changes: Any) -> Case:
    """`valid` with its body changed: `lines__0__quantity="-1"` sets body["lines"][0]["quantity"]."""
    changes = {key.replace("__", "."): value for key, value in changes.items()}
    return Case(label, replace(valid, body=_with(valid.body, changes)), status, code)


def bad_query(
    path: str, label: str, expect: tuple[int, str] | None = None, /, **query: Any
) -> Case:
    valid = VALID[("GET", path)]
    status, code = expect or (422, INVALID)
    merged = {k: v for k, v in {**valid.query, **query}.items() if v is not MISSING}
    return Case(label, replace(valid, query=merged), status, code)


INVALID = "invalid_request"  # the request does not match the schema
REFUSED = "invalid_input"  # well-formed, but the ledger does not accept the value
NOT_FOUND = (404, "not_found")

CUSTOMERS = ("POST", "/v1/customers")
INVOICES = ("POST", "/v1/invoices")
LINES = ("POST", "/v1/invoices/{invoice_id}/lines")
LINE_PATCH = ("PATCH", "/v1/invoices/{invoice_id}/lines/{line_id}")
PAYMENTS = ("POST", "/v1/invoices/{invoice_id}/payments")
CREDIT = ("POST", "/v1/credit-notes")
RECEIPTS = ("POST", "/v1/payments")
RECEIPT_REFUNDS = ("POST", "/v1/payments/{payment_id}/refunds")
NOTE_REFUND = ("POST", "/v1/credit-notes/{credit_note_id}/refund")
STATEMENT = "/v1/customers/{customer_id}/statement"
# Credit notes by line: one unit of the invoice's first line, or a net amount of it.
CREDIT_LINE = replace(
    VALID[CREDIT],
    body={
        "invoice_id": "{invoice_id}",
        "reason": "Returned",
        "lines": [{"invoice_line_id": "{line_id}", "quantity": "1"}],
    },
)
CREDIT_AMOUNT = replace(
    CREDIT_LINE,
    body={**CREDIT_LINE.body, "lines": [{"invoice_line_id": "{line_id}", "amount": "10.00"}]},
)
TENANTS = ("POST", "/v1/tenants")
TENANT_PATCH = ("PATCH", "/v1/tenant")
SUBSCRIPTIONS = ("POST", "/v1/subscriptions")
CHANGE_PLAN = ("POST", "/v1/subscriptions/{subscription_id}/change-plan")
PAUSE = ("POST", "/v1/subscriptions/{subscription_id}/pause")
RESUME = ("POST", "/v1/subscriptions/{subscription_id}/resume")
CANCEL = ("POST", "/v1/subscriptions/{subscription_id}/cancel")
SUBSCRIPTION_USAGE = "/v1/subscriptions/{subscription_id}/usage"
USAGE = ("POST", "/v1/usage")
BILLING_RUN = ("POST", "/v1/billing/run")
ADMIN_PLAN = ("PUT", "/v1/admin/tenants/{tenant_id}/plan")

# Numbers no line, rate or amount may be: huge, negative, not finite, not numbers.
HUGE_OR_NOT_FINITE = {
    "1e400": "1e400",
    "10**30": 10**30,
    "21 nines": "999999999999999999999",
    "NaN": "NaN",
    "nan": "nan",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "inf": "inf",
    "text": "twelve",
    "empty": "",
    "list": ["1"],
}
NEGATIVE = {"-1": "-1", "-0.01": "-0.01", "-1e400": "-1e400"}


def _line_number_cases() -> list[Case]:
    cases = []
    for label, value in {**HUGE_OR_NOT_FINITE, **NEGATIVE, "0": "0"}.items():
        cases += [
            bad_body(*RECEIPTS, f"amount {label}", 422, INVALID, amount=value),
            bad_body(*RECEIPTS, f"allocated {label}", 422, INVALID, allocations__0__amount=value),
            bad_body(*RECEIPT_REFUNDS, f"amount {label}", 422, INVALID, amount=value),
            bad(CREDIT_LINE, f"line quantity {label}", 422, INVALID, lines__0__quantity=value),
            bad(CREDIT_AMOUNT, f"line amount {label}", 422, INVALID, lines__0__amount=value),
        ]
    for label, value in {**HUGE_OR_NOT_FINITE, **NEGATIVE, "0": "0"}.items():
        cases.append(
            bad_body(*INVOICES, f"quantity {label}", 422, INVALID, lines__0__quantity=value)
        )
        cases.append(bad_body(*LINES, f"quantity {label}", 422, INVALID, quantity=value))
        cases.append(bad_body(*LINE_PATCH, f"quantity {label}", 422, INVALID, quantity=value))
    for label, value in {**HUGE_OR_NOT_FINITE, **NEGATIVE}.items():
        cases.append(
            bad_body(*INVOICES, f"unit_price {label}", 422, INVALID, lines__0__unit_price=value)
        )
        cases.append(bad_body(*LINES, f"unit_price {label}", 422, INVALID, unit_price=value))
        cases.append(bad_body(*PAYMENTS, f"amount {label}", 422, INVALID, amount=value))
    for label, value in {**HUGE_OR_NOT_FINITE, **NEGATIVE, "100.01": "100.01", "101": 101}.items():
        cases.append(
            bad_body(*INVOICES, f"tax_rate {label}", 422, INVALID, lines__0__tax_rate=value)
        )
        cases.append(bad_body(*LINES, f"tax_rate {label}", 422, INVALID, tax_rate=value))
        cases.append(bad_body(*LINE_PATCH, f"tax_rate {label}", 422, INVALID, tax_rate=value))
    return cases


def _raw(route: tuple[str, str], label: str, text: str) -> Case:
    return Case(label, replace(VALID[route], body=None, raw=Raw(text)), 422, INVALID)


FIELD_CASES = [
    *_line_number_cases(),
    # JSON number literals that no float or integer type holds exactly.
    _raw(
        INVOICES,
        "quantity as the JSON literal 1e400",
        '{"customer_id": "{customer_id}", "lines": [{"description": "x", "quantity": 1e400,'
        ' "unit_price": 1, "tax_rate": 19}]}',
    ),
    _raw(
        PAYMENTS, "amount as the JSON literal 1e400", f'{{"amount": 1e400, "paid_at": "{TODAY}"}}'
    ),
    _raw(
        PAYMENTS,
        "amount as a 40-digit JSON integer",
        f'{{"amount": {10**40}, "paid_at": "{TODAY}"}}',
    ),
    _raw(PAYMENTS, "amount as the JSON literal NaN", f'{{"amount": NaN, "paid_at": "{TODAY}"}}'),
    # customers
    bad_body(*CUSTOMERS, "name missing", 422, INVALID, name=MISSING),
    bad_body(*CUSTOMERS, "country missing", 422, INVALID, country=MISSING),
    bad_body(*CUSTOMERS, "name of the wrong type", 422, INVALID, name=123),
    bad_body(*CUSTOMERS, "name empty", 422, INVALID, name=""),
    bad_body(*CUSTOMERS, "name too long", 422, INVALID, name="x" * 201),
    bad_body(*CUSTOMERS, "name with a NUL character", 422, INVALID, name="Kunde\x00AG"),
    bad_body(*CUSTOMERS, "name over two lines", 422, INVALID, name="Kunde\nAG"),
    bad_body(*CUSTOMERS, "unknown country XX", 422, REFUSED, country="XX"),
    bad_body(*CUSTOMERS, "lower-case country", 422, INVALID, country="de"),
    bad_body(*CUSTOMERS, "three-letter country", 422, INVALID, country="DEU"),
    bad_body(
        *CUSTOMERS,
        "address in unknown country XX",
        422,
        REFUSED,
        address={"line1": "Main St 1", "city": "Nowhere", "country": "XX"},
    ),
    bad_body(
        *CUSTOMERS,
        "address without a city",
        422,
        INVALID,
        address={"line1": "Main St 1", "country": "DE"},
    ),
    bad_body(*CUSTOMERS, "email without an at sign", 422, INVALID, email="kunde.example.com"),
    bad_body(*CUSTOMERS, "email with a NUL character", 422, INVALID, email="a\x00b@example.com"),
    bad_body(*CUSTOMERS, "unknown kind", 422, INVALID, kind="government"),
    bad_body(*CUSTOMERS, "unknown locale", 422, INVALID, locale="xx"),
    bad_body(*CUSTOMERS, "vat_id with symbols", 422, INVALID, vat_id="DE<script>"),
    bad_body("PATCH", "/v1/customers/{customer_id}", "name removed", 422, INVALID, name=None),
    bad_body(
        "PATCH", "/v1/customers/{customer_id}", "unknown country XX", 422, REFUSED, country="XX"
    ),
    bad_body("PATCH", "/v1/customers/{customer_id}", "kind removed", 422, INVALID, kind=None),
    # invoices
    bad_body(*INVOICES, "customer_id missing", 422, INVALID, customer_id=MISSING),
    bad_body(*INVOICES, "customer_id not a UUID", 422, INVALID, customer_id="kunde-1"),
    bad_body(*INVOICES, "unknown customer", 422, REFUSED, customer_id=str(uuid.uuid4())),
    bad_body(*INVOICES, "unknown currency ABC", 422, REFUSED, currency="ABC"),
    bad_body(*INVOICES, "gold (XAU) as currency", 422, REFUSED, currency="XAU"),
    bad_body(*INVOICES, "test currency XTS", 422, REFUSED, currency="XTS"),
    bad_body(*INVOICES, "lower-case currency", 422, INVALID, currency="eur"),
    bad_body(*INVOICES, "description missing", 422, INVALID, lines__0__description=MISSING),
    bad_body(*INVOICES, "description empty", 422, INVALID, lines__0__description=""),
    bad_body(*INVOICES, "description with a NUL", 422, INVALID, lines__0__description="a\x00"),
    bad_body(*INVOICES, "unknown line kind", 422, INVALID, lines__0__kind="weapons"),
    bad_body(*INVOICES, "unknown field in a line", 422, INVALID, lines__0__colour="red"),
    bad_body(*INVOICES, "lines not a list", 422, INVALID, lines="Consulting"),
    bad_body(*INVOICES, "a line that is a string", 422, INVALID, lines=["Consulting"]),
    bad_body(*INVOICES, "1001 lines", 422, INVALID, lines=[LINE] * 1001),
    bad_body(*INVOICES, "supply_date before 2000", 422, INVALID, supply_date="1999-12-31"),
    bad_body(*INVOICES, "supply_date after 2100", 422, INVALID, supply_date="2101-01-01"),
    bad_body(*INVOICES, "supply_date 30 February", 422, INVALID, supply_date="2024-02-30"),
    bad_body(*INVOICES, "supply_date in words", 422, INVALID, supply_date="yesterday"),
    bad_body(*INVOICES, "negative due_days", 422, INVALID, due_days=-1),
    bad_body(*INVOICES, "due_days over a year", 422, INVALID, due_days=366),
    bad_body(*INVOICES, "huge due_days", 422, INVALID, due_days=10**30),
    bad_body(*INVOICES, "fractional due_days", 422, INVALID, due_days=1.5),
    bad_body(*INVOICES, "memo too long", 422, INVALID, memo="x" * 2001),
    bad_body(*LINES, "description missing", 422, INVALID, description=MISSING),
    bad_body(*LINE_PATCH, "unknown field", 422, INVALID, colour="red"),
    bad_body(*LINE_PATCH, "empty description", 422, INVALID, description=""),
    # finalize, pay, void
    bad_body(
        "POST",
        "/v1/invoices/{invoice_id}/finalize",
        "issue_date in the future",
        422,
        REFUSED,
        issue_date="2999-01-01",
    ),
    bad_body(
        "POST",
        "/v1/invoices/{invoice_id}/finalize",
        "issue_date in year 1",
        422,
        INVALID,
        issue_date="0001-01-01",
    ),
    bad_body(
        "POST",
        "/v1/invoices/{invoice_id}/finalize",
        "issue_date not a date",
        422,
        INVALID,
        issue_date="soon",
    ),
    bad_body(*PAYMENTS, "amount missing", 422, INVALID, amount=MISSING),
    bad_body(*PAYMENTS, "amount zero", 422, INVALID, amount="0"),
    bad_body(*PAYMENTS, "amount with more decimals than EUR has", 422, REFUSED, amount="1.001"),
    bad_body(
        *PAYMENTS,
        "amount beyond the amount due",
        409,
        "payment_exceeds_amount_due",
        amount="100000",
    ),
    bad_body(*PAYMENTS, "paid_at in the future", 422, INVALID, paid_at="2999-01-01"),
    bad_body(*PAYMENTS, "paid_at before 2000", 422, INVALID, paid_at="1999-12-31"),
    bad_body(*PAYMENTS, "paid_at missing", 422, INVALID, paid_at=MISSING),
    bad_body(*PAYMENTS, "unknown method", 422, INVALID, method="bitcoin"),
    bad_body(
        "POST", "/v1/invoices/{invoice_id}/void", "reason missing", 422, INVALID, reason=MISSING
    ),
    bad_body("POST", "/v1/invoices/{invoice_id}/void", "reason empty", 422, INVALID, reason=""),
    # credit notes
    bad_body(*CREDIT, "reason missing", 422, INVALID, reason=MISSING),
    bad_body(*CREDIT, "reason empty", 422, INVALID, reason=""),
    bad_body(*CREDIT, "reason with a NUL", 422, INVALID, reason="Returned\x00"),
    bad_body(*CREDIT, "unknown outcome", 422, INVALID, outcome="cash"),
    bad_body(*CREDIT, "neither full nor lines", 422, INVALID, full=False),
    bad_body(*CREDIT, "invoice_id not a UUID", 422, INVALID, invoice_id="INV-1"),
    bad_body(*CREDIT, "unknown invoice", 404, "not_found", invoice_id=str(uuid.uuid4())),
    bad_body(*CREDIT, "issue_date before the invoice", 422, REFUSED, issue_date="2001-01-01"),
    bad(CREDIT_LINE, "full and lines at once", 422, INVALID, full=True),
    bad(CREDIT_LINE, "a line with quantity and amount", 422, INVALID, lines__0__amount="1.00"),
    bad(
        CREDIT_LINE,
        "a line with neither quantity nor amount",
        422,
        INVALID,
        lines__0__quantity=MISSING,
    ),
    bad(
        CREDIT_LINE, "invoice_line_id not a UUID", 422, INVALID, lines__0__invoice_line_id="line-1"
    ),
    bad(
        CREDIT_LINE,
        "a line the invoice does not have",
        422,
        REFUSED,
        lines__0__invoice_line_id=str(uuid.uuid4()),
    ),
    bad(
        CREDIT_LINE,
        "more units than invoiced",
        409,
        "credit_exceeds_invoice",
        lines__0__quantity="3",
    ),
    bad(
        CREDIT_AMOUNT,
        "more than the line's net",
        409,
        "credit_exceeds_invoice",
        lines__0__amount="200.01",
    ),
    bad_body(*NOTE_REFUND, "refunded_at missing", 422, INVALID, refunded_at=MISSING),
    bad_body(*NOTE_REFUND, "refunded_at in the future", 422, INVALID, refunded_at="2999-01-01"),
    bad_body(*NOTE_REFUND, "refunded_at before 2000", 422, INVALID, refunded_at="1999-12-31"),
    bad_body(*NOTE_REFUND, "reference with a NUL", 422, INVALID, reference="R\x00"),
    bad_body(*NOTE_REFUND, "unknown method", 422, INVALID, method="bitcoin"),
    # payments over invoices, and their refunds
    bad_body(*RECEIPTS, "customer_id missing", 422, INVALID, customer_id=MISSING),
    bad_body(*RECEIPTS, "unknown customer", 404, "not_found", customer_id=str(uuid.uuid4())),
    bad_body(*RECEIPTS, "currency missing", 422, INVALID, currency=MISSING),
    bad_body(*RECEIPTS, "unknown currency ABC", 422, REFUSED, currency="ABC"),
    bad_body(*RECEIPTS, "gold (XAU) as currency", 422, REFUSED, currency="XAU"),
    bad_body(*RECEIPTS, "amount with more decimals than EUR has", 422, REFUSED, amount="1.001"),
    bad_body(*RECEIPTS, "paid_at in the future", 422, INVALID, paid_at="2999-01-01"),
    bad_body(*RECEIPTS, "paid_at in year 1", 422, INVALID, paid_at="0001-01-01"),
    bad_body(*RECEIPTS, "reference with a NUL", 422, INVALID, reference="R\x00"),
    bad_body(
        *RECEIPTS, "allocations beyond the payment", 422, REFUSED, allocations__0__amount="50.01"
    ),
    bad_body(
        *RECEIPTS,
        "allocation beyond the amount due",
        409,
        "payment_exceeds_amount_due",
        amount="500.00",
        allocations__0__amount="400.00",
    ),
    bad_body(
        *RECEIPTS,
        "allocation to an unknown invoice",
        422,
        REFUSED,
        allocations__0__invoice_id=str(uuid.uuid4()),
    ),
    bad_body(
        *RECEIPTS,
        "one invoice allocated twice",
        422,
        REFUSED,
        allocations=[{"invoice_id": "{invoice_id}", "amount": "1.00"}] * 2,
    ),
    bad_body(
        *RECEIPT_REFUNDS, "more than is unallocated", 409, "refund_exceeds_payment", amount="50.01"
    ),
    bad_body(*RECEIPT_REFUNDS, "refunded_at in the future", 422, INVALID, refunded_at="2999-01-01"),
    bad_body(*RECEIPT_REFUNDS, "refunded_at in year 1", 422, INVALID, refunded_at="0001-01-01"),
    bad_body(
        *RECEIPT_REFUNDS, "amount with more decimals than EUR has", 422, REFUSED, amount="1.001"
    ),
    # tenants and keys
    bad_body(*TENANTS, "unknown currency ABC", 422, REFUSED, currency="ABC"),
    bad_body(*TENANTS, "gold (XAU) as currency", 422, REFUSED, currency="XAU"),
    bad_body(*TENANTS, "unknown country XX", 422, REFUSED, country="XX"),
    bad_body(*TENANTS, "address in unknown country XX", 422, REFUSED, address__country="XX"),
    bad_body(*TENANTS, "address missing", 422, INVALID, address=MISSING),
    bad_body(*TENANTS, "legal_name with a NUL", 422, INVALID, legal_name="Muster\x00GmbH"),
    bad_body(*TENANTS, "prefix with a dash", 422, INVALID, invoice_prefix="INV-1"),
    bad_body(*TENANTS, "huge payment terms", 422, INVALID, payment_terms_days=10**30),
    bad_body(*TENANTS, "negative payment terms", 422, INVALID, payment_terms_days=-1),
    bad_body(*TENANTS, "unknown locale", 422, INVALID, locale="xx"),
    bad_body(*TENANT_PATCH, "gold (XAU) as currency", 422, REFUSED, currency="XAU"),
    bad_body(*TENANT_PATCH, "unknown country XX", 422, REFUSED, country="XX"),
    bad_body(*TENANT_PATCH, "legal_name removed", 422, INVALID, legal_name=None),
    bad_body(*TENANT_PATCH, "currency removed", 422, INVALID, currency=None),
    bad_body("POST", "/v1/api-keys", "unknown role", 422, INVALID, role="superuser"),
    bad_body("POST", "/v1/api-keys", "name missing", 422, INVALID, name=MISSING),
    # queries
    *[
        bad_query(path, f"limit={limit}", limit=limit)
        for path in ("/v1/customers", "/v1/invoices")
        for limit in ("0", "1000", "-1", "ten", "1e400", str(10**30))
    ],
    *[
        bad_query(path, f"cursor {label}", (422, "invalid_cursor"), cursor=cursor)
        for path in ("/v1/customers", "/v1/invoices")
        for label, cursor in {
            "not base64": "!!!",
            "random text": "zzzz",
            "without position": base64.urlsafe_b64encode(b"p").decode(),
            "of another shape": base64.urlsafe_b64encode(b"x12").decode(),
            "beyond bigint": base64.urlsafe_b64encode(b"p" + b"9" * 19).decode(),
            "with a superscript digit": base64.urlsafe_b64encode("p²".encode()).decode(),
        }.items()
    ],
    bad_query("/v1/invoices", "unknown status", status="sent"),
    bad_query("/v1/invoices", "customer_id not a UUID", customer_id="kunde-1"),
    bad_query("/v1/invoices", "issued_from month 13", issued_from="2024-13-01"),
    bad_query("/v1/invoices", "overdue neither true nor false", overdue="maybe"),
    bad_query("/v1/invoices", "q too long", q="x" * 65),
    bad_query("/v1/invoices", "q with a NUL", q="INV\x00"),
    bad_query("/v1/invoices/{invoice_id}", "version 0", version="0"),
    bad_query("/v1/invoices/{invoice_id}", "negative version", version="-1"),
    bad_query("/v1/invoices/{invoice_id}", "version not a number", version="latest"),
    bad_query("/v1/invoices/{invoice_id}", "huge version", version=str(10**30)),
    bad_query(
        "/v1/invoices/{invoice_id}", "as_of without a time zone", as_of="2024-01-01T00:00:00"
    ),
    bad_query("/v1/invoices/{invoice_id}", "as_of not a time", as_of="yesterday"),
    bad_query("/v1/invoices/{invoice_id}", "version it never had", NOT_FOUND, version="99"),
    bad_query(
        "/v1/invoices/{invoice_id}",
        "as_of before it existed",
        NOT_FOUND,
        as_of="2001-01-01T00:00:00Z",
    ),
    bad_query(STATEMENT, "from not a date", **{"from": "last year"}),
    bad_query(STATEMENT, "to month 13", to="2024-13-01"),
    bad_query("/v1/reports/aging", "as_of not a date", as_of="today"),
    bad_query("/v1/credit-notes", "invoice_id not a UUID", invoice_id="INV-1"),
    *[
        case
        for name in ("vat", "ec-sales-list", "oss", "gst")
        for case in (
            bad_query(f"/v1/reports/{name}", "from missing", **{"from": MISSING}),
            bad_query(f"/v1/reports/{name}", "to missing", to=MISSING),
            bad_query(f"/v1/reports/{name}", "from not a date", **{"from": "Q1"}),
            bad_query(
                f"/v1/reports/{name}",
                "to before from",
                (422, REFUSED),
                **{"from": "2024-02-01", "to": "2024-01-31"},
            ),
            bad_query(
                f"/v1/reports/{name}",
                "four years",
                (422, REFUSED),
                **{"from": "2020-01-01", "to": "2023-12-31"},
            ),
        )
    ],
    # subscriptions
    *[
        case
        for label, value in {**HUGE_OR_NOT_FINITE, **NEGATIVE}.items()
        for case in (
            bad_body(*SUBSCRIPTIONS, f"plan amount {label}", 422, INVALID, plan__amount=value),
            bad_body(*CHANGE_PLAN, f"plan amount {label}", 422, INVALID, plan__amount=value),
            bad_body(
                *SUBSCRIPTIONS,
                f"metered unit_price {label}",
                422,
                INVALID,
                metered__0__unit_price=value,
            ),
        )
    ],
    bad_body(*SUBSCRIPTIONS, "customer_id missing", 422, INVALID, customer_id=MISSING),
    bad_body(*SUBSCRIPTIONS, "unknown customer", 422, REFUSED, customer_id=str(uuid.uuid4())),
    bad_body(*SUBSCRIPTIONS, "plan missing", 422, INVALID, plan=MISSING),
    bad_body(*SUBSCRIPTIONS, "unknown field in the plan", 422, INVALID, plan__colour="red"),
    bad_body(*SUBSCRIPTIONS, "plan code empty", 422, INVALID, plan__code=""),
    bad_body(*SUBSCRIPTIONS, "plan name with a NUL", 422, INVALID, plan__name="Basic\x00"),
    bad_body(*SUBSCRIPTIONS, "unknown currency ABC", 422, REFUSED, plan__currency="ABC"),
    bad_body(*SUBSCRIPTIONS, "gold (XAU) as currency", 422, REFUSED, plan__currency="XAU"),
    bad_body(*SUBSCRIPTIONS, "lower-case currency", 422, INVALID, plan__currency="eur"),
    bad_body(*SUBSCRIPTIONS, "not the tenant's currency", 422, REFUSED, plan__currency="USD"),
    bad_body(
        *SUBSCRIPTIONS, "amount with more decimals than EUR has", 422, REFUSED, plan__amount="1.001"
    ),
    bad_body(*SUBSCRIPTIONS, "interval week", 422, INVALID, plan__interval="week"),
    bad_body(*SUBSCRIPTIONS, "interval_count 0", 422, INVALID, plan__interval_count=0),
    bad_body(*SUBSCRIPTIONS, "interval_count 13", 422, INVALID, plan__interval_count=13),
    bad_body(*SUBSCRIPTIONS, "huge interval_count", 422, INVALID, plan__interval_count=10**30),
    bad_body(*SUBSCRIPTIONS, "unknown plan kind", 422, INVALID, plan__kind="goods"),
    bad_body(*SUBSCRIPTIONS, "unknown billing", 422, INVALID, billing="weekly"),
    bad_body(*SUBSCRIPTIONS, "start_date before 2000", 422, INVALID, start_date="1999-12-31"),
    bad_body(*SUBSCRIPTIONS, "start_date after 2100", 422, INVALID, start_date="2101-01-01"),
    bad_body(*SUBSCRIPTIONS, "start_date 30 February", 422, INVALID, start_date="2025-02-30"),
    bad_body(*SUBSCRIPTIONS, "start_date in words", 422, INVALID, start_date="tomorrow"),
    bad_body(*SUBSCRIPTIONS, "negative trial_days", 422, INVALID, trial_days=-1),
    bad_body(*SUBSCRIPTIONS, "trial_days over two years", 422, INVALID, trial_days=731),
    bad_body(*SUBSCRIPTIONS, "huge trial_days", 422, INVALID, trial_days=10**30),
    bad_body(*SUBSCRIPTIONS, "metric with a slash", 422, INVALID, metered__0__metric="calls/min"),
    bad_body(*SUBSCRIPTIONS, "metric empty", 422, INVALID, metered__0__metric=""),
    bad_body(*SUBSCRIPTIONS, "metric of 65 characters", 422, INVALID, metered__0__metric="c" * 65),
    bad_body(*SUBSCRIPTIONS, "metric not a string", 422, INVALID, metered__0__metric=42),
    bad_body(*SUBSCRIPTIONS, "metered not a list", 422, INVALID, metered="calls"),
    bad_body(*SUBSCRIPTIONS, "unknown aggregation", 422, INVALID, metered__0__aggregation="avg"),
    bad_body(*SUBSCRIPTIONS, "negative included", 422, INVALID, metered__0__included="-1"),
    bad_body(*SUBSCRIPTIONS, "included NaN", 422, INVALID, metered__0__included="NaN"),
    bad_body(*SUBSCRIPTIONS, "51 metrics", 422, INVALID, metered=METERED * 51),
    bad_body(*SUBSCRIPTIONS, "a metric metered twice", 422, REFUSED, metered=METERED * 2),
    bad_body(*SUBSCRIPTIONS, "empty tiers", 422, INVALID, metered__0__tiers=[]),
    bad_body(
        *SUBSCRIPTIONS,
        "tiers that fall",
        422,
        REFUSED,
        metered__0__tiers=[{"up_to": "10", "unit_price": "1"}, {"up_to": "5", "unit_price": "1"}],
    ),
    bad_body(
        *SUBSCRIPTIONS,
        "a tier up to zero units",
        422,
        INVALID,
        metered__0__tiers=[{"up_to": "0", "unit_price": "1"}, {"unit_price": "1"}],
    ),
    bad_body(*CHANGE_PLAN, "plan missing", 422, INVALID, plan=MISSING),
    bad_body(*CHANGE_PLAN, "another interval", 422, REFUSED, plan__interval="year"),
    bad_body(*CHANGE_PLAN, "unknown currency ABC", 422, REFUSED, plan__currency="ABC"),
    bad_body(*CHANGE_PLAN, "another currency", 422, REFUSED, plan__currency="USD"),
    bad_body(*CHANGE_PLAN, "metric with a slash", 422, INVALID, metered=[{"metric": "a/b"}]),
    bad_body(*CHANGE_PLAN, "before the start", 422, REFUSED, effective_date="2025-03-31"),
    bad_body(*CHANGE_PLAN, "effective_date in year 1", 422, INVALID, effective_date="0001-01-01"),
    bad_body(*CHANGE_PLAN, "effective_date month 13", 422, INVALID, effective_date="2025-13-01"),
    bad_body(*PAUSE, "before the start", 422, REFUSED, effective_date="2025-03-31"),
    bad_body(*PAUSE, "effective_date after 2100", 422, INVALID, effective_date="2101-01-01"),
    bad_body(*PAUSE, "effective_date in words", 422, INVALID, effective_date="soon"),
    bad_body(*PAUSE, "effective_date a number", 422, INVALID, effective_date=20250416),
    bad_body(*RESUME, "before the pause", 422, REFUSED, effective_date="2025-04-15"),
    bad_body(*RESUME, "effective_date before 2000", 422, INVALID, effective_date="1999-12-31"),
    bad_body(*CANCEL, "unknown at", 422, INVALID, at="tomorrow"),
    bad_body(*CANCEL, "before the start", 422, REFUSED, effective_date="2025-03-31"),
    bad_body(*CANCEL, "effective_date 30 February", 422, INVALID, effective_date="2025-02-30"),
    bad_query(SUBSCRIPTION_USAGE, "period in words", (422, REFUSED), period="soon"),
    bad_query(SUBSCRIPTION_USAGE, "period month 13", (422, REFUSED), period="2025-13-01"),
    bad_query(SUBSCRIPTION_USAGE, "period in year 1", (422, REFUSED), period="0001-01-01"),
    bad_query(SUBSCRIPTION_USAGE, "period in year 9999", (422, REFUSED), period="9999-12-31"),
    bad_query("/v1/subscriptions", "limit=0", limit="0"),
    bad_query("/v1/subscriptions", "limit=1e400", limit="1e400"),
    bad_query("/v1/subscriptions", "cursor not base64", (422, "invalid_cursor"), cursor="!!!"),
    # usage, billing runs and their reports
    *[
        bad_body(*USAGE, f"quantity {label}", 422, INVALID, events__0__quantity=value)
        for label, value in {**HUGE_OR_NOT_FINITE, **NEGATIVE}.items()
    ],
    bad_body(*USAGE, "no events", 422, INVALID, events=[]),
    bad_body(*USAGE, "1001 events", 422, INVALID, events=[USAGE_EVENT] * 1001),
    bad_body(*USAGE, "events not a list", 422, INVALID, events=USAGE_EVENT),
    bad_body(*USAGE, "an event that is a string", 422, INVALID, events=["calls"]),
    bad_body(*USAGE, "unknown field in an event", 422, INVALID, events__0__colour="red"),
    bad_body(*USAGE, "metric with a slash", 422, INVALID, events__0__metric="calls/min"),
    bad_body(*USAGE, "metric empty", 422, INVALID, events__0__metric=""),
    bad_body(*USAGE, "metric of 65 characters", 422, INVALID, events__0__metric="c" * 65),
    bad_body(*USAGE, "metric missing", 422, INVALID, events__0__metric=MISSING),
    bad_body(*USAGE, "subscription_id not a UUID", 422, INVALID, events__0__subscription_id="s-1"),
    bad_body(*USAGE, "timestamp missing", 422, INVALID, events__0__timestamp=MISSING),
    bad_body(*USAGE, "timestamp in words", 422, INVALID, events__0__timestamp="yesterday"),
    bad_body(
        *USAGE, "timestamp in year 9999", 422, INVALID, events__0__timestamp="9999-12-31T00:00:00Z"
    ),
    bad_body(
        *USAGE, "timestamp in year 1", 422, INVALID, events__0__timestamp="0001-01-01T00:00:00Z"
    ),
    bad_body(
        *USAGE, "timestamp hour 25", 422, INVALID, events__0__timestamp="2025-04-15T25:00:00Z"
    ),
    bad_body(*USAGE, "idempotency_key missing", 422, INVALID, events__0__idempotency_key=MISSING),
    bad_body(*USAGE, "idempotency_key empty", 422, INVALID, events__0__idempotency_key=""),
    bad_body(
        *USAGE, "idempotency_key with a NUL", 422, INVALID, events__0__idempotency_key="k\x00"
    ),
    bad_body(
        *USAGE,
        "idempotency_key of 256 characters",
        422,
        INVALID,
        events__0__idempotency_key="k" * 256,
    ),
    bad_body(*USAGE, "value with a NUL", 422, INVALID, events__0__value="user\x00"),
    bad_body(*BILLING_RUN, "as_of missing", 422, INVALID, as_of=MISSING),
    bad_body(*BILLING_RUN, "as_of in words", 422, INVALID, as_of="today"),
    bad_body(*BILLING_RUN, "as_of after 2100", 422, INVALID, as_of="9999-01-01"),
    bad_body(*BILLING_RUN, "as_of before 2000", 422, INVALID, as_of="1999-12-31"),
    bad_body(*BILLING_RUN, "as_of in the future", 422, REFUSED, as_of="2099-01-01"),
    bad_query("/v1/reports/usage", "from missing", **{"from": MISSING}),
    bad_query("/v1/reports/usage", "to missing", to=MISSING),
    bad_query("/v1/reports/usage", "from not a date", **{"from": "Q1"}),
    bad_query(
        "/v1/reports/usage",
        "to before from",
        (422, REFUSED),
        **{"from": "2025-04-30", "to": "2025-04-01"},
    ),
    bad_query("/v1/reports/usage", "to in year 1", (422, REFUSED), to="0001-01-01"),
    bad_query("/v1/reports/revenue", "from not a date", **{"from": "Q1"}),
    bad_query("/v1/reports/revenue", "to month 13", to="2025-13-01"),
    bad_query(
        "/v1/reports/revenue",
        "to before from",
        (422, REFUSED),
        **{"from": "2025-06-01", "to": "2025-01-31"},
    ),
    bad_query(
        "/v1/reports/revenue",
        "eleven years",
        (422, REFUSED),
        **{"from": "2015-01-01", "to": "2025-12-31"},
    ),
    bad_query(
        "/v1/reports/revenue",
        "from in year 1",
        (422, INVALID),
        **{"from": "0001-01-01", "to": "0001-06-30"},
    ),
    bad_query(
        "/v1/reports/revenue",
        "to in year 9999",
        (422, INVALID),
        **{"from": "9999-01-01", "to": "9999-12-31"},
    ),
    # the admin's service plans
    bad_body(*ADMIN_PLAN, "plan missing", 422, INVALID, plan=MISSING),
    bad_body(*ADMIN_PLAN, "unknown plan", 422, INVALID, plan="platinum"),
    bad_body(*ADMIN_PLAN, "unknown limit", 422, INVALID, limits__seats=5),
    bad_body(*ADMIN_PLAN, "negative cap", 422, INVALID, limits__api_keys=-1),
    bad_body(*ADMIN_PLAN, "huge cap", 422, INVALID, limits__api_keys=10**30),
    bad_body(*ADMIN_PLAN, "fractional cap", 422, INVALID, limits__api_keys=1.5),
    bad_body(*ADMIN_PLAN, "cap as text", 422, INVALID, limits__api_keys="ten"),
    bad_body(*ADMIN_PLAN, "limits not an object", 422, INVALID, limits=[10]),
    # the state of the resource does not allow the command
    Case("invoice is open", replace(VALID[LINES], target=_open_invoice), 409, "invalid_transition"),
    Case(
        "invoice is open",
        replace(VALID[LINE_PATCH], target=_open_invoice),
        409,
        "invalid_transition",
    ),
    Case(
        "invoice is open",
        replace(VALID[("DELETE", "/v1/invoices/{invoice_id}")], target=_open_invoice),
        409,
        "invalid_transition",
    ),
    Case(
        "invoice has no lines",
        replace(VALID[("POST", "/v1/invoices/{invoice_id}/finalize")], target=_empty_draft),
        409,
        "invalid_transition",
    ),
    Case(
        "invoice is already open",
        replace(VALID[("POST", "/v1/invoices/{invoice_id}/finalize")], target=_open_invoice),
        409,
        "invalid_transition",
    ),
    Case("invoice is a draft", replace(VALID[PAYMENTS], target=_draft), 409, "invalid_transition"),
    Case(
        "invoice is a draft",
        replace(VALID[("POST", "/v1/invoices/{invoice_id}/void")], target=_draft),
        409,
        "invalid_transition",
    ),
    Case(
        "invoice is a draft",
        replace(VALID[("POST", "/v1/invoices/{invoice_id}/mark-uncollectible")], target=_draft),
        409,
        "invalid_transition",
    ),
    Case(
        "invoice is already uncollectible",
        replace(
            VALID[("POST", "/v1/invoices/{invoice_id}/mark-uncollectible")], target=_uncollectible
        ),
        409,
        "invalid_transition",
    ),
    Case(
        "credit note of a draft", replace(VALID[CREDIT], target=_draft), 409, "invalid_transition"
    ),
    Case(
        "credit note owes no refund",
        replace(VALID[NOTE_REFUND], target=_credit_balance_note),
        409,
        "state_conflict",
    ),
    Case(
        "subscription is not paused",
        replace(VALID[RESUME], target=_subscription),
        409,
        "subscription_pause_state",
    ),
    Case(
        "subscription is already paused",
        replace(VALID[PAUSE], target=_paused_subscription),
        409,
        "subscription_pause_state",
    ),
    Case(
        "subscription is paused",
        replace(
            VALID[CHANGE_PLAN],
            target=_paused_subscription,
            body={"plan": PRO, "effective_date": "2025-04-20"},
        ),
        409,
        "subscription_pause_state",
    ),
    *[
        Case(
            "subscription is canceled",
            replace(VALID[route], target=_canceled_subscription),
            409,
            "subscription_ended",
        )
        for route in (CHANGE_PLAN, PAUSE, CANCEL)
    ],
    Case(
        "key is already revoked",
        replace(VALID[("DELETE", "/v1/api-keys/{key_id}")], target=_revoked_key),
        409,
        "state_conflict",
    ),
    # headers
    *[
        Case(
            f"Idempotency-Key {label}",
            replace(VALID[CUSTOMERS], headers={"Idempotency-Key": key}),
            422,
            code,
        )
        for label, key, code in [
            ("of 256 characters", "k" * 256, INVALID),
            ("blank", "   ", "malformed_header"),
        ]
    ],
]


def _generic_cases() -> list[Case]:
    """The cases every route gets, derived from its valid request."""
    cases = []
    for valid in ROUTES:
        names = [part[1:-1] for part in valid.path.split("/") if part.startswith("{")]
        for name in names:
            for label, value in [
                ("not a UUID", "invoice-1"),
                ("a number", "42"),
                ("a UUID with a suffix", f"{uuid.uuid4()}x"),
            ]:
                bad = valid.path.replace(f"{{{name}}}", value)
                cases.append(Case(f"{name} {label}", replace(valid, path=bad), 422, INVALID))
            unknown = valid.path.replace(f"{{{name}}}", str(uuid.uuid4()))
            cases.append(Case(f"unknown {name}", replace(valid, path=unknown), 404, "not_found"))
        if valid.method in ("POST", "PATCH", "PUT") and valid.body is not None:
            for label, text, status, code in [
                ("truncated JSON", '{"name": ', 400, "malformed_request"),
                ("JSON with a trailing comma", '{"a": 1,}', 400, "malformed_request"),
                ("bytes that are not UTF-8", "\udcff\udcfe", 400, "malformed_request"),
                ("a JSON array", "[]", 422, INVALID),
                ("a JSON string", '"hello"', 422, INVALID),
            ]:
                cases.append(Case(f"body {label}", replace(valid, raw=Raw(text)), status, code))
        if isinstance(valid.body, dict) and valid.method in ("POST", "PATCH", "PUT"):
            unknown_field = {**valid.body, "unexpected": True}
            cases.append(Case("unknown field", replace(valid, body=unknown_field), 422, INVALID))
        if valid.versioned:
            for label, value in [
                ("not a number", '"abc"'),
                ("two ETags", '"1", "2"'),
                ("empty", ""),
                ("too long", '"' + "9" * 12 + '"'),
            ]:
                headers = {**valid.headers, "If-Match": value}
                cases.append(
                    Case(
                        f"If-Match {label}",
                        replace(valid, headers=headers),
                        422,
                        "malformed_header",
                    )
                )
            stale = replace(valid, headers={**valid.headers, "If-Match": '"99"'})
            cases.append(Case("stale If-Match", stale, 409, "version_mismatch"))
    return cases


CASES = _generic_cases() + FIELD_CASES


def _send(
    client: TestClient, request: Request, target: Target, auth: dict[str, str]
) -> httpx.Response:
    headers = {**auth, **request.headers}
    path = request.path.format(**target.params)
    if request.raw is not None:
        text = request.raw.text
        for name, value in target.params.items():
            text = text.replace(f"{{{name}}}", value)
        content = text.encode("utf-8", "surrogateescape")
        headers["Content-Type"] = "application/json"
        return client.request(
            request.method, path, content=content, params=request.query, headers=headers
        )
    if request.content is not None:
        return client.request(
            request.method, path, content=request.content, params=request.query, headers=headers
        )
    return client.request(
        request.method,
        path,
        json=_filled(request.body, target.params),
        params=request.query,
        headers=headers,
    )


def _filled(body: Any, params: dict[str, str]) -> Any:
    if isinstance(body, dict):
        return {key: _filled(value, params) for key, value in body.items()}
    if isinstance(body, list):
        return [_filled(value, params) for value in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return params.get(body[1:-1], body)
    return body


def _auth(request: Request, owner: TenantClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"} if request.admin else owner.headers


def _state(client: TestClient, owner: TenantClient, target: Target) -> list[tuple[Any, ...]]:
    responses = [client.get(path, headers=owner.headers) for path in target.reads]
    return [(r.status_code, r.headers.get("ETag"), r.json()) for r in responses]


@pytest.fixture
def head(ledger: Ledger) -> Callable[[], int]:
    """The event store's last position: unchanged means no event was appended."""
    return lambda: ledger.recorder.max_notification_id() or 0


def test_every_route_is_probed_with_bad_input(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    routed = set()
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        if path and path not in NOT_PROBED and path != "/metrics":
            routed |= {(m, path) for m in route.methods or () if m != "HEAD"}
    assert len(routed) > 20, "the route enumeration is broken"
    assert routed - VALID.keys() == set(), "routes missing from ROUTES"
    assert VALID.keys() - routed == set(), "ROUTES names routes the app no longer has"


@pytest.mark.parametrize("valid", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_the_valid_request_of_each_route_succeeds(
    client: TestClient, tenant: TenantClient, valid: Request
) -> None:
    """The bad cases are variations of these, so each fails for the reason it names."""
    response = _send(client, valid, valid.target(tenant), _auth(valid, tenant))
    assert response.is_success, response.text


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_gets_a_4xx_problem_and_changes_nothing(
    client: TestClient, tenant: TenantClient, head: Callable[[], int], case: Case
) -> None:
    target = case.request.target(tenant)
    before, position = _state(client, tenant, target), head()

    response = _send(client, case.request, target, _auth(case.request, tenant))

    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == case.status
    assert problem["type"].startswith("https://")
    assert problem["title"]
    assert problem["detail"]
    if case.code is not None:
        assert problem["code"] == case.code
    assert "ETag" not in response.headers
    assert head() == position, "a refused request appended events"
    assert _state(client, tenant, target) == before


def test_stale_if_match_names_the_current_version(tenant: TenantClient) -> None:
    customer_id = tenant.customer()
    path = f"/v1/customers/{customer_id}"
    renamed = tenant.client.patch(
        path, json={"name": "V2"}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["ETag"] == '"2"'

    stale = tenant.client.patch(
        path, json={"name": "V3"}, headers={**tenant.headers, "If-Match": '"1"'}
    )

    assert stale.status_code == 409
    assert stale.json()["code"] == "version_mismatch"
    assert stale.json()["current_version"] == 2
    assert tenant.get(path).json()["name"] == "V2"


def test_a_subscription_the_run_cannot_bill_is_reported_and_the_others_are_billed(
    tenant: TenantClient,
) -> None:
    billable = _subscription(tenant)
    early = {"customer_id": tenant.customer(), "plan": PLAN, "start_date": "2000-01-01"}
    created = tenant.post("/v1/subscriptions", early)
    assert created.status_code == 201, created.text

    first = tenant.post("/v1/billing/run", {"as_of": "2025-05-01"})
    again = tenant.post("/v1/billing/run", {"as_of": "2025-05-01"})

    assert first.status_code == 200, first.text
    billed = {b["subscription_id"] for b in first.json()["billed"]}
    assert billed == {billable.params["subscription_id"]}
    [failed] = first.json()["failed"]
    assert failed["subscription_id"] == created.json()["id"]
    assert failed["code"] == "tax_rate_not_found"
    assert again.json()["billed"] == []  # billed once
    assert [f["subscription_id"] for f in again.json()["failed"]] == [created.json()["id"]]


def test_a_credit_note_cannot_be_issued_in_the_future(
    tenant: TenantClient, head: Callable[[], int]
) -> None:
    invoice = tenant.finalized()
    position = head()

    response = tenant.post(
        "/v1/credit-notes",
        {
            "invoice_id": invoice["id"],
            "reason": "Returned",
            "full": True,
            "issue_date": "2999-01-01",
        },
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
    assert head() == position


# -- Idempotency-Key -----------------------------------------------------------------------


def _count(owner: TenantClient, path: str) -> int:
    response = owner.get(path, limit="200")
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def test_replay_with_the_same_idempotency_key_returns_the_first_response_and_creates_nothing(
    tenant: TenantClient, head: Callable[[], int]
) -> None:
    customer_id = tenant.customer()
    body = {"customer_id": customer_id, "lines": [LINE], "memo": "once"}
    key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}
    count = _count(tenant, "/v1/invoices")

    first = tenant.post("/v1/invoices", body, **key)
    position = head()
    replay = tenant.post("/v1/invoices", body, **key)

    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert replay.headers["ETag"] == first.headers["ETag"]
    assert head() == position
    assert _count(tenant, "/v1/invoices") == count + 1


@pytest.mark.parametrize(
    ("path", "body", "changed"),
    [
        ("/v1/customers", {"name": "Kunde AG", "country": "DE"}, {"name": "Andere AG"}),
        ("/v1/invoices/{invoice_id}/lines", LINE, {"quantity": "3"}),
        (
            "/v1/invoices/{invoice_id}/payments",
            {"amount": "5.00", "paid_at": TODAY},
            {"amount": "6.00"},
        ),
    ],
    ids=["customer", "line", "payment"],
)
def test_idempotency_key_reused_with_another_body_gets_409_and_changes_nothing(
    client: TestClient,
    tenant: TenantClient,
    head: Callable[[], int],
    path: str,
    body: dict[str, Any],
    changed: dict[str, Any],
) -> None:
    invoice = tenant.finalized() if "payments" in path else tenant.draft()
    path = path.format(invoice_id=invoice["id"])
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = tenant.post(path, body, **key)
    assert first.is_success, first.text
    replay = tenant.post(path, body, **key)
    reads = ("/v1/customers", f"/v1/invoices/{invoice['id']}")
    before, position = _state(client, tenant, Target({}, reads)), head()

    reused = tenant.post(path, {**body, **changed}, **key)
    elsewhere = tenant.post("/v1/customers", {"name": "X", "country": "DE"}, **key)

    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    assert replay.headers["Idempotent-Replayed"] == "true"
    for response in (reused, elsewhere):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "idempotency_key_reused"
    assert head() == position
    assert _state(client, tenant, Target({}, reads)) == before


def test_payment_replayed_with_its_idempotency_key_is_recorded_once(tenant: TenantClient) -> None:
    invoice = tenant.finalized()
    path = f"/v1/invoices/{invoice['id']}/payments"
    key = {"Idempotency-Key": "pay-1"}
    body = {"amount": "50.00", "paid_at": TODAY}

    responses = [tenant.post(path, body, **key) for _ in range(3)]

    assert {r.status_code for r in responses} == {200}
    assert {r.content for r in responses} == {responses[0].content}
    paid = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    assert paid["amount_paid"] == "50.00"
    assert len(paid["payments"]) == 1


def test_api_key_replay_returns_the_first_response_without_the_secret(
    client: TestClient, tenant: TenantClient
) -> None:
    key = {"Idempotency-Key": "new-key-1"}
    body = {"name": "ci", "role": "auditor"}

    first = tenant.post("/v1/api-keys", body, **key)
    replay = tenant.post("/v1/api-keys", body, **key)

    assert first.status_code == replay.status_code == 201
    assert first.json()["key"] is not None
    assert replay.json() == {**first.json(), "key": None}
    assert replay.headers["Idempotent-Replayed"] == "true"
    issued = {"Authorization": f"Bearer {first.json()['key']}"}
    assert client.get("/v1/tenant", headers=issued).status_code == 200
