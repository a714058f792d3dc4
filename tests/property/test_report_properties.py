"""Reports add up: totals are the sum of the period's documents; credits cancel."""

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TenantClient
from tests.integration.test_tax_reports import YEAR

documents = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=100_000).map(lambda c: str(Decimal(c) / 100)),
        st.sampled_from(["0", "7", "19"]),
        st.sampled_from(["none", "full", "half"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_vat_totals_equal_the_sum_of_the_documents_in_the_period(
    client: TestClient, docs: list[tuple[str, str, str]]
) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    expected_tax, expected_base = Decimal(0), Decimal(0)
    for price, rate, credit in docs:
        line: dict[str, Any] = {
            "description": "x",
            "quantity": "1",
            "unit_price": price,
            "tax_rate": rate,
        }
        invoice = tenant.finalized(customer_id=customer, lines=[line])
        expected_tax += Decimal(invoice["tax_total"])
        expected_base += Decimal(invoice["subtotal"])
        if credit != "none":
            body: dict[str, Any] = {"invoice_id": invoice["id"], "reason": "r"}
            if credit == "full":
                body["full"] = True
            else:
                half = max(
                    (Decimal(invoice["subtotal"]) / 2).quantize(Decimal("0.01")), Decimal("0.01")
                )
                body["lines"] = [
                    {"invoice_line_id": invoice["lines"][0]["id"], "amount": str(half)}
                ]
            note = tenant.post("/v1/credit-notes", body).json()
            expected_tax -= Decimal(note["tax_total"])
            expected_base -= Decimal(note["subtotal"])
            if credit == "full":
                assert (note["tax_total"], note["subtotal"]) == (
                    invoice["tax_total"],
                    invoice["subtotal"],
                )
    vat = tenant.client.get("/v1/reports/vat", params=YEAR, headers=tenant.headers).json()
    assert Decimal(vat["totals"]["output_tax"]) == expected_tax
    assert Decimal(vat["totals"]["taxable_amount"]) == expected_base
    assert sum(Decimal(r["tax_amount"]) for r in vat["rows"]) == expected_tax
