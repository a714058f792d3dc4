"""Tamper evidence: each tenant's events form a hash chain written as they are appended, and
verification pinpoints an event changed, deleted or inserted by hand in PostgreSQL.

Each test tampers with a database of its own, so the session's shared database stays whole.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from pydantic import SecretStr

from api import cli
from api.app import create_app
from api.checkpoints import new_key, public_key_of, signature_holds, signing_key
from api.settings import Settings
from ledger.persistence import DatabaseLocation
from projections.chain_verify import verify
from projections.event_chain import GENESIS, link_hash
from tests.conftest import ADMIN_TOKEN, TenantClient


@dataclass
class Store:
    client: TestClient
    location: DatabaseLocation

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.location.conninfo(), autocommit=True) as conn:
            cursor = conn.execute(query, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def verify(self, tenant: UUID | None = None) -> Any:
        with psycopg.connect(self.location.conninfo()) as conn:
            return verify(conn, tenant)


@pytest.fixture
def store(location: DatabaseLocation, tmp_path: Path) -> Iterator[Store]:
    own = location.with_dbname(f"ledger_chain_{uuid.uuid4().hex[:10]}")
    settings = Settings.model_validate(
        {
            "DATABASE_URL": own.url(),
            "LEDGER_DATA_DIR": str(tmp_path),
            "LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
            "LEDGER_LOG_LEVEL": "warning",
        }
    )
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield Store(client, own)
    finally:
        with psycopg.connect(location.with_dbname("postgres").conninfo(), autocommit=True) as c:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(own.dbname)
                )
            )


def business(store: Store) -> tuple[TenantClient, TenantClient, dict[str, Any]]:
    """Two tenants with a few documents each; returns them and one of A's invoices."""
    a, b = TenantClient(store.client), TenantClient(store.client, legal_name="B GmbH")
    invoice = a.finalized()
    a.post(f"/v1/invoices/{invoice['id']}/payments", {"amount": "10.00", "paid_at": "2026-01-05"})
    a.finalized()
    b.finalized()
    return a, b, invoice


def test_every_appended_event_is_linked_into_its_tenants_chain(store: Store) -> None:
    a, b, _ = business(store)

    events = store.sql("SELECT count(*) FROM ledger_events")[0][0]
    links = store.sql(
        "SELECT c.tenant_id, c.position, c.prev_position, c.hash, e.originator_id,"
        " e.originator_version, e.topic, e.state FROM event_chain c"
        " JOIN ledger_events e ON e.notification_id = c.position ORDER BY c.position"
    )

    assert len(links) == events
    assert {row[0] for row in links} >= {a.id, b.id}
    previous: dict[UUID, tuple[int | None, bytes]] = {}
    for tenant, position, prev_position, digest, originator, version, topic, state in links:
        last_position, last_hash = previous.get(tenant, (None, GENESIS))
        assert prev_position == last_position
        assert bytes(digest) == link_hash(last_hash, position, originator, version, topic, state)
        previous[tenant] = (position, bytes(digest))
    heads = dict(store.sql("SELECT tenant_id, position FROM event_chain_heads"))
    assert heads == {tenant: position for tenant, (position, _) in previous.items()}
    result = store.verify()
    assert result.ok, result.breaks
    assert result.checked == events


def test_an_altered_payload_is_pinpointed(store: Store) -> None:
    a, b, invoice = business(store)
    [(position,)] = store.sql(
        "UPDATE ledger_events SET state = convert_to(replace(convert_from(state, 'UTF8'),"
        " '100.00', '1.00'), 'UTF8') WHERE originator_id = %s AND originator_version = 1"
        " RETURNING notification_id",
        (UUID(invoice["id"]),),
    )

    result = store.verify()

    assert not result.ok
    first = result.breaks[0]
    assert (first.kind, first.position) == ("altered", position)
    assert (first.aggregate_id, first.aggregate_version) == (UUID(invoice["id"]), 1)
    assert first.tenant_id == a.id
    assert [b.kind for b in result.breaks] == ["altered"]
    assert store.verify(b.id).ok
    assert not store.verify(a.id).ok


def test_a_deleted_event_is_pinpointed(store: Store) -> None:
    a, b, invoice = business(store)
    [(position,)] = store.sql(
        "DELETE FROM ledger_events WHERE originator_id = %s AND originator_version = 2"
        " RETURNING notification_id",
        (UUID(invoice["id"]),),
    )

    result = store.verify()

    assert [(x.kind, x.position) for x in result.breaks] == [("deleted", position)]
    assert result.breaks[0].aggregate_id == UUID(invoice["id"])
    assert result.breaks[0].tenant_id == a.id
    assert store.verify(b.id).ok


def test_a_deleted_event_and_its_link_are_still_found(store: Store) -> None:
    a, _, invoice = business(store)
    [(position,)] = store.sql(
        "DELETE FROM ledger_events WHERE originator_id = %s AND originator_version = 2"
        " RETURNING notification_id",
        (UUID(invoice["id"]),),
    )
    store.sql("DELETE FROM event_chain WHERE position = %s", (position,))

    result = store.verify(a.id)

    assert [x.kind for x in result.breaks] == ["deleted"]
    assert result.breaks[0].position > position  # the next event of the tenant notices
    assert str(position) in result.breaks[0].detail


def test_a_deleted_last_event_is_found_by_the_head(store: Store) -> None:
    _, b, _ = business(store)
    last = b.finalized()
    [(position,)] = store.sql(
        "DELETE FROM ledger_events WHERE notification_id = (SELECT max(position)"
        " FROM event_chain WHERE tenant_id = %s) RETURNING notification_id",
        (b.id,),
    )
    store.sql("DELETE FROM event_chain WHERE position = %s", (position,))

    result = store.verify()

    assert [(x.kind, x.tenant_id) for x in result.breaks] == [("truncated", b.id)]
    assert last["id"]  # b's last command was acknowledged before the tampering


def test_an_inserted_event_is_pinpointed(store: Store) -> None:
    a, b, invoice = business(store)
    [(version, topic, state)] = store.sql(
        "SELECT originator_version, topic, state FROM ledger_events WHERE originator_id = %s"
        " ORDER BY originator_version DESC LIMIT 1",
        (UUID(invoice["id"]),),
    )
    [(position,)] = store.sql(
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s) RETURNING notification_id",
        (UUID(invoice["id"]), version + 1, topic, state),
    )

    result = store.verify()

    assert [(x.kind, x.position) for x in result.breaks] == [("inserted", position)]
    assert result.breaks[0].aggregate_id == UUID(invoice["id"])
    assert result.breaks[0].tenant_id == a.id  # known from the aggregate's own chain
    assert store.verify(b.id).ok


def test_verify_over_http_reports_the_first_break_to_the_tenants_auditor(store: Store) -> None:
    a, b, invoice = business(store)
    auditor = a.key_for("auditor")
    healthy = store.client.get("/v1/audit/verify", headers=auditor).json()
    store.sql(
        "UPDATE ledger_events SET state = state || ' '::bytea WHERE originator_id = %s"
        " AND originator_version = 1",
        (UUID(invoice["id"]),),
    )

    broken = store.client.get("/v1/audit/verify", headers=auditor).json()
    other = store.client.get("/v1/audit/verify", headers=b.key_for("auditor")).json()
    issuer = store.client.get("/v1/audit/verify", headers=a.key_for("issuer"))

    assert healthy["ok"] is True
    assert healthy["first_break"] is None
    assert healthy["events_checked"] > 0
    assert len(healthy["head_hash"]) == 64
    assert broken["ok"] is False
    assert broken["first_break"]["kind"] == "altered"
    assert broken["first_break"]["aggregate_id"] == invoice["id"]
    assert other["ok"] is True
    assert issuer.status_code == 403


def test_a_signed_checkpoint_holds_until_history_is_rewritten(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _, invoice = business(store)
    key = new_key()
    store.client.app.state.settings.checkpoint_key = SecretStr(key)  # type: ignore[attr-defined]
    auditor = a.key_for("auditor")
    response = store.client.get("/v1/audit/checkpoint", headers=auditor)
    assert response.status_code == 200, response.text
    checkpoint = response.json()
    pinned = public_key_of(signing_key(key))
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(checkpoint))
    monkeypatch.setenv("DATABASE_URL", store.location.url())
    command = ["verify", "--tenant", str(a.id), "--checkpoint", str(path), "--public-key", pinned]

    assert checkpoint["tenant_id"] == str(a.id)
    assert checkpoint["public_key"] == pinned
    assert signature_holds(checkpoint, pinned)
    assert not signature_holds({**checkpoint, "position": checkpoint["position"] - 1}, pinned)
    assert not signature_holds(checkpoint, public_key_of(signing_key(new_key())))
    assert cli.main(command) == 0
    # Rewrite history the way an operator with database access could: change an event and
    # recompute every later link and the head. The chain verifies again; the checkpoint not.
    store.sql(
        "UPDATE ledger_events SET state = state || ' '::bytea WHERE originator_id = %s"
        " AND originator_version = 1",
        (UUID(invoice["id"]),),
    )
    relink(store, a.id)
    assert store.verify(a.id).ok
    assert cli.main(command) == 1


def test_checkpoints_need_a_configured_key(store: Store) -> None:
    a, _, _ = business(store)
    response = store.client.get("/v1/audit/checkpoint", headers=a.key_for("auditor"))
    assert response.status_code == 409
    assert response.json()["code"] == "checkpoints_disabled"


def relink(store: Store, tenant: UUID) -> None:
    """Recompute a tenant's whole chain from the stored events, as a forger would."""
    rows = store.sql(
        "SELECT c.position, e.originator_id, e.originator_version, e.topic, e.state"
        " FROM event_chain c JOIN ledger_events e ON e.notification_id = c.position"
        " WHERE c.tenant_id = %s ORDER BY c.position",
        (tenant,),
    )
    previous = GENESIS
    for position, originator, version, topic, state in rows:
        previous = link_hash(previous, position, originator, version, topic, state)
        store.sql("UPDATE event_chain SET hash = %s WHERE position = %s", (previous, position))
    store.sql("UPDATE event_chain_heads SET hash = %s WHERE tenant_id = %s", (previous, tenant))
