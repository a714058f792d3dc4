"""The revenue report: MRR and ARR per month and currency, with new, expansion, contraction
and churned MRR, worked by hand; CSV; a rebuild of the read model gives the same rows."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.runner import rebuild
from tests.conftest import TenantClient

BASIC = {"code": "basic", "name": "Basic", "amount": "30.00", "currency": "EUR"}
PRO = {**BASIC, "code": "pro", "name": "Pro", "amount": "60.00"}
PLUS = {**BASIC, "code": "plus", "name": "Plus", "amount": "45.00"}
YEARLY = {**BASIC, "code": "year", "name": "Yearly", "amount": "100.00", "interval": "year"}
SIX_MONTHS = {"from": "2025-01-01", "to": "2025-06-30"}


def subscribe(tenant: TenantClient, plan: dict[str, Any], start: str, **extra: Any) -> str:
    body = {"customer_id": tenant.customer(), "plan": plan, "start_date": start, **extra}
    response = tenant.post("/v1/subscriptions", body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def act(tenant: TenantClient, sub: str, action: str, **body: Any) -> None:
    response = tenant.post(f"/v1/subscriptions/{sub}/{action}", body)
    assert response.status_code == 200, response.text


def history(tenant: TenantClient) -> None:
    """A: Basic 30 from Jan 10, Pro from Feb 15, Plus from Mar 5, canceled at the end of
    its period (Jun 10). B: 100 a year from Jan 20, paused Apr 1 to May 10. C: Basic with
    a 14-day trial from Mar 25, so it pays from Apr 8."""
    a = subscribe(tenant, BASIC, "2025-01-10")
    b = subscribe(tenant, YEARLY, "2025-01-20")
    act(tenant, a, "change-plan", plan=PRO, effective_date="2025-02-15")
    act(tenant, a, "change-plan", plan=PLUS, effective_date="2025-03-05")
    subscribe(tenant, BASIC, "2025-03-25", trial_days=14)
    act(tenant, b, "pause", effective_date="2025-04-01")
    act(tenant, b, "resume", effective_date="2025-05-10")
    act(tenant, a, "cancel", at="period_end", effective_date="2025-06-01")


def test_mrr_arr_and_their_movements_per_month(tenant: TenantClient) -> None:
    history(tenant)

    response = tenant.get("/v1/reports/revenue", **SIX_MONTHS)

    assert response.status_code == 200, response.text
    report = response.json()
    columns = ("month", "mrr_start", "new", "expansion", "contraction", "churned", "mrr", "arr")
    rows = [(*(row[c] for c in columns), row["subscriptions"]) for row in report["data"]]
    # B is worth 100/12 = 8.3333... a month: rounded only when shown, so ARR stays whole.
    assert rows == [
        ("2025-01", "0.00", "38.33", "0.00", "0.00", "0.00", "38.33", "460.00", 2),
        ("2025-02", "38.33", "0.00", "30.00", "0.00", "0.00", "68.33", "820.00", 2),
        ("2025-03", "68.33", "0.00", "0.00", "15.00", "0.00", "53.33", "640.00", 2),
        # C starts paying (new 30); B pauses (contraction 8.33, and no longer paying).
        ("2025-04", "53.33", "30.00", "0.00", "8.33", "0.00", "75.00", "900.00", 2),
        ("2025-05", "75.00", "0.00", "8.33", "0.00", "0.00", "83.33", "1000.00", 3),
        # A ends on Jun 10, the end of the period holding Jun 1: 45 churned.
        ("2025-06", "83.33", "0.00", "0.00", "0.00", "45.00", "38.33", "460.00", 2),
    ]
    assert {row["currency"] for row in report["data"]} == {"EUR"}
    assert report["totals"] == {
        "EUR": {
            "mrr_start": "0.00",
            "new": "68.33",
            "expansion": "38.33",
            "contraction": "23.33",
            "churned": "45.00",
            "mrr": "38.33",
            "arr": "460.00",
        }
    }
    assert (report["from"], report["to"]) == ("2025-01-01", "2025-06-30")


def test_currencies_are_reported_apart(client: TestClient) -> None:
    tenant = TenantClient(client)
    subscribe(tenant, BASIC, "2025-01-10")
    patched = client.patch("/v1/tenant", json={"currency": "JPY"}, headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    subscribe(
        tenant, {**BASIC, "currency": "JPY", "amount": "1000", "interval": "year"}, "2025-02-01"
    )

    report = tenant.get("/v1/reports/revenue", **{"from": "2025-02-01", "to": "2025-02-28"}).json()

    # 1000 yen a year is 83.33... a month: yen have no minor unit.
    assert [(r["currency"], r["mrr"], r["new"], r["arr"]) for r in report["data"]] == [
        ("EUR", "30.00", "0.00", "360.00"),
        ("JPY", "83", "83", "1000"),
    ]


def test_csv_has_a_row_per_month_and_currency(tenant: TenantClient) -> None:
    history(tenant)

    response = tenant.client.get(
        "/v1/reports/revenue",
        params={"from": "2025-05-01", "to": "2025-06-30"},
        headers={**tenant.headers, "Accept": "text/csv"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines() == [
        "month,currency,mrr_start,new,expansion,contraction,churned,mrr,arr,subscriptions",
        "2025-05,EUR,75.00,0.00,8.33,0.00,0.00,83.33,1000.00,3",
        "2025-06,EUR,83.33,0.00,0.00,0.00,45.00,38.33,460.00,2",
    ]


def test_bad_ranges_are_422(tenant: TenantClient) -> None:
    for params in (
        {"from": "2025-06-01", "to": "2025-01-01"},
        {"from": "2000-01-01", "to": "2025-01-01"},
        {"from": "not-a-date"},
    ):
        response = tenant.get("/v1/reports/revenue", **params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_other_tenants_subscriptions_do_not_count(
    tenant: TenantClient, tenant_b: TenantClient
) -> None:
    subscribe(tenant_b, BASIC, "2025-01-10")

    assert tenant.get("/v1/reports/revenue", **SIX_MONTHS).json()["data"] == []


def test_a_rebuild_writes_the_rows_processing_wrote(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    history(TenantClient(client))
    projectors: Any = client.app.state.projectors  # type: ignore[attr-defined]
    assert projectors.wait_for(("revenue",), projectors.head(), 10)
    projector = projectors.by_name["revenue"]
    incremental = projector.view.all_rows()
    projectors.stop()
    try:
        rebuild(ledger, projector, location)
        rebuilt = projector.view.all_rows()
    finally:
        projectors.start()
    assert rebuilt == incremental
    assert incremental["revenue_changes"]
