"""Replaying an aggregate's stored events gives the state the live aggregate had."""

import contextlib
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.invoice import Invoice, Status
from ledger.errors import LedgerError
from ledger.persistence import OrjsonTranscoder

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2)
line_strategy = st.fixed_dictionaries(
    {
        "description": st.text(min_size=1, max_size=20),
        "quantity": st.decimals(min_value=Decimal("0.5"), max_value=Decimal(100), places=1),
        "unit_price": money,
        "kind": st.sampled_from(["goods", "services", "digital"]),
        "product_code": st.none(),
        "tax_category": st.just("S"),
        "tax_rate": st.sampled_from([Decimal("7"), Decimal("19")]),
        "tax_country": st.just("DE"),
    }
)
commands = st.lists(
    st.one_of(
        st.tuples(st.just("add"), line_strategy),
        st.tuples(st.just("change"), st.integers(0, 5), money),
        st.tuples(st.just("remove"), st.integers(0, 5)),
        st.tuples(st.just("finalize")),
        st.tuples(st.just("pay"), money),
        st.tuples(st.just("void")),
        st.tuples(st.just("uncollectible")),
    ),
    max_size=25,
)


def apply(invoice: Invoice, command: tuple[Any, ...]) -> None:
    name = command[0]
    ids: list[UUID] = [line["id"] for line in invoice.lines]
    if name == "add":
        invoice.add_line(command[1])
    elif name == "change" and ids:
        invoice.change_line(ids[command[1] % len(ids)], {"unit_price": command[2]})
    elif name == "remove" and ids:
        invoice.remove_line(ids[command[1] % len(ids)])
    elif name == "finalize":
        invoice.finalize("INV-2026-000001", date(2026, 1, 1), date(2026, 1, 15), {"n": 1}, {})
    elif name == "pay":
        invoice.record_payment(
            min(command[1], max(invoice.amount_due, Decimal("0.01"))),
            date(2026, 1, 2),
            "card",
            None,
        )
    elif name == "void":
        invoice.void("because")
    elif name == "uncollectible":
        invoice.mark_uncollectible()


def replay(events: list[Any]) -> Aggregate:
    mapper: Mapper[UUID] = Mapper(transcoder=OrjsonTranscoder())
    aggregate: Any = None
    for event in events:
        aggregate = mapper.to_domain_event(mapper.to_stored_event(event)).mutate(aggregate)
    return aggregate


@settings(max_examples=150)
@given(commands)
def test_replaying_the_stored_events_gives_the_live_state(script: list[tuple[Any, ...]]) -> None:
    invoice = Invoice(
        tenant_id=uuid4(),
        customer_id=uuid4(),
        currency="EUR",
        lines=[],
        supply_date=None,
        due_days=None,
        memo=None,
    )
    events = list(invoice.collect_events())
    for command in script:
        # A refused command records nothing, and replay must still match.
        with contextlib.suppress(LedgerError):
            apply(invoice, command)
        events.extend(invoice.collect_events())
    replayed = replay(events)
    assert replayed == invoice
    assert invoice.amount_due >= 0
    if invoice.status is Status.PAID:
        assert invoice.amount_paid == invoice.totals().total
