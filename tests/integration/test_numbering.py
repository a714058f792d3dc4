"""Gapless numbering under concurrency: numbers are distinct and contiguous."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.event_chain import ledger_env
from tests.conftest import LINE, TenantClient, command_context


def number_suffixes(numbers: list[str]) -> list[int]:
    return sorted(int(n.rsplit("-", 1)[1]) for n in numbers)


def test_16_concurrent_clients_finalizing_200_invoices_get_200_contiguous_numbers(
    client: TestClient,
) -> None:
    tenant = TenantClient(client)
    customer = tenant.customer()
    drafts = [tenant.draft(customer, [LINE, LINE, LINE])["id"] for _ in range(200)]

    def finalize(invoice_id: str) -> Any:
        return tenant.post(f"/v1/invoices/{invoice_id}/finalize", {})

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(finalize, drafts))
    assert [r.status_code for r in responses] == [200] * 200
    numbers = [r.json()["number"] for r in responses]
    assert len(set(numbers)) == 200
    assert number_suffixes(numbers) == list(range(1, 201))


def test_two_application_instances_finalizing_concurrently_never_share_or_skip_a_number(
    location: DatabaseLocation,
    client: TestClient,
) -> None:
    # Two Ledger instances stand for two API processes: no in-process lock is shared,
    # so the Sequence conflicts in the database and commands retry.
    tenant = TenantClient(client)
    customer = tenant.customer()
    drafts = [tenant.draft(customer)["id"] for _ in range(60)]
    apps = [Ledger(env=ledger_env(location, 4)) for _ in range(2)]
    try:
        ctx = command_context(tenant.id)

        def finalize(job: tuple[int, str]) -> str:
            index, invoice_id = job
            from uuid import UUID

            invoice = apps[index % 2].finalize_invoice(ctx, UUID(invoice_id))
            assert invoice.number is not None
            return invoice.number

        with ThreadPoolExecutor(16) as pool:
            numbers = list(pool.map(finalize, enumerate(drafts)))
    finally:
        for app in apps:
            app.close()
    assert number_suffixes(numbers) == list(range(1, 61))


def test_a_refused_finalization_takes_no_number(client: TestClient) -> None:
    tenant = TenantClient(client)
    first = tenant.finalized()
    empty = tenant.draft(lines=[])
    refused = tenant.post(f"/v1/invoices/{empty['id']}/finalize", {})
    assert refused.status_code == 409
    second = tenant.finalized()
    assert number_suffixes([first["number"], second["number"]]) == [1, 2]


def test_numbers_restart_each_year_and_carry_the_tenant_prefix(client: TestClient) -> None:
    tenant = TenantClient(client, invoice_prefix="RE")
    last_year = tenant.draft()
    response = tenant.post(f"/v1/invoices/{last_year['id']}/finalize", {"issue_date": "2025-12-30"})
    assert response.json()["number"] == "RE-2025-000001"
    assert tenant.finalized()["number"].startswith("RE-2026-")
