"""The aggregate base: every event records the actor and correlation id that caused it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate

from ledger.context import current_context
from ledger.domain.copying import copied_object
from ledger.errors import InvalidInput


class LedgerAggregate(Aggregate):
    """An aggregate owned by one tenant whose events carry who caused them."""

    tenant_id: UUID

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class: Any, *, id: UUID | None = None, **kwargs: Any) -> Any:
        ctx = current_context()
        kwargs.setdefault("actor", ctx.actor)
        kwargs.setdefault("correlation_id", ctx.correlation_id)
        return super()._create(event_class, id=id, **kwargs)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copied_object(self, memo)

    def trigger_event(self, event_class: type[CanMutateAggregate[UUID]], **kwargs: Any) -> None:
        ctx = current_context()
        kwargs.setdefault("actor", ctx.actor)
        kwargs.setdefault("correlation_id", ctx.correlation_id)
        super().trigger_event(event_class, **kwargs)


def check_rendering(sha256: str, version: int, current_version: int) -> None:
    """A recorded rendering names a SHA-256 digest and a version the document has reached."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("a rendering is recorded as a lowercase hex SHA-256", field="sha256")
    if not 1 <= version <= current_version:
        raise InvalidInput(f"the document has no version {version}", field="version")
