"""Projections that write one row per aggregate from the aggregate's state after each event."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import Application, Repository
from eventsourcing.domain import Aggregate, CanInitAggregate
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import resolve_topic

from projections.view import Statement, View

TView = TypeVar("TView", bound=View)

_CACHE_SIZE = 10_000


class StateProjection(Projection[TView], Generic[TView]):
    """Folds each event of the `aggregate_classes` into its aggregate's state and hands the
    state (and the event) to `statements`. The state is the domain's own, so a row is a pure
    function of the events up to it, and a rebuild reproduces exactly what incremental
    processing wrote."""

    aggregate_classes: ClassVar[tuple[type[Aggregate], ...]]

    def __init__(self, view: TView, repository: Repository[UUID]) -> None:
        super().__init__(view)
        self._repository = repository
        self._states: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._topics: dict[str, bool] = {}

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if not isinstance(domain_event, tuple(c.Event for c in self.aggregate_classes)):
            self.view.record(tracking)  # events it does not use still move the position
            return
        state = self._state_after(domain_event)
        self.view.record(tracking, self.statements(state, domain_event, tracking.notification_id))

    def process_notifications(
        self, app: Application[UUID], notifications: Sequence[Notification]
    ) -> None:
        """Process consecutive recorded events as `process_event` would one by one, with
        one transaction and one tracking write for all of them. Events of other aggregates
        are recognised by their topic and not even decoded."""
        statements: list[Statement] = []
        used = False
        for notification in notifications:
            if not self._uses(notification.topic):
                continue
            used = True
            domain_event = app.mapper.to_domain_event(notification)
            state = self._state_after(domain_event)
            statements += self.statements(state, domain_event, notification.id)
        tracking = Tracking(app.name, notifications[-1].id)
        if used:
            self.view.record(tracking, statements)
        else:
            self.view.skip(tracking)

    def _uses(self, topic: str) -> bool:
        used = self._topics.get(topic)
        if used is None:
            event_classes = tuple(c.Event for c in self.aggregate_classes)
            used = self._topics[topic] = issubclass(resolve_topic(topic), event_classes)
        return used

    def statements(self, state: Any, domain_event: Any, position: int) -> list[Statement]:
        raise NotImplementedError

    def _state_after(self, domain_event: Any) -> Aggregate:
        aggregate_id = domain_event.originator_id
        if isinstance(domain_event, CanInitAggregate):
            state = domain_event.mutate(None)
        else:
            state = self._states.pop(aggregate_id, None)
            if state is None or state.version != domain_event.originator_version - 1:
                state = self._repository.get(
                    aggregate_id, version=domain_event.originator_version - 1
                )
            domain_event.mutate(state)
        assert state is not None
        self._states[aggregate_id] = state
        if len(self._states) > _CACHE_SIZE:
            self._states.popitem(last=False)
        return state
