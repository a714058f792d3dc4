"""The aggregates' own deep copy gives what `copy.deepcopy` gives, and shares nothing
that can change."""

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from ledger.context import CommandContext, acting_as
from ledger.domain.copying import copied
from ledger.domain.invoice import Invoice, Status

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.uuids(),
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(list(Status)),
    st.tuples(st.integers(), st.text(max_size=3)),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


def _containers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(c for v in value.values() for c in _containers(v))]
    if isinstance(value, list):
        return [value, *(c for v in value for c in _containers(v))]
    return []


@given(values)
def test_a_copy_equals_the_deepcopy_and_shares_no_container(value: Any) -> None:
    result = copied(value, {})
    assert result == copy.deepcopy(value)
    originals = {id(c) for c in _containers(value)}
    assert not originals & {id(c) for c in _containers(result)}


@given(st.lists(st.integers(), max_size=3), values)
def test_two_references_to_one_container_stay_one_in_the_copy(
    shared: list[int], other: Any
) -> None:
    result = copied({"a": shared, "b": [shared, other], "c": other}, {})
    assert result["a"] is result["b"][0]
    result["a"].append(1)
    assert result["b"][0] == [*shared, 1]
    assert shared == result["a"][:-1]  # the original did not change


@given(
    st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(999), places=2),
        min_size=1,
        max_size=4,
    )
)
def test_a_copied_invoice_has_the_state_of_the_original_and_moves_on_alone(
    prices: list[Decimal],
) -> None:
    ctx = CommandContext(tenant_id=uuid4(), actor="test", correlation_id="c")
    lines = [
        {
            "id": uuid4(),
            "description": "Item",
            "quantity": Decimal(1),
            "unit_price": price,
            "kind": "services",
            "product_code": None,
            "tax_category": "S",
            "tax_rate": Decimal(19),
            "tax_country": "DE",
        }
        for price in prices
    ]
    with acting_as(ctx):
        invoice = Invoice(
            tenant_id=ctx.tenant_id,
            customer_id=uuid4(),
            currency="EUR",
            lines=lines,
            supply_date=date(2026, 3, 1),
            due_days=None,
            memo=None,
        )
        invoice.collect_events()
        twin = copy.deepcopy(invoice)
        assert type(twin) is Invoice
        assert twin.__dict__ == invoice.__dict__
        assert twin.created_at == invoice.created_at
        twin.remove_line(twin.lines[0]["id"])
    assert len(invoice.lines) == len(prices)
    assert invoice.version == 1
    assert twin.version == 2
    assert isinstance(invoice.created_at, datetime)
