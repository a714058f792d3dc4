"""One leader projects every read model from one read of the store, also when they stand
at different positions; what it writes equals a rebuild of each."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.runner import Projectors, check
from tests.conftest import TenantClient
from tests.integration.own_database import client, ledger, location, settings

__all__ = ["client", "ledger", "location", "settings"]  # fixtures: this module's own database


def _activity(tenant: TenantClient) -> None:
    for n in range(3):
        invoice = tenant.finalized()
        paid = {"amount": "1.00", "paid_at": "2026-01-02"}
        tenant.post(f"/v1/invoices/{invoice['id']}/payments", paid)
        if n == 1:
            line = tenant.get(f"/v1/invoices/{invoice['id']}").json()["lines"][0]["id"]
            returned = [{"invoice_line_id": line, "quantity": "1"}]
            credit = {"invoice_id": invoice["id"], "reason": "Returned", "lines": returned}
            assert tenant.post("/v1/credit-notes", credit).status_code == 201
    tenant.draft()  # a draft, not finalized


def test_projections_at_different_positions_catch_up_to_their_rebuilds(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    tenant = TenantClient(client)
    _activity(tenant)
    app: Any = client.app
    projectors: Projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    projectors.stop()
    try:
        # One projection starts over from nothing, the others go on from where they were,
        # and events come meanwhile that none has seen.
        projectors.by_name["invoice_list"].view.reset(ledger.name)
        projectors.by_name["receivables"].view.reset(ledger.name)
        _activity(tenant)
    finally:
        projectors.start()
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 20)
    assert all(p.leading for p in projectors.by_name.values())
    for projector in projectors.by_name.values():
        assert all(diff.equal for diff in check(ledger, projector, location)), projector.name
    listed = tenant.get("/v1/invoices", limit=100).json()["data"]
    assert len(listed) == 8  # the six finalized and the two drafts, none lost to the reset
