"""`LedgerRepository.prefetch`: several aggregates brought up to date in one query, and
reads that answer from it without going stale."""

from collections.abc import Iterator
from uuid import uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from ledger.application import Ledger
from ledger.context import CommandContext
from ledger.domain.customer import Customer
from ledger.domain.tenant import Tenant
from ledger.errors import NotFound
from ledger.persistence import DatabaseLocation
from projections.event_chain import ledger_env
from tests.conftest import command_context
from tests.tenant_profile import TENANT


@pytest.fixture
def two_processes(location: DatabaseLocation) -> Iterator[tuple[Ledger, Ledger]]:
    apps = (Ledger(env=ledger_env(location, 2)), Ledger(env=ledger_env(location, 2)))
    yield apps
    for app in apps:
        app.close()


def _cached_tenant_and_customer(app: Ledger) -> tuple[Tenant, Customer, CommandContext]:
    """A new tenant and customer, both read into `app`'s cache, and a command context."""
    registration = app.register_tenant(command_context(None, "admin"), dict(TENANT))
    ctx = command_context(registration.tenant.id)
    customer = app.create_customer(ctx, {"name": "Kunde AG", "country": "DE", "kind": "business"})
    app.repository.get(registration.tenant.id)
    app.repository.get(customer.id)
    return registration.tenant, customer, ctx


def _queries(app: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    recorder = app.recorder
    for name in ("select_events", "select_events_after"):
        original = getattr(recorder, name)

        def counted(*args, _name=name, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(recorder, name, counted)
    return seen


def test_one_query_reads_what_another_process_changed_in_each(
    two_processes: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = two_processes
    tenant, customer, ctx = _cached_tenant_and_customer(here)
    there.update_tenant(ctx, {"legal_name": "Neu GmbH"})
    there.update_customer(ctx, customer.id, {"name": "Kunde Neu AG"})
    never_saved = uuid4()

    queries = _queries(here, monkeypatch)
    here.repository.prefetch([tenant.id, customer.id, never_saved])
    read_tenant = here.repository.get(tenant.id)
    read_customer = here.repository.get(customer.id)
    with pytest.raises(AggregateNotFoundError):
        here.repository.get(never_saved)
    assert queries == ["select_events_after"]
    assert read_tenant.profile["legal_name"] == "Neu GmbH"
    assert read_customer.version == customer.version + 1
    # A copy, as every read from the cache is.
    assert read_tenant is not here.repository.held(tenant.id)


def test_what_was_prefetched_answers_once_then_reads_go_to_the_store_again(
    two_processes: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = two_processes
    tenant, _, ctx = _cached_tenant_and_customer(here)
    here.repository.prefetch([tenant.id])
    here.repository.get(tenant.id)
    there.update_tenant(ctx, {"legal_name": "Später GmbH"})
    assert here.repository.get(tenant.id).profile["legal_name"] == "Später GmbH"

    here.repository.prefetch([tenant.id])
    here.repository.forget_prefetched()  # a command's attempt ends
    there.update_tenant(ctx, {"legal_name": "Zuletzt GmbH"})
    assert here.repository.get(tenant.id).profile["legal_name"] == "Zuletzt GmbH"


def test_a_command_forgets_its_prefetch_even_when_it_fails(
    two_processes: tuple[Ledger, Ledger],
) -> None:
    here, there = two_processes
    tenant, _, ctx = _cached_tenant_and_customer(here)
    # Prefetches the invoice and the tenant, and fails on the invoice before it reads the
    # tenant: the tenant's prefetched state must not answer a later read.
    with pytest.raises(NotFound):
        here.finalize_invoice(ctx, uuid4())
    there.update_tenant(ctx, {"legal_name": "Danach GmbH"})
    assert here.repository.get(tenant.id).profile["legal_name"] == "Danach GmbH"
