"""Authentication by API key and authorization by role."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.problems import Unauthorized
from ledger.application import Ledger
from ledger.domain.api_key import Role
from ledger.errors import AccessDenied


class Permission(StrEnum):
    READ = "read"  # the tenant profile, customers, invoices
    WRITE = "write"  # customers and documents
    ADMINISTER = "administer"  # the tenant profile and API keys
    AUDIT = "audit"  # history, past versions, the event feed, verification
    REPORT = "report"  # accountants' reports


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ISSUER: frozenset({Permission.READ, Permission.WRITE}),
    Role.ACCOUNTANT: frozenset({Permission.READ, Permission.REPORT}),
    Role.AUDITOR: frozenset({Permission.READ, Permission.AUDIT, Permission.REPORT}),
}

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer lk_...`")


@dataclass(frozen=True)
class Caller:
    """The authenticated API key making a request."""

    tenant_id: UUID
    key_id: UUID
    role: Role


def ledger_of(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The caller of a request. Async, so it costs no hop to the thread pool when the key
    was seen lately (see ledger KEY_CACHE_SECONDS); only a lookup in the store runs there."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send an API key as `Authorization: Bearer <key>`")
    ledger = ledger_of(request)
    key = ledger.remembered_key(credentials.credentials)
    if key is None:
        key = await run_in_threadpool(ledger.authenticate, credentials.credentials)
    if key is None:
        raise Unauthorized("the API key is unknown or revoked")
    request.state.actor = str(key.id)
    request.state.tenant_id = key.tenant_id  # counted per tenant once answered
    return Caller(tenant_id=key.tenant_id, key_id=key.id, role=key.role)


def _requiring(permission: Permission):  # type: ignore[no-untyped-def]
    async def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        require(caller, permission)
        return caller

    return check


Reader = Annotated[Caller, Depends(_requiring(Permission.READ))]
Writer = Annotated[Caller, Depends(_requiring(Permission.WRITE))]
Administrator = Annotated[Caller, Depends(_requiring(Permission.ADMINISTER))]
Auditor = Annotated[Caller, Depends(_requiring(Permission.AUDIT))]
Reporter = Annotated[Caller, Depends(_requiring(Permission.REPORT))]


def require_admin_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """The bootstrap endpoint is on only when LEDGER_ADMIN_TOKEN is set."""
    token = request.app.state.settings.admin_token
    if token is None:
        raise Unauthorized("tenant sign-up over HTTP is off; use `ledger tenants create`")
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Unauthorized("the admin token is wrong")


AdminToken = Annotated[None, Depends(require_admin_token)]


def require(caller: Caller, permission: Permission) -> None:
    """For the few routes where the permission depends on the query (past versions)."""
    if permission not in ROLE_PERMISSIONS[caller.role]:
        raise AccessDenied(
            f"the {caller.role.value} role may not {permission.value}", role=caller.role.value
        )
