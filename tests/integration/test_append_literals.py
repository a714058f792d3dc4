"""The recorder writes each append's values into its statements as literals (two round trips
instead of six): whatever a topic or a state holds, it is stored exactly, and the chain over
it verifies. In a database of its own, with no app and no projectors: these events have
topics no class answers to."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.chain_verify import verify
from projections.event_chain import ledger_env
from projections.migrations import migrate
from tests.integration.own_database import location

__all__ = ["location"]

# PostgreSQL text holds any character but NUL; the topic is the one free-text value.
TOPICS = st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=200)


@pytest.fixture(scope="module")
def ledger(location: DatabaseLocation) -> Iterator[Ledger]:
    migrate(location)
    app = Ledger(env=ledger_env(location, 2))
    yield app
    app.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    topics=st.lists(TOPICS, min_size=1, max_size=4),
    states=st.lists(st.binary(max_size=300), min_size=4, max_size=4),
)
def test_any_topic_and_state_is_stored_as_given(
    ledger: Ledger, topics: list[str], states: list[bytes]
) -> None:
    # Not a first version: a first one's state must name its tenant as JSON.
    aggregate = uuid4()
    events = [StoredEvent(aggregate, 2 + i, topic, states[i]) for i, topic in enumerate(topics)]
    positions = ledger.recorder.insert_events(events)

    stored = ledger.recorder.select_events(aggregate)
    assert [(e.originator_version, e.topic, e.state) for e in stored] == [
        (e.originator_version, e.topic, e.state) for e in events
    ]
    assert positions is not None
    assert len(positions) == len(events)
    assert positions == sorted(positions)


def test_the_chain_over_literal_appends_verifies(
    ledger: Ledger, location: DatabaseLocation
) -> None:
    aggregate = uuid4()
    ledger.recorder.insert_events(
        [
            StoredEvent(aggregate, 2, "it's \\ odd", b"\x00'\\x00\xff"),
            StoredEvent(aggregate, 3, "t", b""),
        ]
    )
    assert chain_holds(location)


def test_a_conflicting_append_stores_nothing_and_leaves_the_connection_usable(
    ledger: Ledger, location: DatabaseLocation
) -> None:
    aggregate = uuid4()
    ledger.recorder.insert_events([StoredEvent(aggregate, 2, "t", b"first")])
    with pytest.raises(persistence.IntegrityError):
        ledger.recorder.insert_events(
            [StoredEvent(uuid4(), 2, "t", b"new"), StoredEvent(aggregate, 2, "t", b"again")]
        )
    assert [e.state for e in ledger.recorder.select_events(aggregate)] == [b"first"]
    # The pool's two connections are both fine afterwards: each takes an append.
    for _ in range(3):
        ledger.recorder.insert_events([StoredEvent(uuid4(), 2, "t", b"later")])
    assert chain_holds(location)


def chain_holds(location: DatabaseLocation) -> bool:
    with psycopg.connect(location.conninfo()) as conn:
        return verify(conn, workers=1).ok
