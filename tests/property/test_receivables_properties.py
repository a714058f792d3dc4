"""For any history of a customer: invoices - credits - payments + refunds = balance."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TenantClient

cents = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), cents, st.sampled_from(["0", "7", "19"])),
        st.tuples(
            st.just("credit"),
            st.integers(0, 9),
            st.sampled_from(["full", "half"]),
            st.sampled_from(["reduce_due", "refund", "credit_balance"]),
        ),
        st.tuples(st.just("pay"), cents, st.lists(st.integers(0, 9), max_size=3, unique=True)),
        st.tuples(st.just("refund_credit_note"), st.integers(0, 9)),
        st.tuples(st.just("refund_payment"), st.integers(0, 9), cents),
    ),
    min_size=1,
    max_size=14,
)


class Books:
    """What the test itself saw accepted, to compare with what the ledger reports."""

    def __init__(self, tenant: TenantClient) -> None:
        self.tenant = tenant
        self.customer = tenant.customer()
        self.invoices: list[dict[str, Any]] = []
        self.credit_notes: list[dict[str, Any]] = []
        self.payments: list[dict[str, Any]] = []
        self.invoiced = self.credited = self.paid = self.refunded = Decimal(0)

    def run(self, op: tuple[Any, ...]) -> None:
        getattr(self, op[0])(*op[1:])

    def invoice(self, price: Decimal, rate: str) -> None:
        line = {"description": "x", "quantity": "1", "unit_price": str(price), "tax_rate": rate}
        invoice = self.tenant.finalized(customer_id=self.customer, lines=[line])
        self.invoices.append(invoice)
        self.invoiced += Decimal(invoice["total"])

    def credit(self, index: int, size: str, outcome: str) -> None:
        if not self.invoices:
            return
        invoice = self.invoices[index % len(self.invoices)]
        body: dict[str, Any] = {"invoice_id": invoice["id"], "reason": "r", "outcome": outcome}
        if size == "full":
            body["full"] = True
        else:
            net = (Decimal(invoice["subtotal"]) / 2).quantize(Decimal("0.01"))
            body["lines"] = [
                {
                    "invoice_line_id": invoice["lines"][0]["id"],
                    "amount": str(max(net, Decimal("0.01"))),
                }
            ]
        response = self.tenant.post("/v1/credit-notes", body)
        assert response.status_code in (201, 409), response.text
        if response.status_code == 201:
            self.credit_notes.append(response.json())
            self.credited += Decimal(response.json()["total"])

    def pay(self, amount: Decimal, targets: list[int]) -> None:
        allocations, left = [], amount
        for index in targets:
            if not self.invoices or left <= 0:
                break
            invoice = self.tenant.get(
                f"/v1/invoices/{self.invoices[index % len(self.invoices)]['id']}"
            ).json()
            share = min(left, Decimal(invoice["amount_due"]))
            if share > 0 and all(a["invoice_id"] != invoice["id"] for a in allocations):
                allocations.append({"invoice_id": invoice["id"], "amount": str(share)})
                left -= share
        response = self.tenant.post(
            "/v1/payments",
            {
                "customer_id": self.customer,
                "amount": str(amount),
                "currency": "EUR",
                "paid_at": "2026-01-10",
                "allocations": allocations,
            },
        )
        assert response.status_code == 201, response.text
        self.payments.append(response.json())
        self.paid += amount

    def refund_credit_note(self, index: int) -> None:
        owed = [n for n in self.credit_notes if n["outcome"] == "refund"]
        if owed:
            note = owed[index % len(owed)]
            response = self.tenant.post(
                f"/v1/credit-notes/{note['id']}/refund", {"refunded_at": "2026-01-11"}
            )
            assert response.status_code in (200, 409), response.text
            if response.status_code == 200:
                self.refunded += Decimal(note["total"])

    def refund_payment(self, index: int, amount: Decimal) -> None:
        if self.payments:
            payment = self.payments[index % len(self.payments)]
            response = self.tenant.post(
                f"/v1/payments/{payment['id']}/refunds",
                {"amount": str(amount), "refunded_at": "2026-01-11"},
            )
            assert response.status_code in (200, 409), response.text
            if response.status_code == 200:
                self.refunded += amount


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_statement_balance_and_aging_agree_with_the_documents(
    client: TestClient, script: list[tuple[Any, ...]]
) -> None:
    books = Books(TenantClient(client))
    for op in script:
        books.run(op)
    statements = books.tenant.get(f"/v1/customers/{books.customer}/statement").json()["statements"]
    identity = books.invoiced - books.credited - books.paid + books.refunded
    if not statements:
        assert identity == 0
        return
    statement = statements[0]
    assert Decimal(statement["closing_balance"]) == identity
    open_amounts = sum(
        (
            Decimal(books.tenant.get(f"/v1/invoices/{i['id']}").json()["amount_due"])
            for i in books.invoices
        ),
        Decimal(0),
    )
    customer_credit = Decimal(statement["credit_available"]) + Decimal(statement["refunds_owed"])
    assert Decimal(statement["closing_balance"]) == open_amounts - customer_credit
    later = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    aging = books.tenant.get("/v1/reports/aging", as_of=later).json()
    assert Decimal(aging["totals"].get("EUR", {}).get("total", "0")) == open_amounts
