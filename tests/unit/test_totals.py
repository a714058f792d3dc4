from decimal import Decimal

from ledger.totals import compute_totals, line_net


def line(net: str, rate: str, category: str = "S", country: str = "DE") -> dict[str, object]:
    return {
        "net_amount": Decimal(net),
        "tax_rate": Decimal(rate),
        "tax_category": category,
        "tax_country": country,
    }


def test_vat_is_computed_once_per_rate_group_not_per_line() -> None:
    totals = compute_totals([line("0.03", "19")] * 3, "EUR")
    assert totals.tax_total == Decimal("0.02")  # per line it would be 3 x 0.01 = 0.03
    assert totals.total == Decimal("0.11")


def test_each_rate_and_category_is_its_own_group() -> None:
    totals = compute_totals(
        [line("100.00", "19"), line("50.00", "7"), line("10.00", "19"), line("5.00", "0", "Z")],
        "EUR",
    )
    groups = {(g["tax_category"], str(g["tax_rate"])): g for g in totals.tax_breakdown}
    assert groups[("S", "19")]["taxable_amount"] == Decimal("110.00")
    assert groups[("S", "19")]["tax_amount"] == Decimal("20.90")
    assert groups[("S", "7")]["tax_amount"] == Decimal("3.50")
    assert groups[("Z", "0")]["tax_amount"] == Decimal("0.00")
    assert totals.subtotal == Decimal("165.00")
    assert totals.total == Decimal("189.40")


def test_line_net_rounds_quantity_times_price_half_up() -> None:
    assert line_net(Decimal("3"), Decimal("0.3333"), "EUR") == Decimal("1.00")
    assert line_net(Decimal("0.5"), Decimal("0.05"), "EUR") == Decimal("0.03")
    assert line_net(Decimal("1.5"), Decimal("101"), "JPY") == Decimal("152")
