"""A view copies many appended rows instead of inserting them, with the same result: where
a copied row meets an existing one, the transaction runs again as one-by-one inserts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Tracking

from ledger.persistence import DatabaseLocation
from projections import statement_batches
from projections.rebuild import scratch_view
from projections.receivables import _STATEMENT, ReceivablesView
from tests.integration.own_database import location

__all__ = ["location"]  # fixture: this module's own database

TENANT = uuid.uuid4()


def line(position: int, amount: str) -> tuple[str, tuple[Any, ...]]:
    values = (position, 0, TENANT, TENANT, "EUR", date(2026, 1, 2), "invoice", TENANT, "N")
    return _STATEMENT, (*values, Decimal(amount))


@pytest.fixture
def view(location: DatabaseLocation) -> Iterator[ReceivablesView]:
    view, datastore = scratch_view(location, "public", ReceivablesView, "receivables_tracking")
    view.create_table()
    yield view
    datastore.close()


def stored(location: DatabaseLocation) -> dict[int, Decimal]:
    with psycopg.connect(location.conninfo()) as conn:
        rows = conn.execute(
            "SELECT position, amount FROM statement_lines WHERE tenant_id = %s", (TENANT,)
        ).fetchall()
    return dict(rows)


def spy_on_copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    copies: list[int] = []
    original = statement_batches._copyable

    def copyable(insert: Any, rows: list[Any]) -> bool:
        chosen = original(insert, rows)
        if chosen:
            copies.append(len(rows))
        return chosen

    monkeypatch.setattr(statement_batches, "_copyable", copyable)
    return copies


def test_many_appended_rows_are_copied(
    view: ReceivablesView, location: DatabaseLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies = spy_on_copies(monkeypatch)
    many = statement_batches.COPY_FROM
    view.record(Tracking("copy-test", 1), [line(10_000 + n, "1.50") for n in range(many)])

    assert copies == [many]
    assert stored(location) == {10_000 + n: Decimal("1.50") for n in range(many)}
    assert view.position("copy-test") == 1


def test_a_copied_row_meeting_an_existing_one_leaves_it_as_one_by_one_inserts_would(
    view: ReceivablesView, location: DatabaseLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    view.record(Tracking("copy-conflict", 1), [line(20_000, "7.00")])  # few rows: inserted
    copies = spy_on_copies(monkeypatch)
    many = statement_batches.COPY_FROM
    statements = [line(20_000 + n, "2.00") for n in range(many)]

    view.record(Tracking("copy-conflict", 2), statements)

    assert copies == [many]  # tried, met the row at 20,000, then ran one by one
    rows = stored(location)
    assert rows[20_000] == Decimal("7.00")  # ON CONFLICT DO NOTHING: the first row stays
    assert [rows[20_000 + n] for n in range(1, many)] == [Decimal("2.00")] * (many - 1)
    assert view.position("copy-conflict") == 2
