"""The sealing mapper: personal fields leave the process encrypted with the customer's key,
come back readable while the key lives, and read as erased once it is destroyed."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot

from ledger.context import acting_as
from ledger.domain.customer import Customer, CustomerErased
from ledger.persistence import OrjsonTranscoder
from ledger.privacy import MemoryKeyRing, SealingMapper
from tests.conftest import command_context

PROFILE = {
    "name": "Jonas Feldkirch",
    "email": "jonas@example.org",
    "address": {"line1": "Am Wall 3", "city": "Bremen", "postal_code": "28195", "country": "DE"},
    "country": "DE",
    "kind": "consumer",
    "vat_id": None,
}


def _customer() -> Customer:
    with acting_as(command_context(None)):
        return Customer(tenant_id=uuid4(), profile=PROFILE)


def test_sealed_fields_round_trip_and_nothing_personal_is_in_the_stored_bytes() -> None:
    mapper = SealingMapper(OrjsonTranscoder(), MemoryKeyRing())
    customer = _customer()
    [created] = customer.collect_events()

    stored = mapper.to_stored_event(created)

    for secret in (b"Jonas", b"jonas@example.org", b"Am Wall"):
        assert secret not in stored.state
    assert b'"DE"' in stored.state  # the country is not personal: it stays readable
    assert mapper.to_domain_event(stored).__dict__["profile"] == PROFILE
    # The event the aggregate holds was not changed by sealing a copy of it.
    assert created.__dict__["profile"]["name"] == "Jonas Feldkirch"


def test_snapshots_are_sealed_too_and_an_erased_subject_reads_as_erased() -> None:
    mapper = SealingMapper(OrjsonTranscoder(), MemoryKeyRing())
    customer = _customer()
    [created] = customer.collect_events()
    stored_event = mapper.to_stored_event(created)
    snapshot = Snapshot.take(customer)  # type: ignore[var-annotated]
    stored_snapshot = mapper.to_stored_event(snapshot)
    assert b"Jonas" not in stored_snapshot.state

    mapper.forget(customer.id)

    opened = mapper.to_domain_event(stored_event).__dict__["profile"]
    assert (opened["name"], opened["email"], opened["address"]) == ("[erased]", None, None)
    assert opened["country"] == "DE"
    state = mapper.to_domain_event(stored_snapshot).__dict__["state"]["profile"]
    assert state["name"] == "[erased]"


def test_nothing_personal_is_sealed_for_an_erased_customer_and_it_cannot_change() -> None:
    mapper = SealingMapper(OrjsonTranscoder(), MemoryKeyRing())
    customer = _customer()
    [created] = customer.collect_events()
    mapper.to_stored_event(created)
    with acting_as(command_context(None)):
        customer.erase(on=date(2026, 11, 23), retained_until=None)
    [erased] = customer.collect_events()
    mapper.forget(customer.id)

    assert b"Jonas" not in mapper.to_stored_event(erased).state
    with pytest.raises(CustomerErased):
        mapper.to_stored_event(created)  # no key: it is refused, never stored in the clear
    with pytest.raises(CustomerErased), acting_as(command_context(None)):
        customer.update({"name": "Someone"})
    assert customer.profile["name"] == "[erased]"
