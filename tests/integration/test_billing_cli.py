"""`ledger billing run --as-of` bills from the command line, once, like the API does."""

from __future__ import annotations

import orjson
import pytest

from api.cli import main
from ledger.persistence import DatabaseLocation
from tests.conftest import TenantClient

PLAN = {"code": "basic", "name": "Basic", "amount": "30.00", "currency": "EUR"}


def test_billing_run_from_the_command_line_bills_each_period_once(
    tenant: TenantClient,
    location: DatabaseLocation,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = {"customer_id": tenant.customer(), "plan": PLAN, "start_date": "2025-01-31"}
    sub = tenant.post("/v1/subscriptions", body).json()
    monkeypatch.setenv("DATABASE_URL", location.url())
    args = ["billing", "run", "--as-of", "2025-03-31", "--tenant", str(tenant.id)]

    assert main(args) == 0
    first = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(args) == 0
    second = capsys.readouterr().out

    assert [(b["subscription_id"], b["billed_on"]) for b in first] == [
        (sub["id"], "2025-01-31"),
        (sub["id"], "2025-02-28"),
        (sub["id"], "2025-03-31"),
    ]
    assert second == ""
    invoices = tenant.get(f"/v1/subscriptions/{sub['id']}").json()["invoices"]
    assert [i["invoice_id"] for i in invoices] == [b["invoice_id"] for b in first]
