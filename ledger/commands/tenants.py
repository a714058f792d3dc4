"""Commands on tenants and their API keys."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.base import LedgerBase, Outcome
from ledger.context import CommandContext
from ledger.domain.api_key import ApiKey, Role, hash_secret, key_id_for, new_secret
from ledger.domain.tenant import Tenant, check_tenant_profile
from ledger.errors import InvalidInput

MAX_LOGO_BYTES = 256 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class IssuedKey:
    """A newly issued API key; `secret` exists only here, never in the store."""

    key: ApiKey
    secret: str


@dataclass(frozen=True)
class Registration:
    tenant: Tenant
    owner_key: IssuedKey


class TenantCommands(LedgerBase):
    def register_tenant(self, ctx: CommandContext, profile: dict[str, Any]) -> Registration:
        check_tenant_profile(profile)

        def attempt() -> Outcome[Registration]:
            tenant = Tenant(profile=profile)
            key = self._new_key(tenant.id, "owner", Role.OWNER)
            return Outcome(Registration(tenant, key), [tenant, key.key])

        return self._execute(ctx, attempt)

    def tenant(self, ctx: CommandContext) -> Tenant:
        assert ctx.tenant_id is not None
        return self._load(ctx, Tenant, ctx.tenant_id)

    def update_tenant(self, ctx: CommandContext, changes: dict[str, Any]) -> Tenant:
        check_tenant_profile(changes)

        def attempt() -> Outcome[Tenant]:
            assert ctx.tenant_id is not None
            tenant = self._load_for_change(ctx, Tenant, ctx.tenant_id)
            tenant.update(changes)
            return Outcome(tenant, [tenant])

        return self._execute(ctx, attempt)

    def set_logo(self, ctx: CommandContext, png: bytes | None) -> Tenant:
        """Set (or, with None, remove) the logo shown on the tenant's documents. The caller
        has checked that the bytes are a PNG it can draw."""
        if png is not None and (len(png) > MAX_LOGO_BYTES or not png.startswith(PNG_SIGNATURE)):
            raise InvalidInput(f"a logo is a PNG image of at most {MAX_LOGO_BYTES} bytes")
        digest = hashlib.sha256(png).hexdigest() if png is not None else None
        encoded = base64.b64encode(png).decode() if png is not None else None

        def attempt() -> Outcome[Tenant]:
            assert ctx.tenant_id is not None
            tenant = self._load_for_change(ctx, Tenant, ctx.tenant_id)
            tenant.set_logo(digest, encoded)
            return Outcome(tenant, [tenant])

        return self._execute(ctx, attempt)

    @staticmethod
    def _new_key(tenant_id: UUID, name: str, role: Role) -> IssuedKey:
        secret = new_secret()
        key = ApiKey(
            tenant_id=tenant_id, secret_hash=hash_secret(secret), name=name, role=role.value
        )
        return IssuedKey(key, secret)

    def issue_api_key(self, ctx: CommandContext, name: str, role: Role) -> IssuedKey:
        def attempt() -> Outcome[IssuedKey]:
            assert ctx.tenant_id is not None
            issued = self._new_key(ctx.tenant_id, name, role)
            return Outcome(issued, [issued.key])

        return self._execute(ctx, attempt)

    def revoke_api_key(self, ctx: CommandContext, key_id: UUID) -> ApiKey:
        def attempt() -> Outcome[ApiKey]:
            key = self._load_for_change(ctx, ApiKey, key_id)
            key.revoke()
            return Outcome(key, [key])

        return self._execute(ctx, attempt)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or None."""
        try:
            key: Aggregate = self.repository.get(key_id_for(secret))
        except AggregateNotFoundError:
            return None
        if not isinstance(key, ApiKey) or key.revoked or not key.matches(secret):
            return None
        return key
