"""`rebuild_all` replays every projection in one read of the store and writes their rows in
multi-row statements; the rows must be those incremental processing wrote."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.runner import Projectors, rebuild_all
from tests.conftest import TenantClient
from tests.integration.own_database import client, ledger, location, settings

__all__ = ["client", "ledger", "location", "settings"]  # fixtures: this module's own database


def test_rebuilding_every_projection_together_yields_the_incremental_rows(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    tenant = TenantClient(client)
    for n in range(4):
        invoice = tenant.finalized()
        paid = {"amount": "1.00", "paid_at": "2026-01-02"}
        tenant.post(f"/v1/invoices/{invoice['id']}/payments", paid)
        if n % 2:
            tenant.post(f"/v1/invoices/{invoice['id']}/payments", paid)
    tenant.draft()
    app: Any = client.app
    projectors: Projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    incremental = {name: p.view.all_rows() for name, p in projectors.by_name.items()}

    # Small batches: an aggregate's events span several, and repeat within one.
    rebuilt = rebuild_all(ledger, list(projectors.by_name.values()), location, batch=9)

    assert rebuilt.read >= 9
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    assert {name: p.view.all_rows() for name, p in projectors.by_name.items()} == incremental
