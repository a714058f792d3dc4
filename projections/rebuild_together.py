"""Rebuilding several projections in one read of the store (see `replay_together`), each
into its scratch tables beside the live ones and then swapped in as `projections.rebuild`
does for one."""

from __future__ import annotations

import bisect
import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from time import perf_counter as clock
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from ledger.application import Ledger
from ledger.persistence import DatabaseLocation
from projections import rebuild_parts
from projections.rebuild import Progress, Scratch
from projections.state import Rows, StateProjection, States
from projections.view import View

if TYPE_CHECKING:
    from projections.rebuild_parts import Part


class Recorded(NamedTuple):
    """A recorded event as a replay reads it: what eventsourcing's `Notification` holds, as
    a tuple (made in C, where the frozen dataclass costs 1.7 us an event)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


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
    workers: int = 1,
) -> Rebuilt:
    """Rebuild several projections at once (see `replay_together`) and swap each in; with
    several `workers`, a long replay runs in as many processes (`rebuild_parts`)."""
    with contextlib.ExitStack() as stack:
        scratches = [
            stack.enter_context(Scratch(app, name, live, cls, location))
            for name, live, cls in projections
        ]
        stop = min(s.target() for s in scratches)
        start = min(s.position for s in scratches)
        if (
            workers > 1
            and stop - start >= rebuild_parts.PARALLEL_FROM
            and rebuild_parts.every_event_linked(app, start, stop)
        ):
            replayed = rebuild_parts.replay_in_parts(
                scratches, location, stop, progress, batch, workers
            )
            for scratch in scratches:
                scratch.position = max(scratch.position, stop)
                scratch.replayed += replayed.replayed[scratch.name]
                scratch.seconds += replayed.seconds[scratch.name]
            read, shared = replayed.read, replayed.shared_seconds
        else:
            read, shared = replay_together(app, scratches, stop, progress, batch)
        with ThreadPoolExecutor(max(1, workers)) as pool:  # the server analyzes in parallel
            for scratch, seconds in zip(scratches, pool.map(_analyze, scratches), strict=True):
                scratch.seconds += seconds
        for scratch in scratches:
            started = clock()
            scratch.swap(progress, batch)
            scratch.seconds += clock() - started
        return Rebuilt(read, shared, {s.name: s.seconds for s in scratches})


def _analyze(scratch: Scratch) -> float:
    started = clock()
    scratch.analyze()
    return clock() - started


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often meanwhile. A replay allocates millions of
    short-lived objects beside thousands of states it keeps: at the default thresholds the
    collector's passes over those took about a third of a rebuild."""
    thresholds = gc.get_threshold()
    gc.set_threshold(1_000_000, 100, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


class Replayed(Protocol):
    """What a replay writes into and keeps count in: a `Scratch`, or a worker's part of one."""

    projection: StateProjection[Any]
    position: int
    replayed: int
    seconds: float


def replay_together(
    app: Ledger,
    scratches: Sequence[Replayed],
    stop: int,
    progress: Progress,
    batch: int,
    part: Part | None = None,
) -> tuple[int, float]:
    """Replay the recorded events up to `stop` into every scratch in one read of the store:
    each event is decoded once and folded once, into a state that every projection using
    it reads, and each projection gets its rows from that state exactly as it would one by
    one (`Rows`: once per aggregate and batch where later rows supersede earlier ones).
    Return how many events were read, and the seconds spent decoding and folding.

    With a `part`, only the events of that part of the tenants are replayed, and the
    tracking position is written under the part's own name (see `projections.rebuild_parts`).

    (Writing a batch's rows from a second thread while the next batch is decoded gained
    nothing: both need the interpreter most of the time.)"""
    starts = [s.position for s in scratches]
    states = States(app.repository)
    users: dict[str, list[int]] = {}  # topic -> the scratches that use it
    read, shared = 0, 0.0
    tracking_name = app.name if part is None else part.tracking_name(app.name)
    with _fewer_collections():
        for notifications in recorded_events(app, min(starts), stop, batch, part):
            rows = [Rows(s.projection) for s in scratches]
            shared += _fold(app, states, scratches, starts, users, notifications, rows)
            _write(tracking_name, scratches, notifications, rows, progress, stop)
            read += len(notifications)
    for scratch in scratches:
        scratch.position = max(scratch.position, stop)
    return read, shared


def _fold(
    app: Ledger,
    states: States,
    scratches: Sequence[Replayed],
    starts: list[int],
    users: dict[str, list[int]],
    notifications: list[Recorded],
    rows: list[Rows],
) -> float:
    """Decode and fold each event once and hand the state to the `rows` of every scratch
    using it; return the seconds spent decoding and folding."""
    shared = 0.0
    latest_start = max(starts)
    for notification in notifications:
        using = users.get(notification.topic)
        if using is None:
            using = users[notification.topic] = [
                i for i, s in enumerate(scratches) if s.projection.uses(notification.topic)
            ]
        position = notification.id
        if position <= latest_start:  # some scratch has this event already
            using = [i for i in using if position > starts[i]]
        if not using:
            continue
        started = clock()
        domain_event = decoded(app, notification)
        state = states.after(domain_event)
        shared += clock() - started
        for i in using:
            started = clock()
            rows[i].add(state, domain_event, position)
            scratches[i].seconds += clock() - started
    return shared


def _write(
    tracking_name: str,
    scratches: Sequence[Replayed],
    notifications: list[Recorded],
    rows: list[Rows],
    progress: Progress,
    stop: int,
) -> None:
    last = notifications[-1].id
    for scratch, written in zip(scratches, rows, strict=True):
        if last > scratch.position:
            started = clock()
            scratch.projection.write(
                Tracking(tracking_name, last), written.statements(), written.used
            )
            scratch.replayed += len(notifications) - bisect.bisect_right(
                notifications, scratch.position, key=_position
            )
            scratch.position = last
            scratch.seconds += clock() - started
    progress(last, stop)


def _position(notification: Recorded) -> int:
    return notification.id


def recorded_events(
    app: Ledger, start: int, stop: int, batch: int, part: Part | None = None
) -> Iterator[list[Recorded]]:
    """The recorded events after `start` up to `stop`, in batches, from one server-side
    cursor in binary format (a query per batch, and rows as dictionaries, cost as much as
    decoding them); with a `part`, only the events of its tenants."""
    recorder = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    columns = sql.SQL("e.notification_id, e.originator_id, e.originator_version, e.topic, e.state")
    events = sql.SQL("{} e").format(sql.Identifier(recorder.events_table_name))
    scope: sql.Composable = sql.SQL("e.notification_id > %s AND e.notification_id <= %s")
    params: tuple[Any, ...] = (start, stop)
    if part is not None:
        events = sql.SQL("{} JOIN event_chain c ON c.position = e.notification_id").format(events)
        scope = sql.SQL("{} AND {}").format(scope, part.condition("c.tenant_id"))
        params += part.params()
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY e.notification_id").format(
        columns, events, scope
    )
    with (
        recorder.datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor(name="rebuild_replay", binary=True, row_factory=_recorded_row) as cursor,
    ):
        # The cursor's transaction idles while a batch is projected, longer than the
        # datastore's idle-in-transaction limit when batches are big or the machine busy.
        conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
        cursor.execute(query, params)
        while rows := cursor.fetchmany(batch):
            yield rows


def decoded(app: Ledger, recorded: Recorded) -> Any:
    """The domain event a recorded one holds (the mapper reads what a StoredEvent has)."""
    return app.mapper.to_domain_event(cast(StoredEvent, recorded))


def _recorded_row(cursor: Any) -> Callable[[Sequence[Any]], Recorded]:
    return partial(tuple.__new__, Recorded)
