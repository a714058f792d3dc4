"""The tax engine decides and freezes each invoice line's tax; the wording follows."""

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TENANT, TenantClient

DE_SELLER = {**TENANT, "allow_tax_rate_override": False}
FR_VAT = "FR40303265045"


def line(kind: str = "services", price: str = "100.00", **extra: Any) -> dict[str, Any]:
    return {"description": "Item", "quantity": "1", "unit_price": price, "kind": kind, **extra}


def finalize(tenant: TenantClient, customer: str, *lines: dict[str, Any], **body: Any) -> Any:
    draft = tenant.draft(customer, list(lines))
    response = tenant.post(f"/v1/invoices/{draft['id']}/finalize", body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def seller(client: TestClient) -> TenantClient:
    return TenantClient(client, **DE_SELLER)


def test_a_domestic_sale_is_standard_rated_in_the_sellers_country(seller: TenantClient) -> None:
    invoice = finalize(
        seller,
        seller.customer(country="DE", kind="consumer"),
        line(),
        line(tax_class="reduced", kind="goods"),
    )
    assert [(ln["tax_category"], ln["tax_rate"], ln["tax_country"]) for ln in invoice["lines"]] == [
        ("S", "19", "DE"),
        ("S", "7", "DE"),
    ]
    assert invoice["tax_total"] == "26.00"
    assert invoice["notes"] == []


def test_a_service_to_an_eu_business_is_reverse_charged_with_the_wording(
    seller: TenantClient,
) -> None:
    customer = seller.customer(country="FR", kind="business", vat_id=FR_VAT, locale="fr")
    invoice = finalize(seller, customer, line())
    assert (invoice["lines"][0]["tax_category"], invoice["lines"][0]["tax_rate"]) == ("AE", "0")
    assert invoice["lines"][0]["tax_rule"] == "eu_b2b_services_reverse_charge"
    assert invoice["tax_total"] == "0.00"
    assert any("Autoliquidation" in note for note in invoice["notes"])
    assert invoice["seller"]["vat_id"] == "DE136695976"
    assert invoice["buyer"]["vat_id"] == FR_VAT


def test_goods_to_an_eu_business_are_an_intra_community_supply(seller: TenantClient) -> None:
    customer = seller.customer(country="FR", kind="business", vat_id=FR_VAT, locale="en")
    invoice = finalize(seller, customer, line("goods"))
    assert invoice["lines"][0]["tax_category"] == "K"
    assert any("Article 138" in note for note in invoice["notes"])


def test_an_invalid_vat_id_makes_the_buyer_a_consumer_and_says_so(seller: TenantClient) -> None:
    response = seller.post(
        "/v1/customers",
        {"name": "Acme", "country": "FR", "kind": "business", "vat_id": "FR40303265046"},
    )
    assert response.json()["vat_id_status"] == "invalid"
    invoice = finalize(seller, response.json()["id"], line("digital"))
    assert invoice["lines"][0]["tax_category"] == "S"
    assert "buyer_vat_id_invalid" in invoice["tax_advisories"]


def test_an_export_of_goods_is_zero_rated_with_the_export_wording(seller: TenantClient) -> None:
    invoice = finalize(seller, seller.customer(country="US", kind="business"), line("goods"))
    assert invoice["lines"][0]["tax_category"] == "G"
    assert invoice["notes"]


def test_a_typed_rate_is_refused_unless_the_tenant_allows_overrides(seller: TenantClient) -> None:
    refused = seller.post(
        "/v1/invoices", {"customer_id": seller.customer(), "lines": [line(tax_rate="5")]}
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "tax_rate_override_not_allowed"


def test_distance_sales_move_to_the_consumers_country_past_the_threshold(
    seller: TenantClient,
) -> None:
    consumer = seller.customer(country="FR", kind="consumer")
    below = finalize(seller, consumer, line("digital", price="9000.00"))
    assert (below["lines"][0]["tax_country"], below["lines"][0]["tax_rate"]) == ("DE", "19")
    above = finalize(seller, consumer, line("digital", price="2000.00"))
    assert (above["lines"][0]["tax_country"], above["lines"][0]["tax_rate"]) == ("FR", "20")
    assert above["lines"][0]["tax_rule"] == "eu_b2c_oss_destination"


def test_an_oss_registered_seller_charges_the_destination_rate_at_once(client: TestClient) -> None:
    seller = TenantClient(client, **DE_SELLER, oss_registered=True)
    invoice = finalize(seller, seller.customer(country="NL", kind="consumer"), line("digital"))
    assert (invoice["lines"][0]["tax_country"], invoice["lines"][0]["tax_rate"]) == ("NL", "21")


def test_indian_gst_splits_intra_state_and_uses_igst_between_states(client: TestClient) -> None:
    seller = TenantClient(
        client,
        legal_name="Acme India Pvt Ltd",
        country="IN",
        currency="INR",
        vat_id="27AAPFU0939F1ZV",
        region="27",
        allow_tax_rate_override=False,
        address={"line1": "1 MG Road", "city": "Mumbai", "country": "IN"},
    )
    local = seller.customer(country="IN", kind="business", vat_id="27AAPFU0939F1ZV", region="27")
    other = seller.customer(country="IN", kind="business", vat_id="29AAPFU0939F1ZR", region="29")
    intra = finalize(seller, local, line(price="1000.00"))
    inter = finalize(seller, other, line(price="1000.00"))
    assert [h["tax"] for h in intra["lines"][0]["gst"]] == ["CGST", "SGST"]
    assert [h["tax"] for h in inter["lines"][0]["gst"]] == ["IGST"]
    assert intra["tax_total"] == inter["tax_total"] == "180.00"


def test_a_foreign_currency_invoice_needs_and_keeps_its_exchange_rate(seller: TenantClient) -> None:
    draft = seller.draft(seller.customer(country="DE"), [line()], currency="USD")
    missing = seller.post(f"/v1/invoices/{draft['id']}/finalize", {})
    assert missing.status_code == 422
    done = seller.post(f"/v1/invoices/{draft['id']}/finalize", {"exchange_rate": "0.92"}).json()
    assert (done["exchange_rate"], done["accounting_currency"]) == ("0.92", "EUR")


def test_a_finalized_invoice_keeps_its_tax_when_the_customer_changes(seller: TenantClient) -> None:
    customer = seller.customer(country="FR", kind="business", vat_id=FR_VAT)
    invoice = finalize(seller, customer, line())
    seller.client.patch(
        f"/v1/customers/{customer}", json={"country": "DE", "vat_id": None}, headers=seller.headers
    )
    again = seller.get(f"/v1/invoices/{invoice['id']}").json()
    assert again["lines"] == invoice["lines"]
    assert Decimal(again["tax_total"]) == 0


def test_changing_a_lines_rate_is_a_new_request_and_the_class_is_kept(client: TestClient) -> None:
    tenant = TenantClient(client)  # allows overrides
    draft = tenant.draft(tenant.customer(country="DE"), [line(tax_rate="19")])
    line_id = draft["lines"][0]["id"]
    changed = tenant.client.patch(
        f"/v1/invoices/{draft['id']}/lines/{line_id}",
        json={"tax_rate": "7"},
        headers=tenant.headers,
    ).json()
    assert changed["lines"][0]["tax_rate"] == "7"
    assert changed["lines"][0]["tax_rule"] == "explicit_override"
