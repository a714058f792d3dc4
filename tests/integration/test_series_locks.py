"""Numbering across processes: the series locks make two writers take turns."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing import persistence
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.domain.sequence import Sequence
from ledger.persistence import DatabaseLocation
from projections.event_chain import ledger_env
from projections.series_locks import PostgresSeriesLocks
from tests.conftest import TenantClient, command_context


def _two_ledgers(location: DatabaseLocation) -> list[Ledger]:
    # Two instances stand for two API processes: each has its own group commit.
    return [Ledger(env=ledger_env(location, 4)) for _ in range(2)]


def test_a_series_held_by_one_writer_waits_for_it_in_another(location: DatabaseLocation) -> None:
    first, second = _two_ledgers(location)
    try:
        assert isinstance(first.numbering_locks, PostgresSeriesLocks)
        series = [Sequence.create_id(uuid4(), "invoice", 2026)]
        order: list[str] = []
        held = threading.Event()

        def hold_a_while() -> None:
            with first.numbering_locks.holding(series):
                held.set()
                time.sleep(0.3)
                order.append("first released")

        def then_take() -> None:
            held.wait(5)
            with second.numbering_locks.holding(series):
                order.append("second held")

        threads = [threading.Thread(target=hold_a_while), threading.Thread(target=then_take)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert order == ["first released", "second held"]
    finally:
        first.close()
        second.close()


def test_other_series_and_no_series_do_not_wait(location: DatabaseLocation) -> None:
    first, second = _two_ledgers(location)
    try:
        mine = [Sequence.create_id(uuid4(), "invoice", 2026)]
        other = [Sequence.create_id(uuid4(), "invoice", 2026)]
        with first.numbering_locks.holding(mine):
            started = time.monotonic()
            with second.numbering_locks.holding(other), second.numbering_locks.holding([]):
                pass
            assert time.monotonic() - started < 1.0
        # Released on leaving the block: the other writer takes it at once.
        with second.numbering_locks.holding(mine):
            pass
    finally:
        first.close()
        second.close()


def test_two_writers_numbering_one_series_never_lose_a_save_to_each_other(
    location: DatabaseLocation, client: TestClient
) -> None:
    """Without the locks, two writers' batches read the same Sequence version and one of
    them fails and decides again, under load most of the time."""
    tenant = TenantClient(client)
    customer = tenant.customer()
    drafts = [UUID(tenant.draft(customer)["id"]) for _ in range(80)]
    apps = _two_ledgers(location)
    lost = []
    for app in apps:
        saved = app._saved

        def counting(aggregates: list[Any], saved: Any = saved) -> bool:
            ok: bool = saved(aggregates)
            if not ok:
                lost.append(aggregates)
            return ok

        app._saved = counting  # type: ignore[method-assign]
    try:
        ctx = command_context(tenant.id)

        def finalize(job: tuple[int, UUID]) -> str:
            index, invoice_id = job
            number = apps[index % 2].finalize_invoice(ctx, invoice_id).number
            assert number is not None
            return number

        with ThreadPoolExecutor(16) as pool:
            numbers = list(pool.map(finalize, enumerate(drafts)))
    finally:
        for app in apps:
            app.close()
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 81))
    assert lost == []


def test_a_writer_waits_no_longer_than_the_lock_timeout_and_changes_nothing(
    location: DatabaseLocation, client: TestClient
) -> None:
    tenant = TenantClient(client)
    draft = UUID(tenant.draft()["id"])
    holder = Ledger(env=ledger_env(location, 2))
    impatient = Ledger(env={**ledger_env(location, 2), "POSTGRES_LOCK_TIMEOUT": "1"})
    series = [Sequence.create_id(tenant.id, "invoice", datetime.now(UTC).year)]
    try:
        with holder.numbering_locks.holding(series):
            started = time.monotonic()
            with pytest.raises(persistence.OperationalError):
                impatient.finalize_invoice(command_context(tenant.id), draft)
            assert time.monotonic() - started < 5
        assert tenant.get(f"/v1/invoices/{draft}").json()["status"] == "draft"
    finally:
        holder.close()
        impatient.close()


def test_the_append_in_the_block_commits_the_locks_away_and_they_read_the_sequence(
    location: DatabaseLocation, client: TestClient
) -> None:
    tenant = TenantClient(client)
    first, second = _two_ledgers(location)
    try:
        sequence = Sequence(tenant_id=tenant.id, series="bench", year=2026)
        series = [sequence.id]
        with first.numbering_locks.holding(series, [(sequence.id, 0)]) as fresh:
            assert fresh == []  # never saved
            first.save(sequence)
            # Committed with the append: the other writer need not wait for the block's end.
            started = time.monotonic()
            with second.numbering_locks.holding(series, [(sequence.id, 0)]) as seen:
                assert time.monotonic() - started < 1.0
                assert seen is not None
                assert [(e.originator_id, e.originator_version) for e in seen] == [(sequence.id, 1)]
        with second.numbering_locks.holding(series, [(sequence.id, 1)]) as after:
            assert after == []
    finally:
        first.close()
        second.close()


def test_a_failed_append_in_the_block_saves_nothing_and_lets_go(
    location: DatabaseLocation, client: TestClient
) -> None:
    tenant = TenantClient(client)
    first, second = _two_ledgers(location)
    try:
        sequence = Sequence(tenant_id=tenant.id, series="bench", year=2026)
        first.save(sequence)
        stale = second.repository.get(sequence.id)
        sequence.issue(uuid4(), "B", datetime.now(UTC).date())
        first.save(sequence)
        stale.issue(uuid4(), "B", datetime.now(UTC).date())
        with (
            second.numbering_locks.holding([sequence.id]),
            pytest.raises(persistence.IntegrityError),
        ):
            second.save(stale)
        with first.numbering_locks.holding([sequence.id]):
            pass  # not held by the failed transaction any more
        assert second.repository.get(sequence.id).version == 2
    finally:
        first.close()
        second.close()
