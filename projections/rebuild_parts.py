"""Replaying into scratch tables in several processes at once, each taking part of the
tenants (see `replay_in_parts`).

A rebuild spends most of its time in the interpreter (decoding events, folding them,
building rows), so one process uses one core. No read model mixes tenants, and every event
belongs to its aggregate's tenant (the hash chain records which), so the tenants can be
split between processes: each replays all the events of its tenants in store order, and
writes rows no other process writes. Together they write what one process would.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic
from psycopg import sql

from ledger.persistence import DatabaseLocation

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import SynchronizedArray

    from ledger.application import Ledger
    from projections.rebuild import Progress, Scratch

# Fewer events than this are replayed in this process: starting another costs a second or two.
PARALLEL_FROM = 50_000
_POLL_SECONDS = 0.25


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class Part:
    """The `index`-th of `count` parts of the tenants: those named in `tenants` (events of
    no tenant are under the nil UUID)."""

    index: int
    count: int
    tenants: tuple[UUID, ...]

    def condition(self, tenant_column: str) -> sql.Composable:
        """SQL true for the tenants of this part; takes the parameters `params`."""
        return sql.SQL("{} = ANY(%s)").format(sql.SQL(tenant_column))

    def params(self) -> tuple[list[UUID]]:
        return (list(self.tenants),)

    def tracking_name(self, application_name: str) -> str:
        """The name a part's worker tracks its position under, apart from the others'."""
        return f"{application_name}/part-{self.index}-of-{self.count}"


def balanced_parts(app: Ledger, start: int, stop: int, count: int) -> list[Part]:
    """The tenants with events after `start` up to `stop`, split into `count` parts of about
    as many events each (the largest tenant first into the smallest part): the replay
    lasts as long as its largest part."""
    with app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
        curs.execute(
            "SELECT tenant_id, count(*) AS events FROM event_chain"
            " WHERE position > %s AND position <= %s GROUP BY tenant_id"
            " ORDER BY count(*) DESC, tenant_id",
            (start, stop),
        )
        tenants = [(row["tenant_id"], row["events"]) for row in curs.fetchall()]
    sizes = [0] * count
    members: list[list[UUID]] = [[] for _ in range(count)]
    for tenant, events in tenants:
        smallest = sizes.index(min(sizes))
        sizes[smallest] += events
        members[smallest].append(tenant)
    return [Part(k, count, tuple(members[k])) for k in range(count)]


@dataclass(frozen=True)
class _Job:
    """What a worker process needs to replay its part: where the store is, and for each
    projection its name, its scratch schema, its view's class and tracking table, its
    projection's class, and the position it starts after."""

    location: DatabaseLocation
    part: Part
    stop: int
    batch: int
    projections: tuple[tuple[str, str, str, str, str, int], ...]


@dataclass
class _Replayed:
    """A worker's side of one projection's scratch (see `rebuild_together.Replayed`)."""

    name: str
    projection: Any
    position: int
    replayed: int = 0
    seconds: float = 0.0


@dataclass
class PartsReplayed:
    """Totals of a replay in parts: events read, seconds spent decoding and folding, and
    per projection events replayed and seconds spent on its rows (summed over the parts)."""

    read: int = 0
    shared_seconds: float = 0.0
    replayed: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def every_event_linked(app: Ledger, start: int, stop: int) -> bool:
    """Whether every event after `start` up to `stop` has its link in the hash chain, which
    names its tenant. (Events appended before the chain existed have none: a store holding
    them is replayed in one process.)"""
    with app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
        curs.execute(
            sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM {} e LEFT JOIN event_chain c"
                " ON c.position = e.notification_id WHERE e.notification_id > %s"
                " AND e.notification_id <= %s AND c.position IS NULL) AS unlinked"
            ).format(sql.Identifier(app.recorder.events_table_name)),  # type: ignore[attr-defined]
            (start, stop),
        )
        row = curs.fetchone()
        return row is not None and not row["unlinked"]


def replay_in_parts(
    scratches: list[Scratch],
    location: DatabaseLocation,
    stop: int,
    progress: Progress,
    batch: int,
    workers: int,
) -> PartsReplayed:
    """Replay the events up to `stop` into the scratches in `workers` processes, one part of
    the tenants each. Progress is the position every part has passed."""
    projections = tuple(
        (
            s.name,
            s.schema,
            get_topic(type(s.view)),
            s.view.tracking_table_name,
            get_topic(type(s.projection)),
            s.position,
        )
        for s in scratches
    )
    context = multiprocessing.get_context("spawn")  # no copy of this process's pools, threads
    reached = context.Array("q", workers, lock=False)
    totals = PartsReplayed()
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_share, initargs=(reached,)
    ) as pool:
        futures = [
            pool.submit(_replay_part, _Job(location, part, stop, batch, projections))
            for part in balanced_parts(
                scratches[0].app, min(s.position for s in scratches), stop, workers
            )
        ]
        _follow(futures, reached, stop, progress)
        for future in futures:
            part = future.result()  # raises what the worker raised
            totals.read += part.read
            totals.shared_seconds += part.shared_seconds
            for name, replayed in part.replayed.items():
                totals.replayed[name] = totals.replayed.get(name, 0) + replayed
                totals.seconds[name] = totals.seconds.get(name, 0.0) + part.seconds[name]
    return totals


def _follow(
    futures: list[Future[PartsReplayed]],
    reached: SynchronizedArray[int],
    stop: int,
    progress: Progress,
) -> None:
    while True:
        done, pending = wait(futures, timeout=_POLL_SECONDS, return_when=FIRST_EXCEPTION)
        progress(min(reached[:]), stop)
        if not pending or any(f.exception() is not None for f in done):
            return


_reached: Any = None  # in a worker: the shared positions the parts have reached


def _share(reached: SynchronizedArray[int]) -> None:
    global _reached
    _reached = reached


def _replay_part(job: _Job) -> PartsReplayed:
    """In a worker process: replay the job's part into the scratch tables."""
    from ledger.application import Ledger
    from projections.event_chain import ledger_env
    from projections.rebuild import scratch_view
    from projections.rebuild_together import replay_together

    # The tables exist: several workers creating them at once would race in the catalogue.
    app = Ledger(env={**ledger_env(job.location, 2), "CREATE_TABLE": "n"})
    datastores = []
    try:
        replayed = []
        for name, schema, view_topic, tracking, projection_topic, position in job.projections:
            view_class = resolve_topic(view_topic)
            view, datastore = scratch_view(job.location, schema, view_class, tracking)
            datastores.append(datastore)
            projection = resolve_topic(projection_topic)(view, app.repository)
            replayed.append(_Replayed(name, projection, position))
        index = job.part.index

        def reached(position: int, _stop: int) -> None:
            _reached[index] = position

        read, shared = replay_together(app, replayed, job.stop, reached, job.batch, job.part)
        _reached[index] = job.stop
        return PartsReplayed(
            read,
            shared,
            {r.name: r.replayed for r in replayed},
            {r.name: r.seconds for r in replayed},
        )
    finally:
        for datastore in datastores:
            datastore.close()
        app.close()
