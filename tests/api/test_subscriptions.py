"""Subscriptions through HTTP: trials, proration, pause/resume, cancel, month-end anchors,
metered usage with tiers and `unique`, idempotent usage keys, billing runs and late usage.

Tenants are German, customers German businesses: every line is taxed at 19%.
"""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from ledger.application import Ledger
from tests.conftest import TenantClient, command_context

PLAN = {"code": "basic", "name": "Basic", "amount": "30.00", "currency": "EUR"}
PRO = {"code": "pro", "name": "Pro", "amount": "60.00", "currency": "EUR"}


def subscribe(tenant: TenantClient, start: str, **extra: Any) -> dict[str, Any]:
    body = {"customer_id": tenant.customer(), "plan": PLAN, "start_date": start, **extra}
    response = tenant.post("/v1/subscriptions", body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def bill(tenant: TenantClient, as_of: str) -> list[dict[str, Any]]:
    response = tenant.post("/v1/billing/run", {"as_of": as_of})
    assert response.status_code == 200, response.text
    return [
        tenant.get(f"/v1/invoices/{b['invoice_id']}").json()
        for b in response.json()["billed"]
        if b["invoice_id"]
    ]


def usage(tenant: TenantClient, sub: dict[str, Any], *events: tuple[Any, ...]) -> Any:
    """Events as (metric, quantity, day, key[, value])."""
    body = {
        "events": [
            {
                "subscription_id": sub["id"],
                "metric": e[0],
                "quantity": str(e[1]),
                "timestamp": f"{e[2]}T12:00:00Z",
                "idempotency_key": e[3],
                **({"value": e[4]} if len(e) > 4 else {}),
            }
            for e in events
        ]
    }
    response = tenant.post("/v1/usage", body)
    assert response.status_code == 200, response.text
    return response.json()


def pay(tenant: TenantClient, invoice: dict[str, Any], amount: str | None = None) -> Any:
    body = {
        "amount": amount or invoice["amount_due"],
        "paid_at": invoice["issue_date"],
        "method": "bank_transfer",
    }
    response = tenant.post(f"/v1/invoices/{invoice['id']}/payments", body)
    assert response.status_code == 200, response.text
    return response.json()


def lines(invoice: dict[str, Any]) -> list[tuple[str, str]]:
    return [(ln["description"], ln["net_amount"]) for ln in invoice["lines"]]


def test_month_end_anchor_bills_jan_31_feb_28_mar_31(tenant: TenantClient) -> None:
    subscribe(tenant, "2025-01-31")

    invoices = bill(tenant, "2025-04-01")

    assert [i["issue_date"] for i in invoices] == ["2025-01-31", "2025-02-28", "2025-03-31"]
    assert [lines(i) for i in invoices] == [
        [("Basic, 2025-01-31 to 2025-02-27", "30.00")],
        [("Basic, 2025-02-28 to 2025-03-30", "30.00")],
        [("Basic, 2025-03-31 to 2025-04-29", "30.00")],
    ]
    assert [i["total"] for i in invoices] == ["35.70"] * 3  # 30.00 + 19% VAT
    numbers = [i["number"] for i in invoices]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3


def test_trial_is_free_and_billing_starts_when_it_ends(tenant: TenantClient) -> None:
    sub = subscribe(
        tenant,
        "2025-01-01",
        trial_days=14,
        metered=[{"metric": "calls", "unit_price": "1.00"}],
    )
    assert sub["trial_end"] == "2025-01-15"
    assert sub["anchor"] == "2025-01-15"
    usage(tenant, sub, ("calls", 7, "2025-01-05", "trial-1"), ("calls", 3, "2025-01-20", "p0-1"))

    assert bill(tenant, "2025-01-14") == []
    [first] = bill(tenant, "2025-01-15")
    [second] = bill(tenant, "2025-02-15")

    assert lines(first) == [("Basic, 2025-01-15 to 2025-02-14", "30.00")]
    # Usage during the trial is not billed; the first period's is, in arrears.
    assert lines(second) == [
        ("Usage 2025-01-15 to 2025-02-14: calls", "3.00"),
        ("Basic, 2025-02-15 to 2025-03-14", "30.00"),
    ]


def test_upgrade_mid_period_credits_unused_days_and_charges_the_new_plan(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01")
    bill(tenant, "2025-04-01")
    # April has 30 days; from the 11th, 20 remain: credit 30 x 20/30, charge 60 x 20/30.
    changed = tenant.post(
        f"/v1/subscriptions/{sub['id']}/change-plan", {"plan": PRO, "effective_date": "2025-04-11"}
    )
    assert changed.status_code == 200, changed.text

    [may] = bill(tenant, "2025-05-01")

    assert lines(may) == [
        ("Pro, 2025-05-01 to 2025-05-31", "60.00"),
        ("Unused time on Basic, 2025-04-11 to 2025-04-30", "-20.00"),
        ("Remaining time on Pro, 2025-04-11 to 2025-04-30", "40.00"),
    ]
    assert (may["subtotal"], may["total"]) == ("80.00", "95.20")


def test_downgrade_mid_period_in_arrears_bills_each_plan_for_its_days(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01", billing="in_arrears", plan=PRO)
    changed = tenant.post(
        f"/v1/subscriptions/{sub['id']}/change-plan",
        {"plan": PLAN, "effective_date": "2025-04-21"},
    )
    assert changed.status_code == 200, changed.text

    [april] = bill(tenant, "2025-05-01")

    # 60 for April, less 60 x 10/30 unused, plus 30 x 10/30: 20 days of Pro, 10 of Basic.
    assert lines(april) == [
        ("Pro, 2025-04-01 to 2025-04-30", "60.00"),
        ("Unused time on Pro, 2025-04-21 to 2025-04-30", "-20.00"),
        ("Remaining time on Basic, 2025-04-21 to 2025-04-30", "10.00"),
    ]
    assert april["subtotal"] == "50.00"


def _invoices(tenant: TenantClient, sub: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = tenant.get(f"/v1/subscriptions/{sub['id']}").json()["invoices"]
    return result


def test_pause_credits_the_rest_and_resume_charges_it_on_a_later_invoice(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01", metered=[{"metric": "calls", "unit_price": "1"}])
    [april] = bill(tenant, "2025-04-01")
    pay(tenant, april)  # else the subscription would be past_due, not active, on resuming
    paused = tenant.post(f"/v1/subscriptions/{sub['id']}/pause", {"effective_date": "2025-04-16"})
    assert paused.status_code == 200, paused.text
    refused = usage(tenant, sub, ("calls", 1, "2025-04-20", "while-paused"))
    assert refused["results"] == [
        {
            "index": 0,
            "status": "rejected",
            "reason": "subscription_paused",
            "detail": "paused on 2025-04-20",
        }
    ]
    # May 1: nothing to charge while paused, and the credit (-15.00) waits.
    assert bill(tenant, "2025-05-01") == []
    resumed = tenant.post(f"/v1/subscriptions/{sub['id']}/resume", {"effective_date": "2025-05-11"})
    assert resumed.json()["status"] == "active"

    [june] = bill(tenant, "2025-06-01")

    # 15 of April's 30 days unused: -15.00; 21 of May's 31 days: 30 x 21/31 = 20.32.
    assert lines(june) == [
        ("Basic, 2025-06-01 to 2025-06-30", "30.00"),
        ("Unused time on Basic, 2025-04-16 to 2025-04-30", "-15.00"),
        ("Remaining time on Basic, 2025-05-11 to 2025-05-31", "20.32"),
    ]


def test_cancel_at_period_end_bills_the_last_period_then_stops(tenant: TenantClient) -> None:
    sub = subscribe(
        tenant, "2025-04-01", billing="in_arrears", metered=[{"metric": "calls", "unit_price": "1"}]
    )
    canceled = tenant.post(
        f"/v1/subscriptions/{sub['id']}/cancel",
        {"at": "period_end", "effective_date": "2025-04-10"},
    )
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["ends_on"] == "2025-05-01"
    assert canceled.json()["status"] == "canceled"
    after = usage(tenant, sub, ("calls", 1, "2025-05-02", "late-k"))
    assert after["results"][0]["reason"] == "outside_subscription"

    invoices = bill(tenant, "2025-08-01")

    assert [lines(i) for i in invoices] == [[("Basic, 2025-04-01 to 2025-04-30", "30.00")]]
    again = tenant.post(f"/v1/subscriptions/{sub['id']}/pause", {"effective_date": "2025-04-20"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_tiers_are_graduated_and_unique_counts_distinct_values(tenant: TenantClient) -> None:
    metered = [
        {
            "metric": "calls",
            "tiers": [
                {"up_to": "100", "unit_price": "0.10"},
                {"up_to": "1000", "unit_price": "0.05"},
                {"unit_price": "0.01"},
            ],
        },
        {"metric": "seats", "aggregation": "unique", "unit_price": "5.00"},
    ]
    sub = subscribe(tenant, "2025-04-01", billing="in_arrears", metered=metered)
    usage(
        tenant,
        sub,
        ("calls", 1200, "2025-04-02", "c1"),
        ("calls", 300, "2025-04-03", "c2"),
        ("seats", 1, "2025-04-02", "s1", "ann"),
        ("seats", 1, "2025-04-03", "s2", "bob"),
        ("seats", 1, "2025-04-04", "s3", "ann"),
        ("seats", 1, "2025-04-05", "s4", "cyd"),
    )

    [april] = bill(tenant, "2025-05-01")

    label = "Usage 2025-04-01 to 2025-04-30"
    assert lines(april) == [
        (f"{label}: calls (1-100)", "10.00"),
        (f"{label}: calls (101-1000)", "45.00"),
        (f"{label}: calls (1001+)", "5.00"),
        (f"{label}: seats", "15.00"),
        ("Basic, 2025-04-01 to 2025-04-30", "30.00"),
    ]


def test_a_usage_key_counts_once_however_often_it_is_sent(tenant: TenantClient) -> None:
    sub = subscribe(
        tenant, "2025-04-01", billing="in_arrears", metered=[{"metric": "calls", "unit_price": "1"}]
    )
    events = [
        ("calls", 5, "2025-04-02", "k1"),
        ("calls", 5, "2025-04-02", "k1"),
        ("calls", 2, "2025-04-03", "k2"),
    ]

    first = usage(tenant, sub, *events)
    again = usage(tenant, sub, *events)

    assert (first["recorded"], first["duplicates"]) == (2, 1)
    assert (again["recorded"], again["duplicates"]) == (0, 3)
    read = tenant.get(f"/v1/subscriptions/{sub['id']}/usage", period="2025-04-15").json()
    assert read["metrics"] == [
        {"metric": "calls", "aggregation": "sum", "quantity": "7", "events": 2}
    ]


def test_usage_is_rejected_per_item_with_reasons(tenant: TenantClient) -> None:
    sub = subscribe(tenant, "2025-04-01", metered=[{"metric": "calls", "unit_price": "1"}])
    body = usage(
        tenant,
        sub,
        ("calls", 1, "2025-04-02", "ok"),
        ("mystery", 1, "2025-04-02", "m"),
        ("calls", 1, "2025-03-02", "early"),
    )
    unknown = tenant.post(
        "/v1/usage",
        {
            "events": [
                {
                    "subscription_id": str(uuid.uuid4()),
                    "metric": "calls",
                    "quantity": "1",
                    "timestamp": "2025-04-02T00:00:00Z",
                    "idempotency_key": "x",
                }
            ]
        },
    ).json()

    assert [r.get("reason") for r in body["results"]] == [
        None,
        "unknown_metric",
        "outside_subscription",
    ]
    assert body["recorded"] == 1
    assert unknown["results"][0]["reason"] == "unknown_subscription"
    too_many = tenant.post("/v1/usage", {"events": []})
    assert too_many.status_code == 422


def test_late_usage_is_adjusted_visibly_on_the_next_invoice(tenant: TenantClient) -> None:
    sub = subscribe(
        tenant, "2025-04-01", billing="in_arrears", metered=[{"metric": "calls", "unit_price": "1"}]
    )
    usage(tenant, sub, ("calls", 10, "2025-04-05", "a"))
    [april] = bill(tenant, "2025-05-01")
    usage(tenant, sub, ("calls", 5, "2025-04-20", "late"))

    [may] = bill(tenant, "2025-06-01")

    assert ("Usage 2025-04-01 to 2025-04-30: calls", "10.00") in lines(april)
    assert lines(may) == [
        ("Basic, 2025-05-01 to 2025-05-31", "30.00"),
        ("Adjustment for late usage: calls, 2025-04-01 to 2025-04-30 (quantity 10 -> 15)", "5.00"),
    ]


def test_billing_run_twice_bills_each_period_once(tenant: TenantClient) -> None:
    subscribe(tenant, "2025-01-31")
    first = bill(tenant, "2025-04-01")
    second = bill(tenant, "2025-04-01")
    assert len(first) == 3
    assert second == []


def test_concurrent_billing_runs_bill_each_period_once(
    client: TestClient, ledger: Ledger, tenant: TenantClient
) -> None:
    subs = [subscribe(tenant, "2025-01-31") for _ in range(3)]
    ctx = command_context(tenant.id)
    billed: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            billed.extend(ledger.run_billing(ctx, date(2025, 4, 1)).billed)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted((b.subscription_id, b.boundary) for b in billed) == sorted(
        (uuid.UUID(s["id"]), n) for s in subs for n in range(3)
    )
    numbers = [tenant.get(f"/v1/invoices/{b.invoice_id}").json()["number"] for b in billed]
    assert len(set(numbers)) == 9
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 10))
    for sub in subs:
        assert len(_invoices(tenant, sub)) == 3
    assert Decimal(tenant.get(f"/v1/invoices/{billed[0].invoice_id}").json()["total"]) == Decimal(
        "35.70"
    )


def test_bad_input_is_a_problem_not_a_500(tenant: TenantClient) -> None:
    sub = subscribe(tenant, "2025-04-01", metered=[{"metric": "calls", "unit_price": "1"}])
    far = {
        "subscription_id": sub["id"],
        "metric": "calls",
        "quantity": "1",
        "timestamp": "9999-12-31T00:00:00Z",
        "idempotency_key": "far",
    }
    falling_tiers = [{"up_to": "10", "unit_price": "1"}, {"up_to": "5", "unit_price": "1"}]
    requests = [
        ("/v1/usage", {"events": [far]}),
        ("/v1/billing/run", {"as_of": "9999-01-01"}),
        ("/v1/billing/run", {"as_of": "2099-01-01"}),
        ("/v1/subscriptions", {"customer_id": str(uuid.uuid4()), "plan": PLAN}),
        (
            "/v1/subscriptions",
            {"customer_id": sub["customer_id"], "plan": {**PLAN, "currency": "USD"}},
        ),
        (
            "/v1/subscriptions",
            {
                "customer_id": sub["customer_id"],
                "plan": PLAN,
                "metered": [{"metric": "x", "tiers": falling_tiers}],
            },
        ),
        (
            f"/v1/subscriptions/{sub['id']}/change-plan",
            {"plan": {**PLAN, "interval": "year"}},
        ),
    ]
    for path, body in requests:
        response = tenant.post(path, body)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert tenant.get(f"/v1/subscriptions/{sub['id']}/usage", period="soon").status_code == 422
