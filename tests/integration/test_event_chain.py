"""Tamper evidence: each tenant's events form a hash chain written as they are appended, and
verification pinpoints an event changed, deleted or inserted by hand in PostgreSQL.

Each test tampers with a database of its own, so the session's shared database stays whole;
tests that only read share one untouched store. Verification is also checked in ranges of a
position or a few, by worker processes, and seen to find exactly what one pass finds.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
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
from projections import chain_verify
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
        """The verification in the calling thread, once it has been seen that two processes
        checking the store in ranges of one position, each event starting a range, find the
        same."""
        whole = self.verify_in(1, tenant)
        with ranges_of(1):
            assert self.verify_in(2, tenant) == whole
        return whole

    def verify_in(
        self,
        workers: int,
        tenant: UUID | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Any:
        with psycopg.connect(self.location.conninfo()) as conn:
            return verify(conn, tenant, progress, workers)

    def width(self) -> int:
        """How many positions the store spans."""
        [(width,)] = self.sql(
            "SELECT coalesce(max(notification_id) - min(notification_id) + 1, 0) FROM ledger_events"
        )
        return int(width)


@contextmanager
def ranges_of(positions: int) -> Iterator[None]:
    """Verification cuts the store into ranges of so many positions meanwhile."""
    before = chain_verify.RANGE
    chain_verify.RANGE = positions
    try:
        yield
    finally:
        chain_verify.RANGE = before


@pytest.fixture(autouse=True)
def split_small_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store of a few events is checked in ranges, of one position each, as large ones are."""
    monkeypatch.setattr(chain_verify, "RANGE", 1)


@pytest.fixture
def store(location: DatabaseLocation, tmp_path: Path) -> Iterator[Store]:
    with own_store(location, tmp_path) as own:
        yield own


@pytest.fixture(scope="module")
def intact(
    location: DatabaseLocation, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, TenantClient]]:
    """A store no test tampers with, and its first tenant."""
    with own_store(location, tmp_path_factory.mktemp("intact")) as own:
        a, _, _ = business(own)
        yield own, a


@contextmanager
def own_store(location: DatabaseLocation, data_dir: Path) -> Iterator[Store]:
    own = location.with_dbname(f"ledger_chain_{uuid.uuid4().hex[:10]}")
    settings = Settings.model_validate(
        {
            "DATABASE_URL": own.url(),
            "LEDGER_DATA_DIR": str(data_dir),
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


def test_a_chain_verifies_whichever_ranges_it_is_read_in(
    intact: tuple[Store, TenantClient],
) -> None:
    # In ranges of one position each event, a tenant's first among them, starts a range and
    # both tenants' chains cross every boundary: by two processes, and by three, with more
    # ranges than positions. Then two ranges, and a store no larger than one range.
    store, _ = intact
    events = store.sql("SELECT count(*) FROM ledger_events")[0][0]
    width = store.width()

    for positions, workers in ((1, 2), (1, 3), (width // 2, 2), (width, 2), (width + 1, 2)):
        with ranges_of(positions):
            result = store.verify_in(workers)
        assert result.ok, (positions, workers, result.breaks)
        assert result.checked == events


def test_each_kind_of_tampering_is_found_whichever_the_ranges(store: Store) -> None:
    a, b, invoice = business(store)
    chain = store.sql("SELECT position, tenant_id FROM event_chain ORDER BY position")
    of_a = [position for position, tenant in chain if tenant == a.id]
    of_b = [position for position, tenant in chain if tenant == b.id]
    [(altered,)] = store.sql(
        "UPDATE ledger_events SET state = state || ' '::bytea WHERE originator_id = %s"
        " AND originator_version = 1 RETURNING notification_id",
        (UUID(invoice["id"]),),
    )
    # A link altered: the next link hashes the stored one, so it breaks too, also when it
    # starts a range.
    store.sql("UPDATE event_chain SET hash = sha256(hash) WHERE position = %s", (of_a[1],))
    store.sql("DELETE FROM ledger_events WHERE notification_id = %s", (of_b[2],))
    # Deleted with its link: the tenant's next event notices.
    store.sql("DELETE FROM ledger_events WHERE notification_id = %s", (of_a[-2],))
    store.sql("DELETE FROM event_chain WHERE position = %s", (of_a[-2],))
    [(version, topic, state)] = store.sql(
        "SELECT originator_version, topic, state FROM ledger_events WHERE notification_id = %s",
        (of_a[0],),
    )
    [(inserted,)] = store.sql(
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s) RETURNING notification_id",
        (a.id, version + 100, topic, state),
    )
    store.sql("DELETE FROM ledger_events WHERE notification_id = %s", (of_b[-1],))
    store.sql("DELETE FROM event_chain WHERE position = %s", (of_b[-1],))

    result = store.verify()  # and by two processes in ranges of one position

    expected = {
        (altered, "altered"),
        (of_a[1], "altered"),
        (of_a[2], "altered"),
        (of_b[2], "deleted"),
        (of_a[-1], "deleted"),
        (inserted, "inserted"),
        (of_b[-1], "truncated"),
    }
    assert [(x.position, x.kind) for x in result.breaks or []] == sorted(expected)


def test_an_empty_store_verifies_in_any_number_of_workers(store: Store) -> None:
    for workers in (1, 2):
        calls: list[int] = []
        result = store.verify_in(workers, progress=calls.append)
        assert (result.ok, result.checked, calls) == (True, 0, [0])


def test_progress_counts_the_events_read_in_every_range_on_the_calling_thread(
    intact: tuple[Store, TenantClient],
) -> None:
    store, _ = intact
    events = store.sql("SELECT count(*) FROM ledger_events")[0][0]
    calls: list[tuple[int, int]] = []

    store.verify_in(2, progress=lambda done: calls.append((done, threading.get_ident())))

    counts = [done for done, _ in calls]
    assert counts == sorted(set(counts))
    assert len(counts) > 2
    assert counts[-1] == events
    assert {thread for _, thread in calls} == {threading.get_ident()}


def test_a_range_that_cannot_be_checked_fails_the_verification(store: Store) -> None:
    # An event written by hand as a new aggregate's first names its tenant in its state;
    # this one's state is not JSON.
    a, _, _ = business(store)
    store.sql(
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, 'ledger.domain.customer:Customer.Created', 'not json')",
        (uuid.uuid4(),),
    )
    a.customer()  # ranges after it are checked too

    for workers in (1, 2):
        with pytest.raises(orjson.JSONDecodeError):
            store.verify_in(workers)


def test_events_appended_as_the_ranges_start_are_seen_by_none(
    intact: tuple[Store, TenantClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, a = intact
    [(events,)] = store.sql("SELECT count(*) FROM ledger_events")
    processes = chain_verify._processes

    def appending_first(workers: int) -> Any:
        a.customer()  # committed after the snapshot, before any range is read
        return processes(workers)

    monkeypatch.setattr(chain_verify, "_processes", appending_first)

    result = store.verify_in(2)

    assert result.ok, result.breaks
    assert result.checked == events
    assert store.verify_in(1).checked > events
