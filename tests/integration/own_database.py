"""Fixtures for a test module that needs a database of its own: rebuilds replay every event
of their database, and the session's shared one holds every other test's events, so a
rebuild there costs more the more tests ran before it. Import them into the module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from tests.conftest import app_settings, fresh_database


@pytest.fixture(scope="module")
def location(location: DatabaseLocation) -> Iterator[DatabaseLocation]:
    """This module's database, on the session's server."""
    yield from fresh_database(location)


@pytest.fixture(scope="module")
def settings(location: DatabaseLocation, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return app_settings(location, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def ledger(client: TestClient) -> Ledger:
    app: Any = client.app
    result: Ledger = app.state.ledger
    return result
