"""For any usage stream, cut into batches in any way and sent with duplicates and retries,
before and after its period is billed: the billed quantities are the aggregation of the
distinct events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.billing import aggregate
from tests.conftest import TenantClient, command_context

AGGREGATIONS = {"s": "sum", "c": "count", "m": "max", "u": "unique"}
PLAN = {
    "code": "p",
    "name": "P",
    "amount": Decimal("0.00"),
    "currency": "EUR",
    "interval": "month",
    "interval_count": 1,
    "kind": "services",
}
METERED = [
    {"metric": m, "unit_price": Decimal(1), "aggregation": a, "included": Decimal(0), "tiers": None}
    for m, a in AGGREGATIONS.items()
]

distinct_events = st.lists(
    st.tuples(
        st.sampled_from(sorted(AGGREGATIONS)),
        st.integers(0, 50),
        st.sampled_from(["ann", "bob", "cyd"]),
        st.integers(1, 30),
    ),
    min_size=1,
    max_size=25,
)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Any], list[list[int]], int]:
    """Distinct events, batches of indices into them (repeats are duplicates and retries),
    and how many batches go before the first billing run."""
    events = draw(distinct_events)
    stream = draw(st.lists(st.integers(0, len(events) - 1), min_size=1, max_size=60))
    cuts = sorted(draw(st.sets(st.integers(1, len(stream)), max_size=6)))
    batches = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True) if b > a]
    retried = draw(st.lists(st.sampled_from(batches), max_size=3))
    batches = batches + retried
    before = draw(st.integers(0, len(batches)))
    return events, batches, before


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(delivered=deliveries())
def test_billed_quantities_equal_the_aggregation_of_distinct_events(
    client: TestClient, ledger: Ledger, delivered: tuple[list[Any], list[list[int]], int]
) -> None:
    events, batches, before = delivered
    tenant = TenantClient(client)
    ctx = command_context(tenant.id)
    sub = ledger.start_subscription(
        ctx, UUID(tenant.customer()), PLAN, METERED, date(2025, 4, 1), 0, "in_arrears"
    )

    def send(batch: list[int]) -> None:
        usage = [
            {
                "subscription_id": sub.id,
                "metric": events[i][0],
                "quantity": Decimal(events[i][1]),
                "timestamp": datetime(2025, 4, events[i][3], tzinfo=UTC),
                "idempotency_key": f"key-{i}",
                "value": events[i][2],
            }
            for i in batch
        ]
        ledger.record_usage(command_context(tenant.id), usage)

    for batch in batches[:before]:
        send(batch)
    ledger.run_billing(ctx, date(2025, 5, 1))
    for batch in batches[before:]:
        send(batch)
    ledger.run_billing(ctx, date(2025, 6, 1))

    sent = {i for batch in batches for i in batch}
    billed = ledger.meter(ledger.subscription(ctx, sub.id), 0).billed
    assert billed is not None
    for metric, aggregation in AGGREGATIONS.items():
        mine = [(Decimal(events[i][1]), events[i][2]) for i in sent if events[i][0] == metric]
        assert billed[metric]["quantity"] == aggregate(aggregation, mine), metric
