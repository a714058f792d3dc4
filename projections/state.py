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


class States:
    """The state of each aggregate after the last event folded into it: an LRU of states,
    falling back to the repository at version n-1 for one it does not hold (or holds at
    another version). One fold can serve several projections: they only read the state."""

    def __init__(self, repository: Repository[UUID], size: int = _CACHE_SIZE) -> None:
        self._repository = repository
        self._size = size
        self._states: OrderedDict[UUID, Aggregate] = OrderedDict()

    def after(self, domain_event: Any) -> Aggregate:
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
        if len(self._states) > self._size:
            self._states.popitem(last=False)
        return state


class StateProjection(Projection[TView], Generic[TView]):
    """Folds each event of the `aggregate_classes` into its aggregate's state and hands the
    state (and the event) to `statements`. The state is the domain's own, so a row is a pure
    function of the events up to it, and a rebuild reproduces exactly what incremental
    processing wrote."""

    aggregate_classes: ClassVar[tuple[type[Aggregate], ...]]
    # True when `statements` write an aggregate's whole row(s) from its state, so that a
    # later event's statements supersede an earlier one's; the row's `position` is taken
    # from its first statement (an upsert that never updates it). See `Rows`.
    supersedes: ClassVar[bool] = False

    def __init__(self, view: TView, repository: Repository[UUID]) -> None:
        super().__init__(view)
        self._states = States(repository)
        self._topics: dict[str, bool] = {}

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if not isinstance(domain_event, tuple(c.Event for c in self.aggregate_classes)):
            self.view.record(tracking)  # events it does not use still move the position
            return
        state = self._states.after(domain_event)
        self.view.record(tracking, self.statements(state, domain_event, tracking.notification_id))

    def process_notifications(
        self, app: Application[UUID], notifications: Sequence[Notification]
    ) -> None:
        """Process consecutive recorded events as `process_event` would one by one, with
        one transaction and one tracking write for all of them. Events of other aggregates
        are recognised by their topic and not even decoded."""
        rows = Rows(self)
        for notification in notifications:
            if not self.uses(notification.topic):
                continue
            domain_event = app.mapper.to_domain_event(notification)
            rows.add(self._states.after(domain_event), domain_event, notification.id)
        self.write(Tracking(app.name, notifications[-1].id), rows.statements(), rows.used)

    def write(self, tracking: Tracking, statements: list[Statement], used: bool) -> None:
        """Write the rows of consecutive events up to `tracking`, of which some were `used`."""
        if used:
            self.view.record(tracking, statements)
        else:
            self.view.skip(tracking)

    def uses(self, topic: str) -> bool:
        """Whether events of this topic are folded into rows (known from the topic alone)."""
        used = self._topics.get(topic)
        if used is None:
            event_classes = tuple(c.Event for c in self.aggregate_classes)
            used = self._topics[topic] = issubclass(resolve_topic(topic), event_classes)
        return used

    def statements(self, state: Any, domain_event: Any, position: int) -> list[Statement]:
        raise NotImplementedError


class Rows:
    """The statements of one projection for consecutive events. For a projection whose
    statements for an aggregate state (`supersedes`) replace the earlier ones, and touch
    only that aggregate's rows, only the state after the aggregate's last event is turned
    into statements, given the position of its first: that is all the earlier ones would
    have left, at a fraction of the cost."""

    def __init__(self, projection: StateProjection[Any]) -> None:
        self.projection = projection
        self.used = False
        self._statements: list[Statement] = []
        self._latest: dict[UUID, tuple[Any, Any, int]] = {}

    def add(self, state: Any, domain_event: Any, position: int) -> None:
        self.used = True
        if not self.projection.supersedes:
            self._statements += self.projection.statements(state, domain_event, position)
            return
        # The state object is kept, not a copy: the aggregate's later events in this batch
        # move it on (or replace it, when it was evicted from the cache and read again).
        earlier = self._latest.get(state.id)
        self._latest[state.id] = (state, domain_event, position if earlier is None else earlier[2])

    def statements(self) -> list[Statement]:
        """The statements, those of superseding rows grouped by their text: an aggregate's
        own statements keep their order, and those of different aggregates (different rows)
        commute, so one discarded draft's DELETE does not split the batch's upserts in two."""
        statements = self._statements
        by_shape: dict[tuple[int, ...], list[list[Statement]]] = {}
        for state, domain_event, position in self._latest.values():
            own = self.projection.statements(state, domain_event, position)
            by_shape.setdefault(tuple(id(query) for query, _ in own), []).append(own)
        for shape, aggregates in by_shape.items():
            for i in range(len(shape)):
                statements += [own[i] for own in aggregates]
        return statements
