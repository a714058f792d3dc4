"""Usage keys count once ever: across concurrent batches, processes and restarts, with every
recorded usage event kept in the event store."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import psycopg
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.commands.usage import UsageVerdicts
from ledger.domain.usage import UsageBatch
from ledger.persistence import DatabaseLocation
from projections.event_chain import ledger_env
from projections.usage_keys import USAGE_BATCH_RECORDED
from tests.conftest import TenantClient, command_context
from tests.property.test_usage_properties import PLAN

METERED = [
    {
        "metric": "calls",
        "unit_price": Decimal(1),
        "aggregation": "sum",
        "included": Decimal(0),
        "tiers": None,
    }
]


def _subscription(client: TestClient, ledger: Ledger) -> tuple[UUID, UUID]:
    tenant, sub = _subscriber(client, ledger)
    return tenant.id, sub


def _subscriber(client: TestClient, ledger: Ledger) -> tuple[TenantClient, UUID]:
    tenant = TenantClient(client)
    sub = ledger.start_subscription(
        command_context(tenant.id),
        UUID(tenant.customer()),
        PLAN,
        METERED,
        date(2025, 4, 1),
        0,
        "in_arrears",
    )
    return tenant, sub.id


def _events(subscription_id: UUID, keys: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "subscription_id": subscription_id,
            "metric": "calls",
            "quantity": Decimal(1),
            "timestamp": datetime(2025, 4, 1 + key % 28, tzinfo=UTC),
            "idempotency_key": f"k-{key}",
        }
        for key in keys
    ]


def _stored_keys(location: DatabaseLocation, subscription_id: UUID) -> list[str]:
    """Every key of the subscription's `UsageBatch.Recorded` events in the event store."""
    with psycopg.connect(location.conninfo()) as conn:
        rows = conn.execute(
            "SELECT state FROM ledger_events WHERE topic = %s", (USAGE_BATCH_RECORDED,)
        ).fetchall()
    keys: list[str] = []
    for (state,) in rows:
        data = orjson.loads(state)
        if UUID(hex=data["subscription_id"]["_data_"]) == subscription_id:
            keys += data["keys"]
    return keys


def test_a_key_counts_once_across_concurrent_batches_and_processes(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    tenant_id, sub = _subscription(client, ledger)
    other = Ledger(env=ledger_env(location, 4))  # another process, as far as keys go
    try:
        # Twelve batches of 40 keys out of 100, overlapping, sent at once through two apps.
        batches = [[(start * 7 + i) % 100 for i in range(40)] for start in range(12)]
        verdicts: list[UsageVerdicts] = []
        errors: list[BaseException] = []

        def send(app: Ledger, keys: list[int]) -> None:
            try:
                verdicts.append(app.record_usage(command_context(tenant_id), _events(sub, keys)))
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [
            threading.Thread(target=send, args=(other if n % 2 else ledger, keys))
            for n, keys in enumerate(batches)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        distinct = {key for keys in batches for key in keys}
        assert sum(v.count("recorded") for v in verdicts) == len(distinct)
        assert sum(v.count("duplicate") for v in verdicts) == sum(map(len, batches)) - len(distinct)
        meter = ledger.meter(ledger.subscription(command_context(tenant_id), sub), 0)
        assert meter.tally("calls").count == len(distinct)
        assert sorted(_stored_keys(location, sub)) == sorted(f"k-{key}" for key in distinct)
    finally:
        other.close()


def test_a_key_recorded_before_is_a_duplicate_for_a_process_started_later(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    tenant_id, sub = _subscription(client, ledger)
    first = ledger.record_usage(command_context(tenant_id), _events(sub, [1, 2, 3]))
    assert first.count("recorded") == 3
    later = Ledger(env=ledger_env(location, 2))  # nothing cached
    try:
        again = later.record_usage(command_context(tenant_id), _events(sub, [3, 4]))
    finally:
        later.close()
    assert [r["status"] for r in again.results] == ["duplicate", "recorded"]


def test_the_batch_event_holds_each_usage_event_as_received(
    client: TestClient, ledger: Ledger
) -> None:
    tenant_id, sub = _subscription(client, ledger)
    events = _events(sub, [7, 8])
    events[1]["value"] = "user-1"
    ledger.record_usage(command_context(tenant_id), events)
    stored = [
        e
        for e in ledger.events.get(
            ledger.meter(ledger.subscription(command_context(tenant_id), sub), 0).id
        )
    ]
    counted = [e for e in stored if type(e).__name__ == "UsageCounted"]
    assert len(counted) == 1
    batch = ledger.repository.get(counted[0].batch_id)
    assert isinstance(batch, UsageBatch)
    (recorded,) = ledger.events.get(batch.id)
    assert recorded.keys == ["k-7", "k-8"]
    assert recorded.quantities == ["1", "1"]
    assert recorded.timestamps == ["2025-04-08T00:00:00+00:00", "2025-04-09T00:00:00+00:00"]
    assert recorded.values == ["1", "user-1"]


def test_a_batch_sent_again_with_its_idempotency_key_replays_the_first_answer(
    client: TestClient, ledger: Ledger
) -> None:
    tenant, sub = _subscriber(client, ledger)
    body = {
        "events": [
            {
                "subscription_id": str(sub),
                "metric": "calls",
                "quantity": "2",
                "timestamp": "2025-04-03T10:00:00Z",
                "idempotency_key": "once",
            }
        ]
    }
    answers: list[Any] = []

    def send() -> None:
        answers.append(tenant.post("/v1/usage", body, **{"Idempotency-Key": "batch-1"}))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 200, 200]
    assert all(a.json()["recorded"] == 1 for a in answers)
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 2
