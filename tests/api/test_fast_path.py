"""The HTTP fast path answers as FastAPI does, and answers the plain requests itself.

Two apps on the session's database, one with the fast path and one without, are sent the
same requests by twin tenants; their answers must agree byte for byte once the ids and
instants that differ between any two runs are replaced by placeholders.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Message

from api import problems
from api.app import create_app
from api.commands import commands
from api.fast_path import MAX_BODY, FastPath
from api.fast_routes import ROUTES, route_of
from api.routes.invoices import draft_invoice
from api.settings import Settings
from tests.conftest import LINE, TenantClient, ledger_behind, serve

JSON = "application/json"
NOWHERE = "00000000-0000-4000-8000-000000000001"  # no customer, no invoice
LINES = [
    LINE,
    {"description": "Parts", "quantity": "1.10", "unit_price": "3.333", "kind": "goods"},
    {"description": "Hosting", "quantity": 3, "unit_price": 12.5, "tax_rate": "19"},
]


def _app(settings: Settings, fast_path: bool) -> Iterator[TestClient]:
    # The session's app runs the projectors; these two need none of them.
    yield from serve(
        settings.model_copy(update={"http_fast_path": fast_path, "run_projectors": False})
    )


@pytest.fixture(scope="module")
def fast(settings: Settings) -> Iterator[TestClient]:
    yield from _app(settings, True)


@pytest.fixture(scope="module")
def plain(settings: Settings) -> Iterator[TestClient]:
    yield from _app(settings, False)


def fast_path_of(client: TestClient) -> FastPath | None:
    """The app's FastPath, found among the layers of its middleware stack."""
    layer = getattr(client.app, "middleware_stack", None)
    while layer is not None and not isinstance(layer, FastPath):
        layer = getattr(layer, "app", None)
    return layer


def served_by(client: TestClient) -> int:
    """How many requests the app's fast path answered so far."""
    path = fast_path_of(client)
    return sum(path.served.values()) if path else 0


@dataclass
class Answer:
    label: str
    response: Any
    expected: bool  # answered by the fast path, where there is one
    served: bool


class Side:
    """One app's part of a comparison: its own tenant, and what it answered, in order."""

    def __init__(self, client: TestClient, elsewhere: str) -> None:
        self.client = client
        self.tenant = TenantClient(client)
        self.owner = f"Bearer {self.tenant.key}"
        self.reader = self.tenant.key_for("accountant")["Authorization"]
        self.elsewhere = elsewhere  # another tenant's invoice
        self.answers: list[Answer] = []

    def post(
        self,
        label: str,
        path: str,
        body: Any = b"",
        *,
        served: bool,
        authorization: str | None = None,
        anonymous: bool = False,
        content_type: str | None = JSON,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Any:
        # Keys are remembered for seconds: each request finds them so, whatever the pace.
        for key in (self.owner, self.reader):
            ledger_behind(self.client).authenticate(key.removeprefix("Bearer "))
        pairs = [] if anonymous else [("authorization", authorization or self.owner)]
        if content_type is not None:
            pairs.append(("content-type", content_type))
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        before = served_by(self.client)
        response = self.client.post(
            path, content=content, headers=[*pairs, *headers], follow_redirects=False
        )
        self.answers.append(Answer(label, response, served, served_by(self.client) > before))
        return response


def scenario(s: Side) -> None:
    """The plain requests the fast path answers, then those it leaves to FastAPI."""
    # fmt: off
    customer = s.tenant.customer()
    draft = {"customer_id": customer, "lines": LINES}
    today = datetime.now(UTC).date()

    def invoice() -> str:
        return str(s.tenant.draft(customer)["id"])

    def finalize(invoice_id: str) -> str:
        return f"/v1/invoices/{invoice_id}/finalize"

    first = s.post("draft", "/v1/invoices", draft, served=True)
    s.post("draft, a key", "/v1/invoices", draft, served=True, headers=(("idempotency-key", "k1"),))
    s.post("draft, the key again", "/v1/invoices", draft, served=True, headers=(("idempotency-key", "k1"),))
    s.post("draft, the key, another body", "/v1/invoices", {**draft, "memo": "x"}, served=True, headers=(("idempotency-key", "k1"),))
    s.post("draft, a key of 255", "/v1/invoices", draft, served=True, headers=(("idempotency-key", "k" * 255),))
    s.post("draft, a query string", "/v1/invoices?x=1", draft, served=True)
    s.post("draft, lower-case scheme", "/v1/invoices", draft, served=True, authorization=f"bearer  {s.tenant.key} ")
    s.post("draft, a charset", "/v1/invoices", draft, served=True, content_type="application/json; charset=utf-8")
    s.post("draft, decimals as numbers", "/v1/invoices", b'{"customer_id": "%s", "lines": [{"description": "d", "quantity": 1.10, "unit_price": 0.1000000000000000055511151231257827}]}' % customer.encode(), served=True)
    s.post("draft, a memo and terms", "/v1/invoices", {**draft, "memo": "Danke\nGr\u00fc\u00dfe", "due_days": 30, "supply_date": "2026-01-31", "currency": "EUR"}, served=True)
    s.post("draft, an unknown customer", "/v1/invoices", {**draft, "customer_id": NOWHERE}, served=True)
    s.post("draft, an unknown currency", "/v1/invoices", {**draft, "currency": "XYZ"}, served=True)

    s.post("draft, no authorization", "/v1/invoices", draft, served=False, anonymous=True)
    s.post("draft, basic scheme", "/v1/invoices", draft, served=False, authorization=f"Basic {s.tenant.key}")
    s.post("draft, scheme only", "/v1/invoices", draft, served=False, authorization="Bearer ")
    s.post("draft, an unknown key", "/v1/invoices", draft, served=False, authorization="Bearer lk_unknown")
    s.post("draft, a read-only role", "/v1/invoices", draft, served=False, authorization=s.reader)
    s.post("draft, authorization twice", "/v1/invoices", draft, served=False, headers=(("authorization", s.owner),))
    s.post("draft, malformed JSON", "/v1/invoices", b'{"customer_id": ', served=False)
    s.post("draft, not UTF-8", "/v1/invoices", b'{"memo": "\xff"}', served=False)
    s.post("draft, NaN", "/v1/invoices", b'{"customer_id": "%s", "lines": [{"description": "d", "quantity": NaN, "unit_price": 1}]}' % customer.encode(), served=False)
    s.post("draft, an integer past 64 bits", "/v1/invoices", b'{"customer_id": "%s", "due_days": 36893488147419103232}' % customer.encode(), served=False)
    s.post("draft, a schema violation", "/v1/invoices", {**draft, "lines": [{**LINE, "quantity": "-1"}]}, served=False)
    s.post("draft, an unknown field", "/v1/invoices", {**draft, "colour": "red"}, served=False)
    s.post("draft, a list", "/v1/invoices", [draft], served=False)
    s.post("draft, empty", "/v1/invoices", b"", served=False)
    s.post("draft, text/plain", "/v1/invoices", draft, served=False, content_type="text/plain")
    s.post("draft, no content type", "/v1/invoices", draft, served=False, content_type=None)
    s.post("draft, a +json type", "/v1/invoices", draft, served=False, content_type="application/vnd.api+json")
    s.post("draft, a key of 256", "/v1/invoices", draft, served=False, headers=(("idempotency-key", "k" * 256),))
    s.post("draft, an unprintable key", "/v1/invoices", draft, served=False, headers=(("idempotency-key", "k\x7f"),))
    s.post("draft, a blank key", "/v1/invoices", draft, served=False, headers=(("idempotency-key", " "),))
    s.post("draft, the key twice", "/v1/invoices", draft, served=False, headers=(("idempotency-key", "k2"), ("idempotency-key", "k3")))
    s.post("draft, a malformed If-Match", "/v1/invoices", draft, served=False, headers=(("if-match", "v1"),))
    s.post("draft, a long memo", "/v1/invoices", {**draft, "memo": "m" * MAX_BODY}, served=False)
    s.post("draft, a trailing slash", "/v1/invoices/", draft, served=False)

    drafted = first.json()["id"]
    etag = first.headers["etag"]
    s.post("finalize, If-Match of another version", finalize(drafted), {}, served=True, headers=(("if-match", '"99"'),))
    s.post("finalize, If-Match", finalize(drafted), {}, served=True, headers=(("if-match", etag),))
    s.post("finalize again", finalize(drafted), {}, served=True)
    s.post("finalize, no body", finalize(invoice()), served=True, content_type=None)
    s.post("finalize, no body, any type", finalize(invoice()), served=True, content_type="text/plain")
    s.post("finalize, If-Match *", finalize(invoice()), {}, served=True, headers=(("if-match", "*"),))
    s.post("finalize, a weak If-Match", finalize(invoice()), {}, served=True, headers=(("if-match", f"W/{etag}"),))
    s.post("finalize, an issue date", finalize(invoice()), {"issue_date": str(today)}, served=True)
    s.post("finalize, a future issue date", finalize(invoice()), {"issue_date": str(today + timedelta(days=30))}, served=True)
    s.post("finalize, an exchange rate", finalize(invoice()), {"exchange_rate": "1.1"}, served=True)
    keyed = invoice()
    s.post("finalize, a key", finalize(keyed), {}, served=True, headers=(("idempotency-key", "f1"),))
    s.post("finalize, the key again", finalize(keyed), {}, served=True, headers=(("idempotency-key", "f1"),))
    s.post("finalize, the key, another body", finalize(keyed), b"", served=True, headers=(("idempotency-key", "f1"),))
    s.post("finalize, an unknown invoice", finalize(NOWHERE), {}, served=True)
    s.post("finalize, another tenant's invoice", finalize(s.elsewhere), {}, served=True)
    discarded = invoice()
    s.client.delete(f"/v1/invoices/{discarded}", headers=s.tenant.headers)
    s.post("finalize, a discarded draft", finalize(discarded), {}, served=True)

    s.post("finalize, null", finalize(invoice()), b"null", served=False)
    s.post("finalize, a body without a type", finalize(invoice()), {}, served=False, content_type=None)
    s.post("finalize, a list", finalize(invoice()), [], served=False)
    s.post("finalize, an unknown field", finalize(invoice()), {"colour": "red"}, served=False)
    s.post("finalize, an old issue date", finalize(invoice()), {"issue_date": "1999-12-31"}, served=False)
    s.post("finalize, a malformed If-Match", finalize(invoice()), {}, served=False, headers=(("if-match", "abc"),))
    s.post("finalize, an upper-case id", finalize(invoice().upper()), {}, served=False)
    s.post("finalize, an id without dashes", finalize(UUID(invoice()).hex), {}, served=False)
    s.post("finalize, not an id", finalize("nothing"), {}, served=False)
    s.post("finalize, no authorization", finalize(invoice()), {}, served=False, anonymous=True)
    s.post("finalize, a read-only role", finalize(invoice()), {}, served=False, authorization=s.reader)
    # fmt: on


_ID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_RANDOM_HEADERS = {"x-request-id", "x-correlation-id"}


def placeholders(text: str, ids: dict[str, str]) -> str:
    """The text with each id named by the order it first appeared in, and no instants."""
    text = _ID.sub(lambda m: ids.setdefault(m[0].lower(), f"<id {len(ids)}>"), text)
    return _INSTANT.sub("<instant>", text)


def normalized(response: Any, ids: dict[str, str]) -> tuple[int, list[tuple[str, str]], str]:
    """The response with placeholders; its headers in order, with content-length checked
    against the body instead."""
    assert response.headers["content-length"] == str(len(response.content))
    headers = [
        (name, "<random>" if name in _RANDOM_HEADERS else placeholders(value, ids))
        for name, value in response.headers.multi_items()
        if name != "content-length"
    ]
    return response.status_code, headers, placeholders(response.text, ids)


@pytest.fixture(scope="module")
def elsewhere(fast: TestClient) -> str:
    return str(TenantClient(fast).draft()["id"])


def test_both_apps_answer_every_request_alike_and_the_fast_path_takes_the_plain_ones(
    fast: TestClient, plain: TestClient, elsewhere: str
) -> None:
    quick, slow = Side(fast, elsewhere), Side(plain, elsewhere)
    scenario(quick)
    scenario(slow)

    quick_ids: dict[str, str] = {}
    slow_ids: dict[str, str] = {}
    for ours, theirs in zip(quick.answers, slow.answers, strict=True):
        assert normalized(ours.response, quick_ids) == normalized(theirs.response, slow_ids), (
            ours.label
        )
    assert [a.label for a in quick.answers if a.served != a.expected] == []
    assert not any(a.served for a in slow.answers)
    assert fast_path_of(plain) is None
    # Both kinds of answer are among them: successes and problems, from each side.
    statuses = {a.response.status_code for a in quick.answers if a.served}
    assert {200, 201, 404, 409, 422} <= statuses
    assert {400, 401, 403, 422} <= {a.response.status_code for a in quick.answers if not a.served}
    # Requests are counted for the tenant whoever answered them.
    counts = [
        side.client.app.state.request_counts.per_month(  # type: ignore[attr-defined]
            side.tenant.id, date(2000, 1, 1), date(2100, 12, 31)
        )
        for side in (quick, slow)
    ]
    assert counts[0] == counts[1] != []


def test_the_key_and_body_fingerprint_is_the_same_through_fastapi(
    fast: TestClient, plain: TestClient
) -> None:
    tenant = TenantClient(fast)
    headers = {**tenant.headers, "Idempotency-Key": "shared"}
    body = {"customer_id": tenant.customer(), "lines": LINES}
    ledger_behind(fast).authenticate(tenant.key)

    before = served_by(fast)
    first = fast.post("/v1/invoices", json=body, headers=headers)
    assert served_by(fast) == before + 1
    again = plain.post("/v1/invoices", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    other = plain.post("/v1/invoices", json={**body, "memo": "x"}, headers=headers)
    assert other.json()["code"] == "idempotency_key_reused"

    finalize = f"/v1/invoices/{first.json()['id']}/finalize"
    headers = {**tenant.headers, "Idempotency-Key": "finalize"}
    through_fastapi = plain.post(finalize, json={}, headers=headers)
    ledger_behind(fast).authenticate(tenant.key)
    before = served_by(fast)
    replayed = fast.post(finalize, json={}, headers=headers)
    assert served_by(fast) == before + 1
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.content == through_fastapi.content


def _posts(client: TestClient) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["route"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name == "ledger_http_requests_total"
        and sample.labels["method"] == "POST"
        and "invoice" in sample.labels["route"]
    }


def test_metrics_label_the_requests_it_answers_by_the_route_fastapi_gives(
    fast: TestClient, plain: TestClient
) -> None:
    counted = []
    for client in (fast, plain):
        tenant = TenantClient(client)
        customer = tenant.customer()
        before, answered = _posts(client), served_by(client)
        ledger_behind(client).authenticate(tenant.key)
        invoice = tenant.draft(customer)
        tenant.finalized(customer_id=customer)
        tenant.post(f"/v1/invoices/{invoice['id']}/finalize", {})
        tenant.post(f"/v1/invoices/{invoice['id']}/finalize", {})
        after = _posts(client)
        counted.append({k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k)})
        if client is fast:
            assert served_by(client) == answered + 5
    # FastAPI 0.165 puts the router's own APIRoute in scope["route"]: the label is the path
    # within the router, without the /v1 of include_router's prefix.
    assert (
        counted[0]
        == counted[1]
        == {
            ("/invoices", "201"): 2,
            ("/invoices/{invoice_id}/finalize", "200"): 2,
            ("/invoices/{invoice_id}/finalize", "409"): 1,
        }
    )


def test_the_openapi_description_is_the_same(fast: TestClient, plain: TestClient) -> None:
    assert fast.get("/openapi.json").content == plain.get("/openapi.json").content
    assert fast.get("/docs").content == plain.get("/docs").content


def test_an_overridden_dependency_sends_its_requests_through_fastapi(fast: TestClient) -> None:
    tenant = TenantClient(fast)
    customer = tenant.customer()
    overrides = fast.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[commands] = commands
    try:
        before = served_by(fast)
        ledger_behind(fast).authenticate(tenant.key)
        assert tenant.draft(customer)["status"] == "draft"
        assert served_by(fast) == before
    finally:
        overrides.clear()


def _asgi_post(client: TestClient, path: str, messages: list[Message], key: str) -> Any:
    """What the app sends for a POST whose body comes in these messages."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    pending = deque(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.popleft() if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def call() -> None:
        await client.app(scope, receive, send)

    assert client.portal is not None
    client.portal.call(call)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    headers = [
        (k, v) for k, v in start["headers"] if k not in (b"x-request-id", b"x-correlation-id")
    ]
    return start["status"], headers, body


@pytest.mark.parametrize(
    ("case", "served_here"),
    [("whole", True), ("invalid", False), ("left", False)],
)
def test_a_body_in_several_messages_is_read_whole_and_handed_on_whole(
    fast: TestClient, plain: TestClient, case: str, served_here: bool
) -> None:
    answers = []
    for client in (fast, plain):
        tenant = TenantClient(client)
        lines = LINES if case == "whole" else [{**LINE, "quantity": "-1"}]
        body = json.dumps({"customer_id": tenant.customer(), "lines": lines}).encode()
        chunks = [body[:10], body[10:20], body[20:]]
        messages: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
        ]
        if case == "left":
            messages[1:] = [{"type": "http.disconnect"}]
        else:
            messages.append({"type": "http.request", "body": b"", "more_body": False})
        ledger_behind(client).authenticate(tenant.key)
        before = served_by(client)
        status, headers, content = _asgi_post(client, "/v1/invoices", messages, tenant.key)
        assert served_by(client) == before + (served_here and client is fast)
        answers.append((status, headers, placeholders(content.decode(), {})))
    assert answers[0] == answers[1]
    assert answers[0][0] == {"whole": 201, "invalid": 422, "left": 400}[case]


@pytest.mark.parametrize("change", ["an exception handler", "a route before it"])
def test_the_fast_path_stands_aside_when_the_app_is_not_the_one_it_mirrors(
    settings: Settings, change: str
) -> None:
    app = create_app(settings)
    assert all(route_of(app, route) for route in ROUTES)
    if change == "an exception handler":
        app.add_exception_handler(KeyError, problems.handle)
    else:
        # The same endpoint, yet under another path: not the route the fast path mirrors.
        catch_all = APIRoute("/v1/{anything:path}", draft_invoice, methods=["POST"])
        app.router.routes.insert(0, catch_all)
    assert not any(route_of(app, route) for route in ROUTES)


@pytest.mark.parametrize(
    "error",
    [RuntimeError("a bug"), psycopg.errors.LockNotAvailable("canceling statement")],
    ids=["unexpected", "database"],
)
def test_an_error_the_command_raises_is_answered_as_fastapi_answers_it(
    fast: TestClient, plain: TestClient, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    answers = []
    for client in (fast, plain):
        tenant = TenantClient(client)
        body = {"customer_id": tenant.customer(), "lines": LINES}

        def failing(*args: Any, **kwargs: Any) -> None:
            raise error

        ledger = ledger_behind(client)
        ledger.authenticate(tenant.key)
        monkeypatch.setattr(ledger, "_saved", failing)
        before = served_by(client)
        response = tenant.post("/v1/invoices", body)
        # An error without an answer of its own leaves the fast path unanswered, as it
        # leaves FastAPI's route: ServerErrorMiddleware sends the 500.
        assert served_by(client) == before + (
            client is fast and error.__class__ is not RuntimeError
        )
        monkeypatch.undo()
        answers.append(normalized(response, {}))
    assert answers[0] == answers[1]
    assert answers[0][0] == (500 if isinstance(error, RuntimeError) else 503)
