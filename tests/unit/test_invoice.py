"""Given events, when a command, then events or a refusal."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from ledger.domain.invoice import Invoice, Status
from ledger.domain.sequence import IssueDateBeforeLastNumber, Sequence
from ledger.errors import InvalidInput, InvalidTransition, NotFound, PaymentExceedsAmountDue

LINE = {
    "description": "Work",
    "quantity": Decimal("2"),
    "unit_price": Decimal("50.00"),
    "kind": "services",
    "product_code": None,
    "tax_category": "S",
    "tax_rate": Decimal("19"),
    "tax_country": "DE",
}


def draft(*lines: dict[str, object]) -> Invoice:
    return Invoice(
        tenant_id=uuid4(),
        customer_id=uuid4(),
        currency="EUR",
        lines=[{**ln, "id": uuid4()} for ln in (lines or (LINE,))],
        supply_date=None,
        due_days=None,
        memo=None,
    )


def finalized(*lines: dict[str, object]) -> Invoice:
    invoice = draft(*lines)
    invoice.finalize("INV-2026-000001", date(2026, 3, 1), date(2026, 3, 15), {}, {})
    return invoice


def test_finalizing_freezes_lines_totals_and_opens_the_invoice() -> None:
    invoice = finalized()
    assert invoice.status is Status.OPEN
    assert invoice.totals().total == Decimal("119.00")
    assert invoice.priced_lines()[0]["net_amount"] == Decimal("100.00")
    assert type(invoice.collect_events()[-1]).__name__ == "Finalized"


def test_a_finalized_invoice_refuses_every_edit() -> None:
    invoice = finalized()
    line_id = invoice.lines[0]["id"]
    for edit in (
        lambda: invoice.add_line(LINE),
        lambda: invoice.change_line(line_id, {"quantity": Decimal(1)}),
        lambda: invoice.remove_line(line_id),
        invoice.discard,
        lambda: invoice.finalize("INV-2026-000002", date(2026, 3, 1), date(2026, 3, 1), {}, {}),
    ):
        with pytest.raises(InvalidTransition):
            edit()


def test_an_invoice_without_lines_cannot_be_finalized() -> None:
    invoice = draft()
    invoice.remove_line(invoice.lines[0]["id"])
    with pytest.raises(InvalidTransition):
        invoice.check_finalizable()


def test_partial_payments_then_the_last_one_marks_it_paid() -> None:
    invoice = finalized()
    invoice.record_payment(Decimal("100.00"), date(2026, 3, 2), "card", None)
    assert invoice.status is Status.OPEN
    assert invoice.amount_due == Decimal("19.00")
    invoice.record_payment(Decimal("19.00"), date(2026, 3, 3), "card", None)
    assert invoice.status is Status.PAID
    assert invoice.amount_due == Decimal("0.00")


def test_a_payment_above_the_amount_due_is_refused() -> None:
    invoice = finalized()
    with pytest.raises(PaymentExceedsAmountDue):
        invoice.record_payment(Decimal("119.01"), date(2026, 3, 2), "card", None)


def test_a_payment_with_more_decimals_than_the_currency_is_refused() -> None:
    with pytest.raises(InvalidInput):
        finalized().record_payment(Decimal("1.001"), date(2026, 3, 2), "card", None)


def test_a_draft_cannot_be_paid_voided_or_written_off() -> None:
    invoice = draft()
    with pytest.raises(InvalidTransition):
        invoice.record_payment(Decimal(1), date(2026, 3, 2), "card", None)
    with pytest.raises(InvalidTransition):
        invoice.void("x")
    with pytest.raises(InvalidTransition):
        invoice.mark_uncollectible()


def test_void_is_refused_once_a_payment_exists() -> None:
    invoice = finalized()
    invoice.record_payment(Decimal("1.00"), date(2026, 3, 2), "card", None)
    with pytest.raises(InvalidTransition):
        invoice.void("customer cancelled")


def test_an_uncollectible_invoice_can_still_be_paid() -> None:
    invoice = finalized()
    invoice.mark_uncollectible()
    invoice.record_payment(Decimal("119.00"), date(2026, 5, 1), "bank_transfer", "late")
    assert invoice.status is Status.PAID


def test_void_and_paid_are_final() -> None:
    voided = finalized()
    voided.void("duplicate")
    with pytest.raises(InvalidTransition):
        voided.mark_uncollectible()
    with pytest.raises(InvalidTransition):
        voided.record_payment(Decimal(1), date(2026, 3, 2), "card", None)


def test_changing_an_unknown_line_is_not_found() -> None:
    with pytest.raises(NotFound):
        draft().change_line(uuid4(), {"quantity": Decimal(3)})


def test_sequence_numbers_are_consecutive_and_follow_issue_dates() -> None:
    sequence = Sequence(tenant_id=uuid4(), series="invoice", year=2026)
    assert sequence.issue(uuid4(), "INV", date(2026, 1, 5)) == "INV-2026-000001"
    assert sequence.issue(uuid4(), "INV", date(2026, 1, 5)) == "INV-2026-000002"
    with pytest.raises(IssueDateBeforeLastNumber):
        sequence.issue(uuid4(), "INV", date(2026, 1, 4))
    assert sequence.last == 2


def test_sequence_ids_are_one_per_tenant_series_and_year() -> None:
    tenant = uuid4()
    assert Sequence.create_id(tenant, "invoice", 2026) == Sequence.create_id(
        tenant, "invoice", 2026
    )
    assert Sequence.create_id(tenant, "invoice", 2026) != Sequence.create_id(
        tenant, "invoice", 2027
    )
    assert Sequence.create_id(tenant, "invoice", 2026) != Sequence.create_id(
        uuid4(), "invoice", 2026
    )
