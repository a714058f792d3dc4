"""`rebuild_all` replays every projection in one read of the store and writes their rows in
multi-row statements; the rows must be those incremental processing wrote."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections import rebuild_parts, statement_batches, view
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
    for _ in range(3):  # discarded drafts leave the list: deletes, several in one batch
        draft = tenant.draft()
        assert (
            client.delete(f"/v1/invoices/{draft['id']}", headers=tenant.headers).status_code == 200
        )
    app: Any = client.app
    projectors: Projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    incremental = {name: p.view.all_rows() for name, p in projectors.by_name.items()}

    # Small batches: an aggregate's events span several, and repeat within one.
    rebuilt = rebuild_all(ledger, list(projectors.by_name.values()), location, batch=9)

    assert rebuilt.read >= 9
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    assert {name: p.view.all_rows() for name, p in projectors.by_name.items()} == incremental


def test_replaying_in_parts_by_tenant_yields_the_incremental_rows(
    client: TestClient, ledger: Ledger, location: DatabaseLocation, monkeypatch: Any
) -> None:
    # Several tenants, so both parts get some; per tenant, events that touch other
    # aggregates' rows (a credit note, an erasure blanking the tax documents' buyer name).
    for n in range(6):
        tenant = TenantClient(client, erase_within_retention=True)
        customer = tenant.customer(name=f"Kunde {n}", email=f"k{n}@example.com")
        invoice = tenant.finalized(customer_id=customer)
        tenant.post(f"/v1/invoices/{invoice['id']}/payments", {"amount": "1.00"})
        full = {"invoice_id": invoice["id"], "reason": "returned", "full": True}
        assert tenant.post("/v1/credit-notes", full).status_code == 201
        if n % 2:
            assert tenant.post(f"/v1/customers/{customer}/erase").status_code == 200
        tenant.draft()
    app: Any = client.app
    projectors: Projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    incremental = {name: p.view.all_rows() for name, p in projectors.by_name.items()}
    assert rebuild_parts.every_event_linked(ledger, 0, projectors.head())
    monkeypatch.setattr(rebuild_parts, "PARALLEL_FROM", 0)
    in_parts = []
    replay_in_parts = rebuild_parts.replay_in_parts

    def spied(*args: Any) -> rebuild_parts.PartsReplayed:
        in_parts.append(args[-1])
        return replay_in_parts(*args)

    monkeypatch.setattr(rebuild_parts, "replay_in_parts", spied)

    rebuilt = rebuild_all(ledger, list(projectors.by_name.values()), location, batch=7, workers=2)

    assert in_parts == [2]
    assert rebuilt.read == projectors.head()  # every event, by one part or the other
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    assert {name: p.view.all_rows() for name, p in projectors.by_name.items()} == incremental
    # The projectors carry on from the swapped-in position.
    later = TenantClient(client).finalized()
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    listed = projectors.by_name["invoice_list"].view.all_rows()["invoice_list"]
    assert any(str(row["id"]) == later["id"] for row in listed)


def test_a_store_with_events_outside_the_chain_is_replayed_in_one_process(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    TenantClient(client).finalized()
    app: Any = client.app
    head = app.state.projectors.head()
    with psycopg.connect(location.conninfo(), autocommit=True) as conn:
        conn.execute(
            "CREATE TEMP TABLE kept AS SELECT * FROM event_chain WHERE position = %s", (head,)
        )
        conn.execute("DELETE FROM event_chain WHERE position = %s", (head,))
        try:
            assert not rebuild_parts.every_event_linked(ledger, 0, head)
            assert rebuild_parts.every_event_linked(ledger, 0, head - 1)
        finally:
            conn.execute("INSERT INTO event_chain SELECT * FROM kept")
    assert rebuild_parts.every_event_linked(ledger, 0, head)


def test_rebuilding_with_the_rows_copied_yields_the_incremental_rows(
    client: TestClient, ledger: Ledger, location: DatabaseLocation, monkeypatch: Any
) -> None:
    tenant = TenantClient(client)
    for _ in range(3):
        invoice = tenant.finalized()
        tenant.post(f"/v1/invoices/{invoice['id']}/payments", {"amount": "1.00"})
    app: Any = client.app
    projectors: Projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    incremental = {name: p.view.all_rows() for name, p in projectors.by_name.items()}
    monkeypatch.setattr(statement_batches, "COPY_FROM", 2)  # every batch's appends copied
    copied: list[str] = []
    copy = view._copy

    def spied(curs: Any, insert: statement_batches.Insert, rows: list[Any]) -> None:
        copied.append(insert.table)
        copy(curs, insert, rows)

    monkeypatch.setattr(view, "_copy", spied)

    rebuild_all(ledger, list(projectors.by_name.values()), location, batch=50)

    assert {"statement_lines", "open_items", "tax_documents"} <= set(copied)
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    assert {name: p.view.all_rows() for name, p in projectors.by_name.items()} == incremental


def test_parts_share_the_tenants_out_by_their_events(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    for n in range(5):
        tenant = TenantClient(client)
        for _ in range(n):
            tenant.finalized()
    head = ledger.recorder.max_notification_id() or 0
    with psycopg.connect(location.conninfo()) as conn:
        counts: dict[Any, int] = dict(
            conn.execute(
                "SELECT tenant_id, count(*) FROM event_chain WHERE position <= %s"
                " GROUP BY tenant_id",
                (head,),
            ).fetchall()
        )

    parts = rebuild_parts.balanced_parts(ledger, 0, head, 3)

    assert sorted(t for part in parts for t in part.tenants) == sorted(counts)
    sizes = [sum(counts[t] for t in part.tenants) for part in parts]
    # The largest tenant goes first into the smallest part, and so on: no part outgrows
    # another by more than one tenant's events.
    assert max(sizes) - min(sizes) <= max(counts.values())
