"""Service plans: the admin sets a tenant's caps; past a cap a command is a 402 problem
and records nothing; the counting holds under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.domain.api_key import Role
from ledger.errors import PlanLimitExceeded
from tests.conftest import ADMIN_TOKEN, TenantClient, command_context

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TODAY = datetime.now(UTC).date().isoformat()
PLAN = {"code": "m", "name": "Metered", "amount": "10.00", "currency": "EUR"}


def set_plan(client: TestClient, tenant: TenantClient, plan: str, **limits: Any) -> Any:
    body = {"plan": plan, **({"limits": limits} if limits else {})}
    return client.put(f"/v1/admin/tenants/{tenant.id}/plan", json=body, headers=ADMIN)


def subscription(tenant: TenantClient) -> str:
    body = {
        "customer_id": tenant.customer(),
        "plan": PLAN,
        "start_date": TODAY[:8] + "01",
        "metered": [{"metric": "calls", "unit_price": "0.01"}],
    }
    response = tenant.post("/v1/subscriptions", body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def events(subscription_id: str, keys: range) -> list[dict[str, Any]]:
    return [
        {
            "subscription_id": subscription_id,
            "metric": "calls",
            "quantity": "1",
            "timestamp": f"{TODAY}T00:00:00Z",
            "idempotency_key": f"k{k}",
        }
        for k in keys
    ]


def head(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0


def test_the_admin_sets_a_plan_and_the_tenant_sees_its_caps(
    client: TestClient, tenant: TenantClient
) -> None:
    response = set_plan(client, tenant, "starter", api_keys=7)

    assert response.status_code == 200, response.text
    shown = tenant.get("/v1/tenant").json()
    assert shown["plan"] == "starter"
    assert shown["limits"] == {
        "invoices_per_month": 100,
        "api_keys": 7,
        "usage_events_per_month": 100_000,
    }


def test_only_the_admin_token_sets_a_plan(client: TestClient, tenant: TenantClient) -> None:
    body = {"plan": "enterprise"}
    path = f"/v1/admin/tenants/{tenant.id}/plan"
    assert client.put(path, json=body, headers=tenant.headers).status_code == 401
    patched = client.patch("/v1/tenant", json={"plan": "enterprise"}, headers=tenant.headers)
    assert patched.status_code == 422
    assert client.put(path, json=body).status_code == 401


def test_bad_plans_are_422_and_unknown_tenants_404(
    client: TestClient, tenant: TenantClient
) -> None:
    assert set_plan(client, tenant, "platinum").status_code == 422
    assert set_plan(client, tenant, "starter", api_keys=-1).status_code == 422
    missing = client.put(
        "/v1/admin/tenants/00000000-0000-0000-0000-000000000000/plan",
        json={"plan": "starter"},
        headers=ADMIN,
    )
    assert missing.status_code == 404


def test_api_keys_past_the_cap_are_402_and_a_revoked_key_frees_a_place(
    client: TestClient, tenant: TenantClient, ledger: Ledger
) -> None:
    set_plan(client, tenant, "starter", api_keys=2)  # the owner key is one
    spare = tenant.post("/v1/api-keys", {"name": "ci", "role": "issuer"})
    assert spare.status_code == 201, spare.text
    position = head(ledger)

    refused = tenant.post("/v1/api-keys", {"name": "more", "role": "issuer"})

    assert refused.status_code == 402, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["code"], problem["limit"], problem["cap"], problem["used"]) == (
        "plan_limit_exceeded",
        "api_keys",
        2,
        2,
    )
    assert head(ledger) == position
    revoked = client.delete(f"/v1/api-keys/{spare.json()['id']}", headers=tenant.headers)
    assert revoked.status_code == 200
    assert tenant.post("/v1/api-keys", {"name": "again", "role": "issuer"}).status_code == 201


def test_usage_past_the_monthly_cap_is_402_and_records_nothing(
    client: TestClient, tenant: TenantClient
) -> None:
    set_plan(client, tenant, "starter", usage_events_per_month=5)
    sub = subscription(tenant)
    assert tenant.post("/v1/usage", {"events": events(sub, range(3))}).json()["recorded"] == 3

    refused = tenant.post("/v1/usage", {"events": events(sub, range(3, 6))})

    assert refused.status_code == 402, refused.text
    assert refused.json()["limit"] == "usage_events_per_month"
    assert tenant.get(f"/v1/subscriptions/{sub}/usage").json()["metrics"][0]["events"] == 3
    # Duplicates are not counted again; the last two places are still free.
    again = tenant.post("/v1/usage", {"events": events(sub, range(3))})
    assert (again.status_code, again.json()["duplicates"]) == (200, 3)
    assert tenant.post("/v1/usage", {"events": events(sub, range(3, 5))}).status_code == 200
    assert tenant.get(f"/v1/subscriptions/{sub}/usage").json()["metrics"][0]["events"] == 5


def _race(calls: list[Callable[[], object]]) -> tuple[int, int]:
    """Run the calls together; (succeeded, refused for the plan)."""
    outcomes: list[str] = []
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            call()
            outcomes.append("ok")
        except PlanLimitExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes.count("ok"), outcomes.count("refused")


def test_concurrent_usage_batches_never_pass_the_cap(
    client: TestClient, tenant: TenantClient, ledger: Ledger
) -> None:
    set_plan(client, tenant, "growth", usage_events_per_month=10)
    sub = subscription(tenant)
    ctx = command_context(tenant.id)
    now = datetime.now(UTC)
    # The command takes parsed values, as the route hands them over.
    batches = [
        [
            {**e, "subscription_id": UUID(sub), "quantity": Decimal(1), "timestamp": now}
            for e in events(sub, range(n * 2, n * 2 + 2))
        ]
        for n in range(8)
    ]

    calls = [lambda b=b: ledger.record_usage(ctx, b) for b in batches]  # type: ignore[misc]

    assert _race(calls) == (5, 3)
    assert tenant.get(f"/v1/subscriptions/{sub}/usage").json()["metrics"][0]["events"] == 10


def test_concurrent_key_issues_never_pass_the_cap(
    client: TestClient, tenant: TenantClient, ledger: Ledger
) -> None:
    set_plan(client, tenant, "growth", api_keys=4)
    ctx = command_context(tenant.id)

    calls = [lambda: ledger.issue_api_key(ctx, "k", Role.AUDITOR) for _ in range(6)]

    assert _race(calls) == (3, 3)  # the owner key holds the fourth place


def test_finalizing_past_the_monthly_invoice_cap_is_402_and_records_nothing(
    client: TestClient, tenant: TenantClient, ledger: Ledger
) -> None:
    assert set_plan(client, tenant, "starter", invoices_per_month=2).status_code == 200
    finalized = [tenant.finalized(), tenant.finalized()]
    draft = tenant.draft()
    position = head(ledger)

    refused = tenant.post(f"/v1/invoices/{draft['id']}/finalize", {})

    assert refused.status_code == 402, refused.text
    body = refused.json()
    assert (body["code"], body["limit"], body["cap"], body["used"]) == (
        "plan_limit_exceeded",
        "invoices_per_month",
        2,
        2,
    )
    assert head(ledger) == position
    assert tenant.get(f"/v1/invoices/{draft['id']}").json()["status"] == "draft"
    # Credit notes are corrections, not new invoices: the cap leaves them alone.
    note = tenant.post(
        "/v1/credit-notes", {"invoice_id": finalized[0]["id"], "reason": "r", "full": True}
    )
    assert note.status_code == 201, note.text


def test_concurrent_finalizations_never_pass_the_invoice_cap(
    client: TestClient, tenant: TenantClient, ledger: Ledger
) -> None:
    set_plan(client, tenant, "growth", invoices_per_month=3)
    ctx = command_context(tenant.id)
    drafts = [UUID(tenant.draft()["id"]) for _ in range(8)]

    calls = [lambda d=d: ledger.finalize_invoice(ctx, d) for d in drafts]

    assert _race(calls) == (3, 5)
    numbers = [ledger.invoice(ctx, d).number for d in drafts]
    assert sorted(n for n in numbers if n) == [f"INV-{TODAY[:4]}-{i:06d}" for i in (1, 2, 3)]
