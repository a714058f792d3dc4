"""Idempotency records: the first response to a request with an Idempotency-Key."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate

_IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/idempotency")


class IdempotencyRecord(LedgerAggregate):
    """Saved in the same atomic save as the command's events, so a key is consumed
    exactly when the command took effect; a concurrent duplicate conflicts on its id."""

    @staticmethod
    def create_id(scope: str, key: str) -> UUID:
        return uuid5(_IDEMPOTENCY_NAMESPACE, f"{scope}/{key}")

    @event("Recorded")
    def __init__(
        self,
        scope: str,
        tenant_id: UUID | None,
        key: str,
        fingerprint: str,
        status: int,
        body: dict[str, Any],
        subject_id: UUID | None = None,
    ) -> None:
        self.scope = scope
        self.tenant_id = tenant_id  # type: ignore[assignment]
        self.key = key
        self.fingerprint = fingerprint
        self.status = status
        self.body = body
        # The customer whose personal data the body holds: the body is sealed with their key.
        self.subject_id = subject_id
