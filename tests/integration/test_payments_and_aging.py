"""Payments over several invoices, refunds, statements and aging as of a date."""

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantClient

LINE = {"description": "Work", "quantity": "1", "unit_price": "100.00", "tax_rate": "19"}


def finalized_on(tenant: TenantClient, customer: str, issued: str, due_days: int = 14) -> Any:
    invoice = tenant.draft(customer, [LINE], due_days=due_days)
    response = tenant.post(f"/v1/invoices/{invoice['id']}/finalize", {"issue_date": issued})
    assert response.status_code == 200, response.text
    return response.json()


def pay(
    tenant: TenantClient,
    customer: str,
    amount: str,
    paid_at: str,
    allocations: list[tuple[str, str]],
) -> Any:
    return tenant.post(
        "/v1/payments",
        {
            "customer_id": customer,
            "amount": amount,
            "currency": "EUR",
            "paid_at": paid_at,
            "allocations": [{"invoice_id": i, "amount": a} for i, a in allocations],
        },
    )


def test_one_payment_over_two_invoices_with_a_remainder_as_credit(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    a = finalized_on(tenant, customer, "2026-01-05")
    b = finalized_on(tenant, customer, "2026-01-06")
    response = pay(
        tenant, customer, "300.00", "2026-01-20", [(a["id"], "119.00"), (b["id"], "50.00")]
    )
    assert response.status_code == 201, response.text
    assert response.json()["unallocated"] == "131.00"
    assert tenant.get(f"/v1/invoices/{a['id']}").json()["status"] == "paid"
    assert tenant.get(f"/v1/invoices/{b['id']}").json()["amount_due"] == "69.00"
    statement = tenant.get(f"/v1/customers/{customer}/statement").json()["statements"][0]
    # invoices - credits - payments + refunds = balance
    assert Decimal(statement["closing_balance"]) == Decimal("238.00") - Decimal("300.00")
    assert statement["credit_available"] == "131.00"
    refund = tenant.post(
        f"/v1/payments/{response.json()['id']}/refunds",
        {"amount": "131.00", "refunded_at": "2026-01-25"},
    )
    assert refund.status_code == 200, refund.text
    statement = tenant.get(f"/v1/customers/{customer}/statement").json()["statements"][0]
    assert statement["closing_balance"] == "69.00"
    assert statement["credit_available"] == "0.00"


def test_allocations_are_checked_and_a_refused_payment_records_nothing(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer, other = tenant.customer(), tenant.customer()
    a = finalized_on(tenant, customer, "2026-01-05")
    foreign = finalized_on(tenant, other, "2026-01-05")
    assert pay(tenant, customer, "100.00", "2026-01-20", [(a["id"], "150.00")]).status_code == 422
    assert pay(tenant, customer, "200.00", "2026-01-20", [(a["id"], "150.00")]).status_code == 409
    assert (
        pay(tenant, customer, "50.00", "2026-01-20", [(foreign["id"], "50.00")]).status_code == 422
    )
    assert tenant.get(f"/v1/invoices/{a['id']}").json()["amount_paid"] == "0.00"
    assert (
        tenant.get(f"/v1/customers/{customer}/statement").json()["statements"][0]["lines"][-1][
            "kind"
        ]
        == "invoice"
    )


def test_a_refund_beyond_the_unallocated_part_is_refused(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    a = finalized_on(tenant, customer, "2026-01-05")
    payment = pay(tenant, customer, "130.00", "2026-01-20", [(a["id"], "119.00")]).json()
    refused = tenant.post(
        f"/v1/payments/{payment['id']}/refunds", {"amount": "11.01", "refunded_at": "2026-01-25"}
    )
    assert refused.status_code == 409


def test_statement_rows_have_a_running_balance_and_respect_the_period(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    a = finalized_on(tenant, customer, "2026-01-05")
    finalized_on(tenant, customer, "2026-02-05")
    pay(tenant, customer, "119.00", "2026-01-20", [(a["id"], "119.00")])
    statement = tenant.client.get(
        f"/v1/customers/{customer}/statement",
        params={"from": "2026-01-10", "to": "2026-02-28"},
        headers=tenant.headers,
    ).json()["statements"][0]
    assert statement["opening_balance"] == "119.00"
    assert [(r["kind"], r["balance"]) for r in statement["lines"]] == [
        ("payment", "0.00"),
        ("invoice", "119.00"),
    ]
    assert statement["closing_balance"] == "119.00"


def aging_totals(tenant: TenantClient, as_of: str) -> dict[str, Any]:
    response = tenant.get("/v1/reports/aging", as_of=as_of)
    assert response.status_code == 200, response.text
    return response.json()["totals"].get("EUR", {})


def test_aging_puts_open_amounts_in_buckets_by_days_past_due(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    for issued in ("2026-01-01", "2026-03-01", "2026-05-01", "2026-06-01", "2026-06-20"):
        finalized_on(tenant, customer, issued, due_days=10)
    # Due dates are issue + 10 days; as of July 1st they are 1, 20, 51, 112 and 171 days past.
    assert aging_totals(tenant, "2026-07-01") == {
        "current": "0.00",
        "days_1_30": "238.00",
        "days_31_60": "119.00",
        "days_61_90": "0.00",
        "days_over_90": "238.00",
        "total": "595.00",
    }
    assert aging_totals(tenant, "2026-06-25")["current"] == "119.00"  # due on the 30th


def test_aging_as_of_a_past_date_equals_the_aging_taken_that_day(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    a = finalized_on(tenant, customer, "2026-01-05")
    b = finalized_on(tenant, customer, "2026-02-01")
    pay(tenant, customer, "50.00", "2026-02-10", [(a["id"], "50.00")])
    then = tenant.get("/v1/reports/aging", as_of="2026-02-15").json()
    # Later activity, dated after the 15th, must not change the picture of the 15th.
    pay(tenant, customer, "69.00", "2026-03-01", [(a["id"], "69.00")])
    tenant.post(
        "/v1/credit-notes",
        {"invoice_id": b["id"], "reason": "r", "full": True, "issue_date": "2026-03-02"},
    )
    finalized_on(tenant, customer, "2026-03-05")
    assert tenant.get("/v1/reports/aging", as_of="2026-02-15").json() == then
    assert Decimal(then["totals"]["EUR"]["total"]) == Decimal("188.00")
    assert Decimal(aging_totals(tenant, "2026-03-10")["total"]) == Decimal("119.00")


def test_aging_csv(client: TestClient) -> None:
    tenant = TenantClient(client)
    finalized_on(tenant, tenant.customer(), "2026-01-05")
    response = tenant.client.get(
        "/v1/reports/aging",
        params={"as_of": "2026-03-01"},
        headers={**tenant.headers, "Accept": "text/csv"},
    )
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("customer_id,currency,current,days_1_30")
    assert lines[-1].startswith("TOTAL,EUR")
