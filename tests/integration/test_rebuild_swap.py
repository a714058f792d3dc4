"""`ledger rebuild` builds new tables beside the live ones and swaps them in; `--check` diffs."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.cli import main
from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.runner import Projectors, check, rebuild
from tests.conftest import TenantClient
from tests.integration.own_database import client, ledger, location, settings

__all__ = ["client", "ledger", "location", "settings"]  # fixtures: this module's own database


def _projectors(client: TestClient) -> Projectors:
    app: Any = client.app
    projectors: Projectors = app.state.projectors
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    return projectors


def _activity(tenant: TenantClient, invoices: int) -> None:
    for _ in range(invoices):
        invoice = tenant.finalized()
        tenant.post(
            f"/v1/invoices/{invoice['id']}/payments", {"amount": "1.00", "paid_at": "2026-01-02"}
        )


def test_a_rebuild_yields_the_incremental_rows_and_keeps_the_indexes(
    client: TestClient, ledger: Ledger, location: DatabaseLocation
) -> None:
    _activity(TenantClient(client), 3)
    projectors = _projectors(client)
    incremental = {name: p.view.all_rows() for name, p in projectors.by_name.items()}
    with psycopg.connect(location.conninfo()) as conn:
        indexes_before = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " ORDER BY indexname"
        ).fetchall()
    # The projectors keep running: the rebuild follows them and swaps at their position.
    for projector in projectors.by_name.values():
        rebuild(ledger, projector, location, batch=7)
    assert projectors.wait_for(tuple(projectors.by_name), projectors.head(), 10)
    assert {name: p.view.all_rows() for name, p in projectors.by_name.items()} == incremental
    with psycopg.connect(location.conninfo()) as conn:
        indexes_after = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " ORDER BY indexname"
        ).fetchall()
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rebuild%'"
        ).fetchall()
    assert indexes_after == indexes_before
    assert schemas == []


@pytest.mark.parametrize("projectors_running", [True, False])
def test_readers_see_all_the_old_rows_while_a_rebuild_runs_and_new_events_are_kept(
    client: TestClient, ledger: Ledger, location: DatabaseLocation, projectors_running: bool
) -> None:
    tenant = TenantClient(client)
    _activity(tenant, 4)
    projectors = _projectors(client)
    projector = projectors.by_name["invoice_list"]
    before = projector.view.all_rows()
    listed_before = tenant.get("/v1/invoices", limit=100).json()["data"]
    assert len(listed_before) == 4
    seen: list[tuple[int, int]] = []
    appended: list[str] = []

    def halfway(done: int, total: int) -> None:
        if seen or done < total // 2:
            return
        seen.append((done, total))
        # Readers still see the whole old model, through the view and over HTTP.
        assert projector.view.all_rows() == before
        if projectors_running:
            assert tenant.get("/v1/invoices", limit=100).json()["data"] == listed_before
        # An event recorded during the rebuild is not lost.
        appended.append(tenant.draft()["id"])

    if not projectors_running:
        projectors.stop()
    try:
        rebuild(ledger, projector, location, halfway, batch=5)
    finally:
        if not projectors_running:
            projectors.start()
    assert seen
    listed = tenant.get("/v1/invoices", limit=100).json()["data"]
    assert [row["id"] for row in listed] == appended + [row["id"] for row in listed_before]
    assert all(diff.equal for diff in check(ledger, projector, location))


def test_check_reports_equal_then_the_rows_changed_by_hand(
    client: TestClient,
    location: DatabaseLocation,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant = TenantClient(client)
    _activity(tenant, 3)
    tenant.customer(name="Zed")
    _projectors(client)
    monkeypatch.setenv("DATABASE_URL", location.url())
    assert main(["rebuild", "--check"]) == 0
    out = capsys.readouterr().out
    assert "invoice_list.invoice_list: equal, 0 missing, 0 extra" in out
    assert "DIFFERS" not in out

    with psycopg.connect(location.conninfo()) as conn:
        changed = conn.execute(
            "UPDATE invoice_list SET status = 'void' WHERE tenant_id = %s"
            " AND id = (SELECT id FROM invoice_list WHERE tenant_id = %s LIMIT 1) RETURNING id",
            (tenant.id, tenant.id),
        ).fetchone()
        deleted = conn.execute(
            "DELETE FROM customer_list WHERE tenant_id = %s AND name = 'Zed' RETURNING id",
            (tenant.id,),
        ).fetchone()
    assert changed
    assert deleted
    try:
        assert main(["rebuild", "--check", "invoice_list"]) == 1
        out = capsys.readouterr().out
        assert "invoice_list.invoice_list: DIFFERS, 1 missing, 1 extra" in out
        assert f'"id": "{changed[0]}"' in out
        assert '"status": "void"' in out
        assert main(["rebuild", "--check", "customer_list"]) == 1
        out = capsys.readouterr().out
        assert "customer_list.customer_list: DIFFERS, 1 missing, 0 extra" in out
        assert "Zed" in out
        # A rebuild repairs both: one by name, then all of them in one read of the store.
        assert main(["rebuild", "invoice_list"]) == 0
        assert main(["rebuild"]) == 0
        assert main(["rebuild", "--check"]) == 0
    finally:
        for name in ("invoice_list", "customer_list"):
            if main(["rebuild", "--check", name]) != 0:
                main(["rebuild", name])
