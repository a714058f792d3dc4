"""Fixtures for a test module that needs a database of its own: rebuilds replay every event
of their database, and the session's shared one holds every other test's events, so a
rebuild there costs more the more tests ran before it. Import them into the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from tests.conftest import app_settings, fresh_database, ledger_behind, serve


@pytest.fixture(scope="module")
def location(location: DatabaseLocation) -> Iterator[DatabaseLocation]:
    """This module's database, on the session's server."""
    yield from fresh_database(location)


@pytest.fixture(scope="module")
def settings(location: DatabaseLocation, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return app_settings(location, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    yield from serve(settings)


@pytest.fixture(scope="module")
def ledger(client: TestClient) -> Ledger:
    return ledger_behind(client)
