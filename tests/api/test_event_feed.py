"""GET /v1/events: the tenant's events in store order, paged by position, long-polled."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.conftest import TenantClient


def feed(tenant: TenantClient, **params: Any) -> dict[str, Any]:
    response = tenant.get("/v1/events", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def everything(tenant: TenantClient, limit: int = 1000) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = feed(tenant, after=after, limit=limit)
        events += page["data"]
        if not page["data"]:
            return events
        after = page["next_after"]


def test_the_feed_holds_the_tenants_business_events_in_store_order(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    invoice = tenant.finalized()
    note = tenant.post(
        "/v1/credit-notes", {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    ).json()
    tenant_b.finalized()

    events = everything(tenant)

    kinds = [(e["aggregate_type"], e["type"]) for e in events]
    assert kinds[0] == ("Tenant", "Registered")
    assert ("Invoice", "Finalized") in kinds
    assert ("CreditNote", "Issued") in kinds
    assert ("Invoice", "CreditApplied") in kinds
    assert not {"ApiKey", "IdempotencyRecord"} & {e["aggregate_type"] for e in events}
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    ours = {invoice["id"], note["id"], invoice["customer_id"], str(tenant.id)}
    assert ours <= {e["aggregate_id"] for e in events}
    theirs = {e["aggregate_id"] for e in everything(tenant_b)}
    assert not theirs & {e["aggregate_id"] for e in events}
    finalized = next(e for e in events if e["type"] == "Finalized")
    assert finalized["data"]["number"] == invoice["number"]
    assert finalized["version"] == invoice["version"]
    assert finalized["actor"]
    assert finalized["recorded_at"]


def test_pages_follow_each_other_without_gaps_or_repeats(tenant: TenantClient) -> None:
    for _ in range(3):
        tenant.finalized()
    whole = everything(tenant)

    paged = everything(tenant, limit=2)

    assert [e["position"] for e in paged] == [e["position"] for e in whole]
    last = whole[-1]["position"]
    assert feed(tenant, after=last) == {"data": [], "next_after": last}


def test_a_long_poll_returns_as_soon_as_an_event_is_appended(tenant: TenantClient) -> None:
    last = everything(tenant)[-1]["position"]
    threading.Timer(0.5, tenant.customer).start()
    started = time.monotonic()

    page = feed(tenant, after=last, wait=10)

    elapsed = time.monotonic() - started
    assert [(e["aggregate_type"], e["type"]) for e in page["data"]] == [("Customer", "Created")]
    assert 0.4 < elapsed < 5


def test_a_long_poll_without_events_waits_then_answers_empty(tenant: TenantClient) -> None:
    last = everything(tenant)[-1]["position"]
    started = time.monotonic()

    page = feed(tenant, after=last, wait=0.6)

    assert page == {"data": [], "next_after": last}
    assert time.monotonic() - started >= 0.6


def test_bad_paging_is_refused(tenant: TenantClient) -> None:
    for params in ({"after": -1}, {"limit": 0}, {"limit": 5000}, {"wait": 31}, {"after": "x"}):
        response = tenant.get("/v1/events", **params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
