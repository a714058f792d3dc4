"""The usage report counts each tenant's authenticated API requests per month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantClient


def _requests(tenant: TenantClient) -> tuple[list[dict[str, Any]], int]:
    today = datetime.now(UTC).date()
    span = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    response = tenant.get("/v1/reports/usage", **span)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["api_requests"], body["totals"]["api_requests"]


def test_each_answered_request_of_a_tenant_counts_once_in_its_month(
    client: TestClient, tenant: TenantClient, tenant_b: TenantClient
) -> None:
    for _ in range(5):
        assert tenant.get("/v1/tenant").status_code == 200
    assert tenant.get(f"/v1/invoices/{tenant.id}").status_code == 404  # refused ones count too
    client.get("/v1/tenant")  # no key: nobody's request

    month = datetime.now(UTC).strftime("%Y-%m")
    assert _requests(tenant) == ([{"month": month, "requests": 6}], 6)
    # The report's own request is counted once it was answered.
    assert _requests(tenant) == ([{"month": month, "requests": 7}], 7)
    assert _requests(tenant_b) == ([], 0)
