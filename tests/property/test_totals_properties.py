from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger.money import round_money
from ledger.totals import compute_totals, line_net

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000), places=3)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(100_000), places=4)
rates = st.sampled_from([Decimal(r) for r in ("0", "5", "5.5", "7", "19", "20", "25.5")])
currencies = st.sampled_from(["EUR", "JPY", "KWD", "INR"])


@st.composite
def priced_lines(draw: st.DrawFn) -> tuple[str, list[dict[str, object]]]:
    currency = draw(currencies)
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        rate = draw(rates)
        lines.append(
            {
                "net_amount": line_net(draw(quantities), draw(prices), currency),
                "tax_rate": rate,
                "tax_category": "S" if rate else "Z",
                "tax_country": draw(st.sampled_from(["DE", "FR"])),
            }
        )
    return currency, lines


@given(priced_lines())
def test_totals_are_the_sums_of_their_groups(case: tuple[str, list[dict[str, object]]]) -> None:
    currency, lines = case
    totals = compute_totals(lines, currency)
    assert totals.subtotal == sum(g["taxable_amount"] for g in totals.tax_breakdown)
    assert totals.tax_total == sum(g["tax_amount"] for g in totals.tax_breakdown)
    assert totals.total == totals.subtotal + totals.tax_total
    assert totals.subtotal == sum(line["net_amount"] for line in lines)  # type: ignore[misc]


@given(priced_lines())
def test_each_group_is_taxed_once_on_its_net_sum(case: tuple[str, list[dict[str, object]]]) -> None:
    currency, lines = case
    for group in compute_totals(lines, currency).tax_breakdown:
        members = [
            ln
            for ln in lines
            if (ln["tax_country"], ln["tax_category"], ln["tax_rate"])
            == (group["tax_country"], group["tax_category"], group["tax_rate"])
        ]
        taxable = sum(ln["net_amount"] for ln in members)  # type: ignore[misc]
        assert group["taxable_amount"] == taxable
        assert group["tax_amount"] == round_money(taxable * group["tax_rate"] / 100, currency)


@given(priced_lines())
def test_amounts_never_carry_more_decimals_than_the_currency(
    case: tuple[str, list[dict[str, object]]],
) -> None:
    currency, lines = case
    totals = compute_totals(lines, currency)
    for amount in (totals.subtotal, totals.tax_total, totals.total):
        assert round_money(amount, currency) == amount
