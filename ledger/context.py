"""Who is issuing a command, and under which correlation id, for every event it causes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class IdempotencyClaim:
    """An Idempotency-Key claimed by a command: the response is saved with the command's events.

    `render` turns the command's result into the response body to store; it must not contain
    secrets, as the stored body becomes part of the event store.
    """

    key: str
    fingerprint: str
    status: int
    render: Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class CommandContext:
    """The caller of a command: its tenant, its API key (the actor) and the correlation id."""

    tenant_id: UUID | None
    actor: str
    correlation_id: str
    if_match: int | None = None
    idempotency: IdempotencyClaim | None = None

    def with_tenant(self, tenant_id: UUID) -> CommandContext:
        return replace(self, tenant_id=tenant_id)


SYSTEM = CommandContext(tenant_id=None, actor="system", correlation_id="system")

_current: ContextVar[CommandContext] = ContextVar("ledger_command_context", default=SYSTEM)


def current_context() -> CommandContext:
    return _current.get()


@contextmanager
def acting_as(ctx: CommandContext) -> Iterator[CommandContext]:
    """Events triggered inside this block record `ctx.actor` and `ctx.correlation_id`."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
