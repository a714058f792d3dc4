"""Subscription billing options through HTTP: calendar billing, proration charged at once
(invoice for an upgrade, credit note for a downgrade), past_due, and the customer's credit
balance taken by billing-run invoices.

Tenants are German, customers German businesses: every line is taxed at 19%.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.api.test_subscriptions import PLAN, PRO, bill, lines, pay, subscribe, usage
from tests.conftest import TenantClient

ANNUAL = {**PLAN, "code": "annual", "name": "Annual", "amount": "1200.00", "interval": "year"}


def run(tenant: TenantClient, as_of: str) -> list[dict[str, Any]]:
    response = tenant.post("/v1/billing/run", {"as_of": as_of})
    assert response.status_code == 200, response.text
    billed: list[dict[str, Any]] = response.json()["billed"]
    return billed


def change(tenant: TenantClient, sub: dict[str, Any], **body: Any) -> Any:
    return tenant.post(f"/v1/subscriptions/{sub['id']}/change-plan", body)


def read(tenant: TenantClient, sub: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = tenant.get(f"/v1/subscriptions/{sub['id']}").json()
    return result


# -- calendar billing ------------------------------------------------------------


def test_calendar_billing_prorates_the_first_days_then_bills_from_the_1st(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-02-10", billing_anchor="calendar")
    assert (sub["billing_anchor"], sub["anchor"]) == ("calendar", "2025-03-01")

    invoices = bill(tenant, "2025-04-01")

    assert [i["issue_date"] for i in invoices] == ["2025-02-10", "2025-03-01", "2025-04-01"]
    # Feb 10-28 is 19 of February's 28 days: 30.00 x 19/28 = 20.357... -> 20.36.
    assert [lines(i) for i in invoices] == [
        [("Basic, 2025-02-10 to 2025-02-28 (19 of 28 days)", "20.36")],
        [("Basic, 2025-03-01 to 2025-03-31", "30.00")],
        [("Basic, 2025-04-01 to 2025-04-30", "30.00")],
    ]
    assert [i["total"] for i in invoices] == ["24.23", "35.70", "35.70"]  # + 19% VAT


def test_calendar_billing_in_arrears_bills_usage_of_the_short_first_period(
    tenant: TenantClient,
) -> None:
    sub = subscribe(
        tenant,
        "2025-02-10",
        billing="in_arrears",
        billing_anchor="calendar",
        metered=[{"metric": "calls", "unit_price": "1.00"}],
    )
    usage(tenant, sub, ("calls", 5, "2025-02-15", "feb"), ("calls", 7, "2025-03-03", "mar"))

    march, april = bill(tenant, "2025-04-01")

    assert lines(march) == [
        ("Usage 2025-02-10 to 2025-02-28: calls", "5.00"),
        ("Basic, 2025-02-10 to 2025-02-28 (19 of 28 days)", "20.36"),
    ]
    assert lines(april) == [
        ("Usage 2025-03-01 to 2025-03-31: calls", "7.00"),
        ("Basic, 2025-03-01 to 2025-03-31", "30.00"),
    ]


def test_calendar_billing_of_a_yearly_plan_runs_to_jan_1_after_the_trial(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-03-10", plan=ANNUAL, trial_days=14, billing_anchor="calendar")
    assert (sub["trial_end"], sub["anchor"]) == ("2025-03-24", "2026-01-01")

    invoices = bill(tenant, "2026-01-01")

    # 2025-03-24 to 2025-12-31 is 283 of 2025's 365 days: 1200 x 283/365 = 930.41.
    assert [lines(i) for i in invoices] == [
        [("Annual, 2025-03-24 to 2025-12-31 (283 of 365 days)", "930.41")],
        [("Annual, 2026-01-01 to 2026-12-31", "1200.00")],
    ]


def test_a_calendar_subscription_starting_on_the_1st_has_no_short_period(
    tenant: TenantClient,
) -> None:
    subscribe(tenant, "2025-03-01", billing_anchor="calendar")

    invoices = bill(tenant, "2025-04-01")

    assert [lines(i) for i in invoices] == [
        [("Basic, 2025-03-01 to 2025-03-31", "30.00")],
        [("Basic, 2025-04-01 to 2025-04-30", "30.00")],
    ]


# -- proration charged at once ---------------------------------------------------


def test_an_upgrade_charged_at_once_is_invoiced_now_and_not_again(tenant: TenantClient) -> None:
    sub = subscribe(tenant, "2025-04-01")
    [april] = bill(tenant, "2025-04-01")

    changed = change(tenant, sub, plan=PRO, effective_date="2025-04-11", proration="immediately")

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["pending_lines"] == []
    assert body["plan"]["code"] == "pro"
    entry = body["invoices"][-1]
    assert (entry["boundary"], entry["on"]) == (None, "2025-04-11")
    now = tenant.get(f"/v1/invoices/{entry['invoice_id']}").json()
    # April has 30 days; from the 11th, 20 remain: credit 30 x 20/30, charge 60 x 20/30.
    assert lines(now) == [
        ("Unused time on Basic, 2025-04-11 to 2025-04-30", "-20.00"),
        ("Remaining time on Pro, 2025-04-11 to 2025-04-30", "40.00"),
    ]
    assert (now["status"], now["issue_date"], now["subtotal"], now["total"]) == (
        "open",
        "2025-04-11",
        "20.00",
        "23.80",
    )
    assert now["number"] > april["number"]
    [may] = bill(tenant, "2025-05-01")
    assert lines(may) == [("Pro, 2025-05-01 to 2025-05-31", "60.00")]


def test_an_upgrade_charged_at_once_and_retried_with_its_key_is_invoiced_once(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01")
    bill(tenant, "2025-04-01")
    body = {"plan": PRO, "effective_date": "2025-04-11", "proration": "immediately"}
    path = f"/v1/subscriptions/{sub['id']}/change-plan"

    first = tenant.post(path, body, **{"Idempotency-Key": "upgrade-1"})
    again = tenant.post(path, body, **{"Idempotency-Key": "upgrade-1"})

    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert len(read(tenant, sub)["invoices"]) == 2  # April's and the upgrade's


def test_a_calendar_upgrade_in_the_short_first_period_prorates_by_the_full_month(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-02-10", billing_anchor="calendar")
    bill(tenant, "2025-02-10")

    changed = change(tenant, sub, plan=PRO, effective_date="2025-02-20", proration="immediately")

    invoice_id = changed.json()["invoices"][-1]["invoice_id"]
    # Feb 20-28 is 9 of February's 28 days: 30 x 9/28 = 9.64 back, 60 x 9/28 = 19.29 due.
    assert lines(tenant.get(f"/v1/invoices/{invoice_id}").json()) == [
        ("Unused time on Basic, 2025-02-20 to 2025-02-28", "-9.64"),
        ("Remaining time on Pro, 2025-02-20 to 2025-02-28", "19.29"),
    ]


def test_a_downgrade_credited_at_once_reduces_what_the_unpaid_invoice_asks(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01", plan=PRO)
    [april] = bill(tenant, "2025-04-01")

    changed = change(tenant, sub, plan=PLAN, effective_date="2025-04-21", proration="immediately")

    assert changed.status_code == 200, changed.text
    [noted] = changed.json()["credit_notes"]
    assert (noted["invoice_id"], noted["on"]) == (april["id"], "2025-04-21")
    note = tenant.get(f"/v1/credit-notes/{noted['credit_note_id']}").json()
    # 10 of April's 30 days remain: 60 x 10/30 = 20.00 back, 30 x 10/30 = 10.00 due: net
    # 10.00 credited on the Pro line, + 19% VAT.
    assert (note["outcome"], note["subtotal"], note["total"]) == ("reduce_due", "10.00", "11.90")
    assert [ln["invoice_line_id"] for ln in note["lines"]] == [april["lines"][0]["id"]]
    after = tenant.get(f"/v1/invoices/{april['id']}").json()
    assert (after["amount_credited"], after["amount_due"]) == ("11.90", "59.50")
    assert changed.json()["pending_lines"] == []
    [may] = bill(tenant, "2025-05-01")
    assert lines(may) == [("Basic, 2025-05-01 to 2025-05-31", "30.00")]


def test_a_downgrade_of_a_paid_period_becomes_credit_the_next_invoice_takes(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01", plan=PRO)
    [april] = bill(tenant, "2025-04-01")
    pay(tenant, april)

    changed = change(tenant, sub, plan=PLAN, effective_date="2025-04-21", proration="immediately")

    note_id = changed.json()["credit_notes"][0]["credit_note_id"]
    note = tenant.get(f"/v1/credit-notes/{note_id}").json()
    assert (note["outcome"], note["total"]) == ("credit_balance", "11.90")
    [billed] = run(tenant, "2025-05-01")
    may = tenant.get(f"/v1/invoices/{billed['invoice_id']}").json()
    # 35.70 for May, 11.90 of it settled by the credit.
    assert (may["total"], may["amount_due"], billed["credit_applied"]) == (
        "35.70",
        "23.80",
        "11.90",
    )


def test_a_credit_at_once_without_an_invoiced_period_is_refused_and_changes_nothing(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01", plan=PRO, billing="in_arrears")

    refused = change(tenant, sub, plan=PLAN, effective_date="2025-04-21", proration="immediately")

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "proration_not_creditable"
    after = read(tenant, sub)
    assert (after["version"], after["plan"]["code"]) == (sub["version"], "pro")


def test_a_credit_at_once_beyond_what_the_fee_line_has_left_is_refused(
    tenant: TenantClient,
) -> None:
    premium = {**PRO, "code": "premium", "name": "Premium", "amount": "300.00"}
    sub = subscribe(tenant, "2025-04-01")
    bill(tenant, "2025-04-01")
    upgraded = change(
        tenant, sub, plan=premium, effective_date="2025-04-02", proration="immediately"
    )
    assert upgraded.status_code == 200, upgraded.text

    # 28 of 30 days left: 300 x 28/30 = 280.00 back, 30 x 28/30 = 28.00 due: 252.00 to
    # credit, and April's Basic line has 30.00.
    refused = change(tenant, sub, plan=PLAN, effective_date="2025-04-03", proration="immediately")

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "credit_exceeds_invoice"
    after = read(tenant, sub)
    assert (after["version"], after["plan"]["code"], after["credit_notes"]) == (
        upgraded.json()["version"],
        "premium",
        [],
    )


def test_proration_options_are_checked(tenant: TenantClient) -> None:
    sub = subscribe(tenant, "2025-04-01")
    future = datetime.now(UTC).date().replace(year=2099).isoformat()
    for body in (
        {"plan": PRO, "proration": "later"},
        {"plan": PRO, "proration": "immediately", "effective_date": future},
    ):
        response = change(tenant, sub, **body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    bad_anchor = {"customer_id": sub["customer_id"], "plan": PLAN, "billing_anchor": "lunar"}
    assert tenant.post("/v1/subscriptions", bad_anchor).status_code == 422
    assert read(tenant, sub)["version"] == sub["version"]


# -- past_due --------------------------------------------------------------------


def test_unpaid_after_its_due_date_is_past_due_until_the_latest_invoice_is_paid(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01")
    [april] = bill(tenant, "2025-04-01")
    assert april["due_date"] == "2025-04-15"  # 14 days' terms; long past today
    assert read(tenant, sub)["status"] == "past_due"

    pay(tenant, april, "10.00")
    assert read(tenant, sub)["status"] == "past_due"  # partly paid is still unpaid
    # A past_due subscription is still billed, and its latest invoice is what counts.
    [may] = bill(tenant, "2025-05-01")
    pay(tenant, april, "25.70")
    assert read(tenant, sub)["status"] == "past_due"
    pay(tenant, may)
    assert read(tenant, sub)["status"] == "active"


def test_an_invoice_not_yet_due_leaves_the_subscription_active(tenant: TenantClient) -> None:
    today = datetime.now(UTC).date().isoformat()
    sub = subscribe(tenant, today)
    [invoice] = bill(tenant, today)
    assert invoice["amount_due"] == "35.70"
    assert read(tenant, sub)["status"] == "active"


def test_a_paused_subscription_with_an_unpaid_invoice_shows_paused(tenant: TenantClient) -> None:
    sub = subscribe(tenant, "2025-04-01")
    bill(tenant, "2025-04-01")
    paused = tenant.post(f"/v1/subscriptions/{sub['id']}/pause", {"effective_date": "2025-04-16"})
    assert paused.json()["status"] == "paused"


# -- the customer's credit balance -----------------------------------------------


def test_billing_runs_take_the_customers_credit_up_to_each_invoices_amount_due(
    tenant: TenantClient,
) -> None:
    sub = subscribe(tenant, "2025-04-01")
    customer_id = sub["customer_id"]
    payment = tenant.post(
        "/v1/payments",
        {
            "customer_id": customer_id,
            "amount": "50.00",
            "currency": "EUR",
            "paid_at": "2025-03-20",
            "method": "bank_transfer",
            "allocations": [],
        },
    )
    assert payment.status_code == 201, payment.text

    billed = run(tenant, "2025-06-01")

    invoices = [tenant.get(f"/v1/invoices/{b['invoice_id']}").json() for b in billed]
    # 50.00 of credit: all of April's 35.70, the other 14.30 towards May, none for June.
    assert [b["credit_applied"] for b in billed] == ["35.70", "14.30", "0.00"]
    assert [(i["total"], i["amount_due"], i["status"]) for i in invoices] == [
        ("35.70", "0.00", "paid"),
        ("35.70", "21.40", "open"),
        ("35.70", "35.70", "open"),
    ]
    history = tenant.get(f"/v1/invoices/{invoices[1]['id']}/history").json()["data"]
    applied = [h["data"] for h in history if h["type"] == "CustomerCreditApplied"]
    assert [(a["amount"], a["applied_on"]) for a in applied] == [("14.30", "2025-05-01")]
    statement = tenant.get(f"/v1/customers/{customer_id}/statement").json()
    assert statement["statements"][0]["credit_available"] == "0.00"
