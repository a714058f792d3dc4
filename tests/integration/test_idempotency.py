"""Idempotency-Key: a replay returns the first response and records nothing twice."""

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from tests.conftest import LINE, TenantClient


def invoice_count(tenant: TenantClient) -> int:
    return len(tenant.get("/v1/invoices", limit=200).json()["data"])


def test_a_replayed_draft_returns_the_first_response_and_creates_nothing(
    client: TestClient,
) -> None:
    tenant = TenantClient(client)
    body = {"customer_id": tenant.customer(), "lines": [LINE]}
    first = tenant.post("/v1/invoices", body, **{"Idempotency-Key": "order-1"})
    again = tenant.post("/v1/invoices", body, **{"Idempotency-Key": "order-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert invoice_count(tenant) == 1


def test_concurrent_duplicates_create_one_invoice_and_all_get_the_same_answer(
    client: TestClient,
) -> None:
    tenant = TenantClient(client)
    body = {"customer_id": tenant.customer(), "lines": [LINE]}

    def send(_: int) -> tuple[int, str]:
        response = tenant.post("/v1/invoices", body, **{"Idempotency-Key": "burst"})
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        answers = set(pool.map(send, range(8)))
    assert len(answers) == 1
    assert next(iter(answers))[0] == 201
    assert invoice_count(tenant) == 1


def test_a_replayed_payment_is_not_recorded_twice(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized()
    payment = {"amount": "10.00", "paid_at": "2026-01-10"}
    path = f"/v1/invoices/{invoice['id']}/payments"
    first = tenant.post(path, payment, **{"Idempotency-Key": "pay-1"})
    second = tenant.post(path, payment, **{"Idempotency-Key": "pay-1"})
    assert second.json() == first.json()
    current = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    assert current["amount_paid"] == "10.00"
    assert len(current["payments"]) == 1


def test_the_same_key_with_another_body_is_a_conflict_that_changes_nothing(
    client: TestClient,
) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    tenant.post(
        "/v1/invoices", {"customer_id": customer, "lines": [LINE]}, **{"Idempotency-Key": "k"}
    )
    other = tenant.post(
        "/v1/invoices", {"customer_id": customer, "lines": []}, **{"Idempotency-Key": "k"}
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert invoice_count(tenant) == 1


def test_keys_are_scoped_to_the_tenant(client: TestClient) -> None:
    a, b = TenantClient(client), TenantClient(client)
    first = a.post("/v1/customers", {"name": "A", "country": "DE"}, **{"Idempotency-Key": "same"})
    second = b.post("/v1/customers", {"name": "A", "country": "DE"}, **{"Idempotency-Key": "same"})
    assert first.json()["id"] != second.json()["id"]


def test_a_replayed_key_creation_does_not_reveal_the_secret_again(client: TestClient) -> None:
    tenant = TenantClient(client)
    body = {"name": "shop", "role": "issuer"}
    first = tenant.post("/v1/api-keys", body, **{"Idempotency-Key": "key-1"})
    again = tenant.post("/v1/api-keys", body, **{"Idempotency-Key": "key-1"})
    assert first.json()["key"].startswith("lk_")
    assert again.json()["key"] is None
    assert again.json()["id"] == first.json()["id"]
