"""Credit notes: partial and full, by line and by amount, the cap under concurrency."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantClient

LINES = [
    {"description": "Consulting", "quantity": "3", "unit_price": "0.03", "tax_rate": "19"},
    {"description": "Book", "quantity": "2", "unit_price": "10.00", "tax_rate": "7"},
]


def credit(tenant: TenantClient, invoice: dict[str, Any], **body: Any) -> Any:
    return tenant.post("/v1/credit-notes", {"invoice_id": invoice["id"], "reason": "r", **body})


def test_a_full_credit_gives_exactly_the_negated_invoice_totals(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized(lines=LINES)
    note = credit(tenant, invoice, full=True).json()
    for key in ("subtotal", "tax_total", "total"):
        assert note[key] == invoice[key]
    assert [
        (g["tax_rate"], g["taxable_amount"], g["tax_amount"]) for g in note["tax_breakdown"]
    ] == [(g["tax_rate"], g["taxable_amount"], g["tax_amount"]) for g in invoice["tax_breakdown"]]
    after = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    assert (after["status"], after["amount_due"], after["amount_credited"]) == (
        "paid",
        "0.00",
        invoice["total"],
    )
    assert note["number"].startswith("CN-2026-")
    assert note["invoice_number"] == invoice["number"]


def test_partial_credits_by_quantity_and_amount_then_the_rest(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized(lines=LINES)
    consulting, book = invoice["lines"]
    first = credit(tenant, invoice, lines=[{"invoice_line_id": consulting["id"], "quantity": "1"}])
    assert first.json()["subtotal"] == "0.03"
    second = credit(tenant, invoice, lines=[{"invoice_line_id": book["id"], "amount": "5.00"}])
    assert second.json()["tax_total"] == "0.35"
    rest = credit(tenant, invoice, full=True).json()
    credited = [first.json(), second.json(), rest]
    for key in ("subtotal", "tax_total", "total"):
        assert sum(Decimal(c[key]) for c in credited) == Decimal(invoice[key])
    assert credit(tenant, invoice, full=True).status_code == 409


def test_a_line_cannot_be_credited_beyond_what_is_left(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized(lines=LINES)
    book = invoice["lines"][1]
    assert (
        credit(
            tenant, invoice, lines=[{"invoice_line_id": book["id"], "quantity": "3"}]
        ).status_code
        == 409
    )
    assert (
        credit(
            tenant, invoice, lines=[{"invoice_line_id": book["id"], "amount": "20.01"}]
        ).status_code
        == 409
    )
    assert tenant.get("/v1/credit-notes", invoice_id=invoice["id"]).json()["data"] == []


def test_drafts_and_void_invoices_refuse_credit_notes(client: TestClient) -> None:
    tenant = TenantClient(client)
    draft = tenant.draft(lines=LINES)
    voided = tenant.finalized(lines=LINES)
    tenant.post(f"/v1/invoices/{voided['id']}/void", {"reason": "duplicate"})
    assert credit(tenant, draft, full=True).status_code == 409
    assert credit(tenant, voided, full=True).status_code == 409
    assert tenant.get("/v1/credit-notes").json()["data"] == []


def test_16_concurrent_credits_never_over_credit_and_numbers_stay_contiguous(
    client: TestClient,
) -> None:
    tenant = TenantClient(client)
    line = {"description": "Seats", "quantity": "10", "unit_price": "10.00", "tax_rate": "19"}
    invoice = tenant.finalized(lines=[line])
    line_id = invoice["lines"][0]["id"]

    def one(_: int) -> Any:
        return credit(tenant, invoice, lines=[{"invoice_line_id": line_id, "quantity": "1"}])

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(one, range(16)))
    accepted = [r.json() for r in responses if r.status_code == 201]
    assert sorted(r.status_code for r in responses) == [201] * 10 + [409] * 6
    assert sum(Decimal(n["total"]) for n in accepted) == Decimal(invoice["total"])
    numbers = sorted(int(n["number"].rsplit("-", 1)[1]) for n in accepted)
    assert numbers == list(range(1, 11))
    after = tenant.get(f"/v1/invoices/{invoice['id']}").json()
    assert after["amount_credited"] == invoice["total"]


def test_reduce_due_cannot_exceed_what_is_due(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized(lines=LINES)
    tenant.post(
        f"/v1/invoices/{invoice['id']}/payments",
        {"amount": invoice["total"], "paid_at": "2026-01-10"},
    )
    refused = credit(tenant, invoice, full=True, outcome="reduce_due")
    assert refused.status_code == 409
    assert refused.json()["code"] == "credit_exceeds_invoice"


def test_a_refund_outcome_is_owed_until_paid_out(client: TestClient) -> None:
    tenant = TenantClient(client)
    invoice = tenant.finalized(lines=LINES)
    tenant.post(
        f"/v1/invoices/{invoice['id']}/payments",
        {"amount": invoice["total"], "paid_at": "2026-01-10"},
    )
    note = credit(tenant, invoice, full=True, outcome="refund").json()
    assert note["status"] == "refund_owed"
    statement = tenant.get(f"/v1/customers/{invoice['customer_id']}/statement").json()
    assert statement["statements"][0]["refunds_owed"] == invoice["total"]
    assert Decimal(statement["statements"][0]["closing_balance"]) == -Decimal(invoice["total"])
    paid = tenant.post(f"/v1/credit-notes/{note['id']}/refund", {"refunded_at": "2026-01-20"})
    assert paid.json()["status"] == "refunded"
    statement = tenant.get(f"/v1/customers/{invoice['customer_id']}/statement").json()
    assert statement["statements"][0]["closing_balance"] == "0.00"
    assert statement["statements"][0]["refunds_owed"] == "0.00"
    assert (
        tenant.post(
            f"/v1/credit-notes/{note['id']}/refund", {"refunded_at": "2026-01-21"}
        ).status_code
        == 409
    )


def test_a_credit_balance_is_consumed_by_the_next_invoice(client: TestClient) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    first = tenant.finalized(customer_id=customer, lines=LINES)
    tenant.post(
        f"/v1/invoices/{first['id']}/payments", {"amount": first["total"], "paid_at": "2026-01-10"}
    )
    note = credit(
        tenant,
        first,
        lines=[{"invoice_line_id": first["lines"][1]["id"], "quantity": "1"}],
        outcome="credit_balance",
    ).json()
    second = tenant.finalized(customer_id=customer, lines=LINES)
    expected_due = Decimal(second["total"]) - Decimal(note["total"])
    assert Decimal(second["amount_due"]) == expected_due
    history = tenant.get(f"/v1/invoices/{second['id']}/history").json()["data"]
    assert [h["type"] for h in history][-1] == "CustomerCreditApplied"
    statement = tenant.get(f"/v1/customers/{customer}/statement").json()["statements"][0]
    assert statement["credit_available"] == "0.00"
    assert Decimal(statement["closing_balance"]) == expected_due
