from tests.conftest import TenantClient


def test_three_lines_of_three_cents_at_19_percent_give_two_cents_of_vat(
    tenant: TenantClient,
) -> None:
    line = {"description": "Sticker", "quantity": "1", "unit_price": "0.03", "tax_rate": "19"}
    invoice = tenant.draft(lines=[line, line, line])
    assert invoice["subtotal"] == "0.09"
    assert invoice["tax_total"] == "0.02"
    assert invoice["total"] == "0.11"
