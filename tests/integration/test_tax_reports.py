"""VAT return, EC sales list, OSS and GST reports from the projected documents."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TENANT, TenantClient

TODAY = datetime.now(UTC).date().isoformat()
YEAR = {"from": f"{TODAY[:4]}-01-01", "to": f"{TODAY[:4]}-12-31"}
FR_VAT, NL_VAT = "FR40303265045", "NL004495445B01"


def line(kind: str = "services", price: str = "100.00", **extra: Any) -> dict[str, Any]:
    return {"description": "Item", "quantity": "1", "unit_price": price, "kind": kind, **extra}


def finalize(tenant: TenantClient, customer: str, *lines: dict[str, Any], **body: Any) -> Any:
    draft = tenant.draft(customer, list(lines))
    response = tenant.post(f"/v1/invoices/{draft['id']}/finalize", body)
    assert response.status_code == 200, response.text
    return response.json()


def report(tenant: TenantClient, name: str, **period: str) -> Any:
    response = tenant.client.get(
        f"/v1/reports/{name}", params=period or YEAR, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_vat_return_groups_by_country_category_and_rate(client: TestClient) -> None:
    seller = TenantClient(client, **{**TENANT, "allow_tax_rate_override": False})
    finalize(seller, seller.customer(country="DE"), line(), line(tax_class="reduced", kind="goods"))
    finalize(seller, seller.customer(country="FR", vat_id=FR_VAT), line())
    finalize(seller, seller.customer(country="NL", vat_id=NL_VAT), line("goods", "50.00"))
    finalize(seller, seller.customer(country="US"), line("goods", "30.00"))
    vat = report(seller, "vat")
    rows = {(r["tax_country"], r["tax_category"], r["tax_rate"]): r for r in vat["rows"]}
    assert rows[("DE", "S", "19")]["tax_amount"] == "19.00"
    assert rows[("DE", "S", "7")]["tax_amount"] == "7.00"
    assert vat["totals"]["output_tax"] == "26.00"
    assert vat["totals"]["reverse_charge_base"] == "100.00"
    assert vat["totals"]["intra_community_base"] == "50.00"
    assert vat["totals"]["export_base"] == "30.00"
    assert vat["currency"] == "EUR"


def test_a_full_credit_note_brings_an_invoice_contribution_to_zero(client: TestClient) -> None:
    seller = TenantClient(client)
    invoice = finalize(seller, seller.customer(), line(tax_rate="19"))
    before = report(seller, "vat")["totals"]["output_tax"]
    seller.post("/v1/credit-notes", {"invoice_id": invoice["id"], "reason": "r", "full": True})
    after = report(seller, "vat")
    assert Decimal(before) == Decimal("19.00")
    assert Decimal(after["totals"]["output_tax"]) == 0


def test_the_ec_sales_list_sums_goods_and_services_per_vat_id(client: TestClient) -> None:
    seller = TenantClient(client, **{**TENANT, "allow_tax_rate_override": False})
    fr = seller.customer(country="FR", vat_id=FR_VAT)
    finalize(seller, fr, line("goods", "80.00"), line("services", "20.00"))
    finalize(seller, fr, line("goods", "10.00"))
    finalize(seller, seller.customer(country="DE"), line())
    ecsl = report(seller, "ec-sales-list")
    assert ecsl["rows"] == [
        {
            "customer_vat_id": FR_VAT,
            "country": "FR",
            "goods": "90.00",
            "services": "20.00",
            "total": "110.00",
        }
    ]


def test_oss_lists_sales_taxed_in_other_member_states(client: TestClient) -> None:
    seller = TenantClient(
        client, **{**TENANT, "allow_tax_rate_override": False, "oss_registered": True}
    )
    finalize(seller, seller.customer(country="NL", kind="consumer"), line("digital"))
    finalize(seller, seller.customer(country="FR", kind="consumer"), line("digital", "50.00"))
    finalize(seller, seller.customer(country="DE", kind="consumer"), line("digital"))
    oss = report(seller, "oss")
    assert [(r["member_state"], r["tax_rate"], r["tax_amount"]) for r in oss["rows"]] == [
        ("FR", "20", "10.00"),
        ("NL", "21", "21.00"),
    ]


def test_gst_buckets_b2b_by_gstin_and_b2c_small_by_state(client: TestClient) -> None:
    seller = TenantClient(
        client,
        legal_name="Acme India",
        country="IN",
        currency="INR",
        vat_id="27AAPFU0939F1ZV",
        region="27",
        allow_tax_rate_override=False,
        address={"line1": "1 MG Road", "city": "Mumbai", "country": "IN"},
    )
    finalize(
        seller,
        seller.customer(country="IN", vat_id="29AAPFU0939F1ZR", region="29"),
        line(price="1000.00"),
    )
    finalize(
        seller, seller.customer(country="IN", kind="consumer", region="27"), line(price="500.00")
    )
    gst = report(seller, "gst")
    assert [b["gstin"] for b in gst["b2b"]] == ["29AAPFU0939F1ZR"]
    assert [h["tax"] for h in gst["b2b"][0]["heads"]] == ["IGST"]
    assert gst["b2cs"] == [
        {
            "place_of_supply": "27",
            "tax_rate": "18",
            "supply": "intra",
            "taxable_amount": "500.00",
            "tax_amount": "90.00",
        }
    ]


def test_foreign_currency_documents_are_reported_at_their_recorded_rate(client: TestClient) -> None:
    seller = TenantClient(client)
    draft = seller.draft(seller.customer(), [line(tax_rate="19")], currency="USD")
    seller.post(f"/v1/invoices/{draft['id']}/finalize", {"exchange_rate": "0.5"})
    assert report(seller, "vat")["totals"]["output_tax"] == "9.50"


def test_reports_come_as_csv_too(client: TestClient) -> None:
    seller = TenantClient(client)
    finalize(seller, seller.customer(), line(tax_rate="19"))
    response = seller.client.get(
        "/v1/reports/vat", params=YEAR, headers={**seller.headers, "Accept": "text/csv"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert "rows,DE,S,19,100.00,19.00" in response.text


def test_a_backwards_period_is_refused(client: TestClient) -> None:
    seller = TenantClient(client)
    response = seller.client.get(
        "/v1/reports/vat", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=seller.headers
    )
    assert response.status_code == 422
