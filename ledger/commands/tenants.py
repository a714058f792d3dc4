"""Commands on tenants and their API keys."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.commands.base import LedgerBase, Outcome
from ledger.context import CommandContext
from ledger.domain.api_key import ApiKey, Role, hash_secret, key_id_for, new_secret
from ledger.domain.plan_limits import API_KEYS, PlanCounter, plan_limits
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


# A live key is remembered this long after it was read, so a request costs no lookup.
# A revocation through this process is honoured at once; one made through another
# process (another API worker) is honoured here at most this many seconds later.
KEY_CACHE_SECONDS = 5.0


class TenantCommands(LedgerBase):
    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._live_keys: dict[UUID, tuple[ApiKey, float]] = {}
        self._revocations = 0  # revocations through this process so far

    def register_tenant(self, ctx: CommandContext, profile: dict[str, Any]) -> Registration:
        check_tenant_profile(profile)

        def attempt() -> Outcome[Registration]:
            tenant = Tenant(profile=profile)
            key = self._new_key(tenant.id, "owner", Role.OWNER)
            keys = self._plan_counter(tenant.id, API_KEYS)
            keys.take(1, None)
            return Outcome(Registration(tenant, key), [tenant, key.key, keys])

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

    def set_plan(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        plan: str,
        overrides: dict[str, int | None] | None = None,
    ) -> Tenant:
        """Put a tenant on a service plan (the admin's command: `ctx` has no tenant)."""
        limits = plan_limits(plan, overrides)
        as_tenant = replace(ctx, tenant_id=tenant_id)

        def attempt() -> Outcome[Tenant]:
            tenant = self._load_for_change(as_tenant, Tenant, tenant_id)
            tenant.set_plan(plan, limits)
            return Outcome(tenant, [tenant])

        return self._execute(ctx, attempt)

    def _plan_counter(self, tenant_id: UUID, limit: str, period: str = "") -> PlanCounter:
        """The tenant's counter of a capped thing in a period, opened on first use."""
        try:
            counter: Aggregate = self.repository.get(
                PlanCounter.create_id(tenant_id, limit, period)
            )
        except AggregateNotFoundError:
            return PlanCounter(tenant_id=tenant_id, limit=limit, period=period)
        assert isinstance(counter, PlanCounter)
        return counter

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
            keys = self._plan_counter(ctx.tenant_id, API_KEYS)
            keys.take(1, self.tenant(ctx).cap(API_KEYS))
            return Outcome(issued, [issued.key, keys])

        return self._execute(ctx, attempt)

    def revoke_api_key(self, ctx: CommandContext, key_id: UUID) -> ApiKey:
        def attempt() -> Outcome[ApiKey]:
            key = self._load_for_change(ctx, ApiKey, key_id)
            key.revoke()
            keys = self._plan_counter(key.tenant_id, API_KEYS)
            keys.give_back(1)
            return Outcome(key, [key, keys])

        revoked = self._execute(ctx, attempt)
        self._revocations += 1
        self._live_keys.pop(key_id, None)
        return revoked

    def remembered_key(self, secret: str) -> ApiKey | None:
        """The live key with this secret if it was read lately, without a lookup; None
        tells nothing (ask `authenticate`)."""
        remembered = self._live_keys.get(key_id_for(secret))
        if remembered is None or remembered[1] <= time.monotonic():
            return None
        key = remembered[0]
        return None if key.revoked or not key.matches(secret) else key

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or None (see KEY_CACHE_SECONDS)."""
        key = self.remembered_key(secret)
        if key is not None:
            return key
        key_id = key_id_for(secret)
        revocations = self._revocations
        try:
            found: Aggregate = self.repository.get(key_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(found, ApiKey) or found.revoked or not found.matches(secret):
            return None
        # Not when a revocation happened meanwhile: the key read may predate it.
        if revocations == self._revocations:
            self._live_keys[key_id] = (found, time.monotonic() + KEY_CACHE_SECONDS)
        return found
