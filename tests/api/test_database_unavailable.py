"""A database that does not answer in time is a 503 to retry, never a 500."""

from typing import Any

import psycopg
import pytest
from eventsourcing import persistence

from ledger.application import Ledger
from tests.conftest import LINE, TenantClient


@pytest.mark.parametrize(
    "error",
    [
        persistence.OperationalError("the connection was lost"),
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
    ],
)
def test_a_command_the_database_could_not_take_is_a_503_and_changes_nothing(
    tenant: TenantClient, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    customer = tenant.customer()
    before = tenant.get("/v1/invoices").json()["data"]

    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(ledger, "_saved", unavailable)
    response = tenant.post("/v1/invoices", {"customer_id": customer, "lines": [LINE]})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "database_unavailable"

    monkeypatch.undo()
    assert tenant.get("/v1/invoices").json()["data"] == before
