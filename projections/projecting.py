"""Projecting recorded events into every read model a process leads, from one read.

Each event is decoded once and folded once into the aggregate's state, which every
projection using the event reads (`projections.state.States`, as a rebuild does with
`replay_together`); each projection then writes its rows and its position in a
transaction of its own. Projections may stand at different positions (one taken over from
another process a moment ago): an event goes only to those that have not had it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Tracking

from projections.state import Rows, StateProjection, States


@dataclass
class Led:
    """A projection this process leads, and the position it has processed."""

    name: str
    projection: StateProjection[Any]
    position: int


class Projecting:
    """The fold all led projections share; its states outlive a batch, like a projection's
    own did, so the next batch does not read them from the store again."""

    def __init__(self, app: Application[Any]) -> None:
        self._app = app
        self._states = States(app.repository)

    def forget(self) -> None:
        """Drop the states kept (when leading starts over from the tracked positions)."""
        self._states = States(self._app.repository)

    def project(self, led: Sequence[Led], notifications: Sequence[Notification]) -> None:
        rows = [Rows(entry.projection) for entry in led]
        for notification in notifications:
            position, topic = notification.id, notification.topic
            using = [
                i
                for i, entry in enumerate(led)
                if position > entry.position and entry.projection.uses(topic)
            ]
            if not using:
                continue
            domain_event = self._app.mapper.to_domain_event(notification)
            state = self._states.after(domain_event)
            for i in using:
                rows[i].add(state, domain_event, position)
        last = notifications[-1].id
        tracking = Tracking(self._app.name, last)
        for entry, written in zip(led, rows, strict=True):
            if last > entry.position:
                entry.projection.write(tracking, written.statements(), written.used)
                entry.position = last
