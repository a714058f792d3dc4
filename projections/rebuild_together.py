"""Rebuilding several projections in one read of the store (see `replay_together`), each
into its scratch tables beside the live ones and then swapped in as `projections.rebuild`
does for one."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from time import perf_counter as clock
from typing import Any

import psycopg
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections.rebuild import Progress, Scratch
from projections.state import StateProjection, States
from projections.view import Statement, View


@dataclass
class Rebuilt:
    """What a rebuild of several projections did: events read, seconds spent decoding and
    folding them once for all, and per projection the seconds spent on its own rows, their
    writes (in a second thread, meanwhile) and its swap."""

    read: int
    shared_seconds: float
    seconds: dict[str, float]


def rebuild_projections(
    app: Ledger,
    projections: list[tuple[str, View, type[StateProjection[Any]]]],
    location: DatabaseLocation,
    progress: Progress,
    batch: int,
) -> Rebuilt:
    """Rebuild several projections at once (see `replay_together`) and swap each in."""
    with contextlib.ExitStack() as stack:
        scratches = [
            stack.enter_context(Scratch(app, name, live, cls, location))
            for name, live, cls in projections
        ]
        stop = min(s.target() for s in scratches)
        with _fewer_collections():
            read, shared = replay_together(app, scratches, stop, progress, batch)
        for scratch in scratches:
            started = clock()
            scratch.swap(progress, batch)
            scratch.seconds += clock() - started
        return Rebuilt(read, shared, {s.name: s.seconds for s in scratches})


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often meanwhile. A replay allocates millions of
    short-lived objects beside thousands of states it keeps: at the default thresholds the
    collector's passes over those took about a third of a rebuild."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def replay_together(
    app: Ledger, scratches: list[Scratch], stop: int, progress: Progress, batch: int
) -> tuple[int, float]:
    """Replay the recorded events up to `stop` into every scratch in one read of the store:
    each event is decoded once and folded once, into a state that every projection using
    it reads, and each projection gets its rows from that state exactly as it would one by
    one. Return how many events were read, and the seconds spent decoding and folding.

    (Writing a batch's rows from a second thread while the next batch is decoded gained
    nothing: both need the interpreter most of the time.)"""
    starts = [s.position for s in scratches]
    states = States(app.repository)
    users: dict[str, list[int]] = {}  # topic -> the scratches that use it
    read, shared = 0, 0.0
    for notifications in recorded_events(app, min(starts), stop, batch):
        written: list[list[Statement]] = [[] for _ in scratches]
        used = [False] * len(scratches)
        for notification in notifications:
            using = users.get(notification.topic)
            if using is None:
                using = users[notification.topic] = [
                    i for i, s in enumerate(scratches) if s.projection.uses(notification.topic)
                ]
            using = [i for i in using if notification.id > starts[i]]
            if not using:
                continue
            started = clock()
            domain_event = app.mapper.to_domain_event(notification)
            state = states.after(domain_event)
            shared += clock() - started
            # Rows come from the state now: the next event of the aggregate changes it.
            for i in using:
                started = clock()
                used[i] = True
                written[i] += scratches[i].projection.statements(
                    state, domain_event, notification.id
                )
                scratches[i].seconds += clock() - started
        _write(app, scratches, notifications, written, used, progress, stop)
        read += len(notifications)
    for scratch in scratches:
        scratch.position = max(scratch.position, stop)
    return read, shared


def _write(
    app: Ledger,
    scratches: list[Scratch],
    notifications: list[Notification],
    written: list[list[Statement]],
    used: list[bool],
    progress: Progress,
    stop: int,
) -> None:
    last = notifications[-1].id
    for i, scratch in enumerate(scratches):
        if last > scratch.position:
            started = clock()
            scratch.projection.write(Tracking(app.name, last), written[i], used[i])
            scratch.replayed += sum(1 for n in notifications if n.id > scratch.position)
            scratch.position = last
            scratch.seconds += clock() - started
    progress(last, stop)


def recorded_events(app: Ledger, start: int, stop: int, batch: int) -> Iterator[list[Notification]]:
    """The recorded events after `start` up to `stop`, in batches, from one server-side
    cursor in binary format (a query per batch, and rows as dictionaries, cost as much as
    decoding them)."""
    recorder = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    query = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {}"
        " WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id"
    ).format(sql.Identifier(recorder.events_table_name))
    with (
        recorder.datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor(
            name="rebuild_replay", binary=True, row_factory=psycopg.rows.tuple_row
        ) as cursor,
    ):
        cursor.execute(query, (start, stop))
        while rows := cursor.fetchmany(batch):
            yield [
                Notification(
                    id=r[0], originator_id=r[1], originator_version=r[2], topic=r[3], state=r[4]
                )
                for r in rows
            ]
