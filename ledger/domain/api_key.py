"""API keys: stored as a SHA-256 hash; the aggregate id is derived from that hash for lookup."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate
from ledger.errors import StateConflict

_KEY_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledger.invalid/api-key")
KEY_PREFIX = "lk_"


class Role(StrEnum):
    OWNER = "owner"
    ISSUER = "issuer"
    ACCOUNTANT = "accountant"
    AUDITOR = "auditor"


def new_secret() -> str:
    """A fresh key: 256 random bits. A plain hash suffices at this entropy (no brute force)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_id_for(secret: str) -> UUID:
    """The aggregate id of the key with this secret, so auth is one lookup by id."""
    return uuid5(_KEY_NAMESPACE, hash_secret(secret))


class ApiKey(LedgerAggregate):
    """A tenant's API key with one role. Revoked keys stay, for the audit trail."""

    @staticmethod
    def create_id(secret_hash: str) -> UUID:
        return uuid5(_KEY_NAMESPACE, secret_hash)

    @event("Issued")
    def __init__(self, tenant_id: UUID, secret_hash: str, name: str, role: str) -> None:
        self.tenant_id = tenant_id
        self.secret_hash = secret_hash
        self.name = name
        self.role = Role(role)
        self.revoked = False

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))

    def revoke(self) -> None:
        if self.revoked:
            raise StateConflict("the API key is already revoked")
        self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.revoked = True
